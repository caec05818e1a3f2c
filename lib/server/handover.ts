/**
 * Sessions handed from one server process to the next: a server that
 * stops saves its sessions as records ({@link SavedSession}), and the one
 * that starts takes them up, each held for a restore as if its client had
 * just disconnected. What was running when the old process stopped is in
 * doubt: those calls are answered 29 and never run again.
 *
 * Records come from outside the process (a file, a store), so each is
 * checked before it is trusted; a bad one is skipped, never fatal.
 */
import { isCount } from '../protocol/message.js';
import type { MemoryMeter } from '../session/memory.js';
import type { SessionSnapshot } from '../session/state.js';
import type { ApplicationRegistry } from './application.js';
import type { SessionRegistry } from './registry.js';
import { ServerSession, type ServerSessionHooks, type SessionLimits } from './session.js';
import type { SavedSession, ServerSessionRecord } from './session-store.js';

export interface HandoverContext {
  readonly applications: ApplicationRegistry;
  readonly registry: SessionRegistry;
  readonly limits: SessionLimits;
  readonly hooks: ServerSessionHooks;
  readonly meter: MemoryMeter;
}

/** What {@link reviveSessions} did. */
export interface RevivalReport {
  /** Sessions held for a restore now. */
  revived: number;
  /** Calls of theirs that were running when the old process stopped, answered 29. */
  inDoubt: number;
  /** Records not taken up, with why (no such application any more, malformed). */
  skipped: { app: string; why: string }[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);


const isSnapshot = (value: unknown): value is SessionSnapshot => {
  if (!isObject(value)) return false;
  const { lastSeq, received, acked, outbox } = value;
  if (!isCount(lastSeq) || !isCount(received) || !isCount(acked) || acked > lastSeq) return false;
  if (!Array.isArray(outbox)) return false;
  let previous = acked;
  for (const entry of outbox) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isCount(entry[0]) || typeof entry[1] !== 'string') return false;
    // In order, within what was sent and not acknowledged.
    if (entry[0] <= previous || entry[0] > lastSeq) return false;
    previous = entry[0];
  }
  return true;
};

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** The record, checked field by field, or why it cannot be taken up. */
export const readSavedSession = (value: unknown): SavedSession | string => {
  if (!isObject(value) || typeof value.key !== 'string' || value.key.length === 0 || !isObject(value.record)) return 'not a saved session';
  const record = value.record;
  if (typeof record.app !== 'string' || typeof record.version !== 'string') return 'no application';
  if (record.user !== null && typeof record.user !== 'string') return 'bad user';
  if (!isObject(record.state)) return 'bad state';
  if (!isSnapshot(record.peer)) return 'bad counters or outbox';
  if (!isStringArray(record.channels)) return 'bad channels';
  if (!isCount(record.createdAt)) return 'bad creation time';
  const { binding, origin, previous, inDoubt } = record;
  if (binding !== undefined && !(isObject(binding) && typeof binding.secret === 'string' && isCount(binding.nonce))) return 'bad binding';
  if (origin !== undefined && typeof origin !== 'string') return 'bad origin';
  if (previous !== undefined && !(Array.isArray(previous) && previous.every((entry) => isObject(entry) &&
    typeof entry.key === 'string' && typeof entry.secret === 'string' && isCount(entry.seq)))) return 'bad previous keys';
  if (inDoubt !== undefined && !(Array.isArray(inDoubt) && inDoubt.every((id) => Number.isSafeInteger(id)))) return 'bad calls in doubt';
  return { key: value.key, record: record as unknown as ServerSessionRecord };
};

/**
 * Takes up saved sessions: each on its application's saved version, or
 * else the newest version of that application (a deploy changes versions,
 * and the session is the user's, not the version's).
 */
export const reviveSessions = (saved: readonly unknown[], context: HandoverContext): RevivalReport => {
  const report: RevivalReport = { revived: 0, inDoubt: 0, skipped: [] };
  for (const value of saved) {
    const read = readSavedSession(value);
    if (typeof read === 'string') {
      report.skipped.push({ app: '?', why: read });
      continue;
    }
    const { key, record } = read;
    const app = context.applications.resolve(record.app, record.version) ?? context.applications.resolve(record.app);
    if (app === undefined) {
      report.skipped.push({ app: record.app, why: 'no such application' });
      continue;
    }
    if (context.registry.index.get(key) !== undefined) {
      report.skipped.push({ app: record.app, why: 'already here' });
      continue;
    }
    const session = new ServerSession({
      key,
      app,
      user: record.user,
      limits: context.limits,
      hooks: context.hooks,
      state: record.state,
      snapshot: record.peer,
      createdAt: record.createdAt,
      origin: record.origin,
      secret: record.binding?.secret,
      nonce: record.binding?.nonce,
      previous: record.previous,
      meter: context.meter,
    });
    context.registry.revive(session, record.channels);
    if (record.inDoubt !== undefined && record.inDoubt.length > 0) {
      session.peer.answerInDoubt(record.inDoubt);
      report.inDoubt += record.inDoubt.length;
    }
    report.revived++;
  }
  return report;
};
