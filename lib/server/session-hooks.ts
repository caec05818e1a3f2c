/**
 * What a session asks of its server, in one object all sessions share: run
 * a call (after the limits and the memory budget had their say), hand over
 * an event, reach other sessions (broadcast, channels), rotate, log in.
 * The `$tjstp` interface's session methods live here too: `rotate()`,
 * `login(strategy, credentials)` and `logout()`, and `stats()` for an
 * application's admin users (./admin.ts).
 */
import { ErrorCode, LimitName, RemoteError, SessionLossReason } from '../protocol/errors.js';
import type { Application } from './application.js';
import type { Channels } from './channels.js';
import { adminStats } from './admin.js';
import { logCallFailure, type FailureLog } from './failure-log.js';
import { BUILTIN_INTERFACE } from './loader/compile.js';
import type { SessionRegistry } from './registry.js';
import type { ServerSession, ServerSessionHooks } from './session.js';
import type { Logger, Refusal, ServerStats } from './options.js';
import { traceCall, tracingCalls, type CallContext } from './diagnostics.js';

/** The `$tjstp` methods that act on the session, served here rather than by the application. */
const SESSION_METHODS: ReadonlySet<string> = new Set(['rotate', 'login', 'logout', 'stats']);

/** What the authentication hook is asked. */
export interface AuthenticationRequest {
  app: Application;
  /** The handshake's second key (`login` or a custom strategy), or the strategy given to `$tjstp.login`. */
  strategy: string;
  credentials: unknown;
  remoteAddress: string;
}

/**
 * Returns the user name for valid credentials, or null/undefined to refuse
 * (error 11). May throw a RemoteError to answer with another code.
 */
export type Authenticate = (request: AuthenticationRequest) =>
  string | null | undefined | Promise<string | null | undefined>;

export interface SessionHookHost {
  /** Named in what is published about calls (the server). */
  server: object;
  registry: SessionRegistry;
  channels: Channels;
  logger: Logger;
  failures: FailureLog;
  /** Resolves to the user for credentials, or rejects with a RemoteError. */
  authenticate(request: AuthenticationRequest): Promise<string>;
  /** The server is draining: only calls already running may finish. */
  closing(): boolean;
  /** Reports a refusal; returns the error to answer with. */
  refuse(session: ServerSession, refusal: Refusal): RemoteError;
  /** A client's event, after the application's handler saw it. */
  onEvent(session: ServerSession, iface: string, name: string, args: unknown[]): void;
  broadcast(app: string, iface: string, name: string, args: readonly unknown[]): number;
  /** The server's numbers, for `$tjstp.stats` (which decides who may read them). */
  stats(): ServerStats;
}

const loginArguments = (args: unknown[]): { strategy: string; credentials: unknown } => {
  const [strategy, credentials] = args;
  if (typeof strategy !== 'string' || strategy.length === 0 || strategy === 'session' || strategy === 'anonymous') {
    throw new RemoteError(ErrorCode.INVALID_SIGNATURE, 'Invalid argument 1 (strategy): must be a strategy name such as "login"');
  }
  return { strategy, credentials };
};

export const createSessionHooks = (host: SessionHookHost): ServerSessionHooks => {
  const { registry, channels } = host;

  const login = (session: ServerSession, user: string | null): void => {
    if (user !== null && user !== session.user) {
      const over = registry.admission.admitLogin(user);
      if (over !== undefined) throw host.refuse(session, over);
    }
    registry.login(session, user);
  };

  /** `$tjstp` methods that act on the session; undefined for the application's own builtins. */
  const sessionMethod = (session: ServerSession, method: string, args: unknown[]): unknown[] | Promise<unknown[]> | undefined => {
    switch (method) {
      case 'rotate':
        return [registry.rotate(session)];
      case 'stats':
        if (args.length > 0) throw new RemoteError(ErrorCode.INVALID_SIGNATURE, 'Too many arguments: expected 0');
        return [adminStats(session, host.stats(), registry.index.values())];
      case 'logout':
        login(session, null);
        return [];
      case 'login': {
        const { strategy, credentials } = loginArguments(args);
        const remoteAddress = session.transport?.remoteAddress ?? 'unknown';
        return host.authenticate({ app: session.app, strategy, credentials, remoteAddress }).then((user) => {
          login(session, user);
          return [user];
        });
      }
      default:
        return undefined;
    }
  };

  const run = (session: ServerSession, iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]> => {
    if (host.closing()) throw new RemoteError(ErrorCode.SERVER_CLOSING);
    // A call grows the session by at least its reply: not while the budget is spent.
    if (registry.budget.exceeded && !registry.reclaim()) throw host.refuse(session, 'memory');
    if (iface === BUILTIN_INTERFACE) {
      const result = sessionMethod(session, method, args);
      if (result !== undefined) return result;
    }
    return session.app.invoke(session.context, iface, method, args);
  };

  const admitted = (session: ServerSession, iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]> => {
    if (!registry.admission.admitCall(session.peer.runningCount)) throw host.refuse(session, LimitName.CALLS_IN_FLIGHT);
    // An address that was sent more than its share waits: the others' calls run meanwhile.
    const delay = registry.admission.outputDelay(session.share);
    if (delay === 0) return run(session, iface, method, args);
    return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => run(session, iface, method, args));
  };

  return {
    invoke(session, iface, method, args) {
      if (!tracingCalls()) return admitted(session, iface, method, args);
      const { app } = session;
      const known = (iface === BUILTIN_INTERFACE && SESSION_METHODS.has(method)) || app.has(iface, method);
      // Every field from the start: subscribers see one object shape.
      const context: CallContext = {
        server: host.server, app: app.name, version: app.version, iface, method, known, session: session.label,
        transport: session.transport?.kind, startTime: performance.now(), code: undefined, error: undefined, result: undefined,
      };
      return traceCall(context, () => admitted(session, iface, method, args));
    },
    event(session, iface, name, args) {
      session.app.event(session.context, iface, name, args);
      host.onEvent(session, iface, name, args);
    },
    overflow: (session) => registry.end(session, SessionLossReason.OVERFLOW),
    error: (session, error) => logCallFailure(host.failures, host.logger, session, error),
    broadcast: (session, iface, name, args) => host.broadcast(session.app.name, iface, name, args),
    join: (session, channel) => channels.join(session, channel),
    leave: (session, channel) => channels.leave(session, channel),
    publish: (session, channel, iface, name, args) => channels.publish(session.app.name, channel, iface, name, args),
    rotate: (session) => registry.rotate(session),
    login,
  };
};
