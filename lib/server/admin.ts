/**
 * What an application lets its admin users read of the server: off unless
 * its definition (application.json) says
 *
 *   "admin": { "users": ["ops"], "stats": true }
 *
 * Then a session logged in as one of `users` may call `$tjstp.stats()`:
 * the server's numbers ({@link ServerStats}) and this application's
 * sessions by version. Counts only: no session, id, label, user or address
 * is ever in it. Other sessions are answered 14 (an application that does
 * not offer it) or 11 (not logged in as an admin user).
 */
import { ErrorCode, RemoteError } from '../protocol/errors.js';
import type { ServerStats } from './options.js';

/** `admin` of an application definition (application.json). */
export interface AdminOptions {
  /** Users (as the authentication hook names them) who may call the admin methods. */
  users: readonly string[];
  /** `$tjstp.stats()` answers them. Default false. */
  stats?: boolean;
}

/** Sessions of one application version: all, and of them detached (held for a restore). */
export interface VersionSessions {
  sessions: number;
  held: number;
}

/** What `$tjstp.stats()` answers: the server's numbers, and the calling application's. */
export interface AdminStats extends ServerStats {
  /** When it was taken (ISO 8601). */
  at: string;
  application: { name: string; versions: Record<string, VersionSessions> };
}

/** Why `value` is not {@link AdminOptions}, or undefined when it is. */
export const adminOptionsProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object: { "users": ["name", …], "stats": true }';
  const unknown = Object.keys(value).filter((key) => key !== 'users' && key !== 'stats');
  if (unknown.length > 0) return `unknown key(s) ${unknown.join(', ')} (allowed: users, stats)`;
  const { users, stats } = value as Record<string, unknown>;
  if (!Array.isArray(users) || !users.every((user) => typeof user === 'string' && user !== '')) return 'users must be a list of user names';
  if (stats !== undefined && typeof stats !== 'boolean') return 'stats must be true or false';
  return undefined;
};

/** What the stats need of the calling session. */
export interface AdminCaller {
  readonly user: string | null;
  readonly app: { readonly name: string; readonly version: string; readonly admin: AdminOptions | undefined };
}

/** What they count of each session. */
export interface CountedSession {
  readonly attached: boolean;
  readonly ended: boolean;
  readonly app: { readonly name: string; readonly version: string };
}

/**
 * Answers `$tjstp.stats()` for `caller`, or throws the RemoteError that
 * refuses it. `sessions` are the server's (only the caller's
 * application's are counted by version).
 */
export const adminStats = (caller: AdminCaller, stats: ServerStats, sessions: Iterable<CountedSession>): AdminStats => {
  const { app } = caller;
  if (app.admin?.stats !== true) {
    throw new RemoteError(ErrorCode.METHOD_NOT_FOUND, `${app.name} does not offer $tjstp.stats (its application.json has no "admin": { "users": […], "stats": true })`);
  }
  if (caller.user === null || !app.admin.users.includes(caller.user)) {
    throw new RemoteError(ErrorCode.AUTH_FAILED, `$tjstp.stats is for the admin users of ${app.name}: log in as one`);
  }
  const versions: Record<string, VersionSessions> = Object.create(null) as Record<string, VersionSessions>;
  for (const session of sessions) {
    if (session.app.name !== app.name || session.ended) continue;
    const counted = (versions[session.app.version] ??= { sessions: 0, held: 0 });
    counted.sessions++;
    if (!session.attached) counted.held++;
  }
  // A plain object again, so that it serializes as any other result.
  return { ...stats, at: new Date().toISOString(), application: { name: app.name, versions: { ...versions } } };
};
