/**
 * What the server publishes on `node:diagnostics_channel`: calls as a
 * TracingChannel (so OpenTelemetry and APM agents can make spans of them),
 * and the life of sessions and connections as plain channels. The library
 * depends on nothing for this; `metrics.ts` is one subscriber, an agent
 * another.
 *
 * Publishing costs one `hasSubscribers` check when nobody listens: every
 * helper here returns before building a payload. Payloads carry no session
 * id (a session's label at most) and name the {@link Server} they came
 * from, so a subscriber can tell two servers of one process apart.
 */
import diagnostics from 'node:diagnostics_channel';
import { ErrorCode, LimitName, RemoteError, isSessionLossReason, toWireError, type SessionLossReasonValue } from '../protocol/errors.js';
import type { TransportKind } from '../transport/transport.js';
import type { ServerConnection } from './connection.js';
import type { Refusal } from './options.js';
import type { ServerSession } from './session.js';

/** The channels' names, as subscribers spell them. */
export const DiagnosticsChannel = {
  /** TracingChannel: `tracing:tjstp:call:start`, `:end`, `:asyncStart`, `:asyncEnd`, `:error`. Context: {@link CallContext}. */
  CALL: 'tjstp:call',
  /** A new session was opened by a handshake. {@link SessionMessage} */
  SESSION_OPEN: 'tjstp:session:open',
  /** A restore handshake was answered: resumed or refused. {@link ResumeMessage} */
  SESSION_RESUME: 'tjstp:session:resume',
  /** A session's connection went; the session is held for a restore. {@link SessionMessage} */
  SESSION_DETACH: 'tjstp:session:detach',
  /** A session ended for good. {@link SessionEndMessage} */
  SESSION_END: 'tjstp:session:end',
  /** A transport was accepted. {@link ConnectionMessage} */
  CONNECTION_OPEN: 'tjstp:connection:open',
  /** A transport the server accepted is gone. {@link ConnectionMessage} */
  CONNECTION_CLOSE: 'tjstp:connection:close',
  /** A handshake or call was refused by an admission limit or the memory budget. {@link RefusedMessage} */
  REFUSED: 'tjstp:refused',
  /** A peer sent what the protocol does not allow; its connection is closed. {@link MalformedMessage} */
  MALFORMED: 'tjstp:malformed',
} as const;

/** The server a message came from (a `Server`; typed loosely so payloads do not import the server). */
export type DiagnosticsSource = object;

/**
 * The context of one call on `tjstp:call`, from `start` to `end` (a method
 * that answered at once) or to `asyncEnd` (one that returned a promise).
 * Subscribers may add their own fields (a span, a start time).
 */
export interface CallContext {
  readonly server: DiagnosticsSource;
  /** Application name and version. */
  readonly app: string;
  readonly version: string;
  /** As the client sent them: user input. Check `known` before using them as a metric label. */
  readonly iface: string;
  readonly method: string;
  /** Whether the application has this method (else the call is answered 12 or 14). */
  readonly known: boolean;
  /** The session's public label (a hash prefix, never its id). */
  readonly session: string;
  readonly transport: TransportKind | undefined;
  /** `performance.now()` when the server took the call: a duration needs no clock of its own. */
  readonly startTime: number;
  /**
   * Set once the call has finished: 0 for a result, else the error code
   * answered (16 for what the method threw that was not a RemoteError).
   * Still undefined at `end` when the method returned a promise.
   */
  code?: number;
  /** What the method threw or rejected with (as TracingChannel sets it). */
  error?: unknown;
  /** The results array, on success. */
  result?: unknown;
}

export interface SessionMessage {
  readonly server: DiagnosticsSource;
  readonly app: string;
  readonly version: string;
  readonly session: string;
  /** The transport it is attached to; undefined once detached (`tjstp:session:detach`, mostly `end`). */
  readonly transport: TransportKind | undefined;
}

export interface SessionEndMessage extends SessionMessage {
  /** `closed`, `expired`, `overflow`, `evicted`, `protocol`, … */
  readonly reason: SessionLossReasonValue;
}

/**
 * Why a restore was refused: a session loss reason (`not_found`,
 * `expired`, `overflow`, `mismatch`, `evicted`, `stale`, `closed`,
 * `protocol`), a limit (`restoreRate`, `restoreRace`), `app_not_found`
 * (no such application or version here: after a deploy dropped one; the
 * message's `app` is then `unknown`, never the name the client sent),
 * `disconnected` (the client went during the handshake) or `error`
 * (anything else, such as a shared store that failed).
 */
export type ResumeRefusalReason =
  SessionLossReasonValue | typeof LimitName.RESTORE_RATE | typeof LimitName.RESTORE_RACE | 'app_not_found' | 'disconnected' | 'error';

export interface ResumeMessage {
  readonly server: DiagnosticsSource;
  readonly app: string;
  readonly version: string;
  readonly outcome: 'resumed' | 'refused';
  /** Why it was refused; undefined when resumed. */
  readonly reason: ResumeRefusalReason | undefined;
  /** The session's label; undefined when refused (the id named none, or must not be linked to it). */
  readonly session: string | undefined;
  /** Messages the client gets again (0 when refused). */
  readonly replayedMessages: number;
  /** Their size in bytes as the memory budget counts them (one or two a character, as V8 holds the text, and a per-message overhead; 0 when refused). */
  readonly replayedBytes: number;
  /** From the connection being accepted to the answer. */
  readonly seconds: number;
  readonly transport: TransportKind;
}

export interface ConnectionMessage {
  readonly server: DiagnosticsSource;
  readonly transport: TransportKind;
  readonly remoteAddress: string;
}

export interface RefusedMessage {
  readonly server: DiagnosticsSource;
  /** The admission limit (`sessionsPerAddress`, `callsInFlight`, …) or `memory` (the budget, error 30). */
  readonly limit: Refusal;
  readonly remoteAddress: string;
}

/**
 * What was malformed: `json` (not a message), `unexpected` (a message out
 * of place: no handshake first, a second handshake), `pending` (too much
 * sent before the handshake completed), `oversize` (over
 * `maxMessageSize`), `framing` (broken framing or WebSocket frames).
 */
export type MalformedKind = 'json' | 'unexpected' | 'pending' | 'oversize' | 'framing';

export interface MalformedMessage {
  readonly server: DiagnosticsSource;
  readonly kind: MalformedKind;
  readonly transport: TransportKind;
  readonly remoteAddress: string;
  /** The protocol error's text (may quote the peer's input: not a label). */
  readonly message: string;
}

const callChannel = diagnostics.tracingChannel<unknown, CallContext>(DiagnosticsChannel.CALL);
const sessionOpen = diagnostics.channel(DiagnosticsChannel.SESSION_OPEN);
const sessionResume = diagnostics.channel(DiagnosticsChannel.SESSION_RESUME);
const sessionDetach = diagnostics.channel(DiagnosticsChannel.SESSION_DETACH);
const sessionEnd = diagnostics.channel(DiagnosticsChannel.SESSION_END);
const connectionOpen = diagnostics.channel(DiagnosticsChannel.CONNECTION_OPEN);
const connectionClose = diagnostics.channel(DiagnosticsChannel.CONNECTION_CLOSE);
const refusedChannel = diagnostics.channel(DiagnosticsChannel.REFUSED);
const malformedChannel = diagnostics.channel(DiagnosticsChannel.MALFORMED);

/**
 * Whether anyone listens to calls: checked before anything else is done
 * for one. TracingChannel has `hasSubscribers` only from Node 20.13; before
 * that, its channels are asked one by one (otherwise calls would go
 * untraced and uncounted without a word).
 */
export const tracingCalls = (): boolean =>
  callChannel.hasSubscribers ?? (
    callChannel.start.hasSubscribers || callChannel.end.hasSubscribers || callChannel.asyncStart.hasSubscribers ||
    callChannel.asyncEnd.hasSubscribers || callChannel.error.hasSubscribers
  );

/** The code a call is answered with when it throws `thrown`. */
const codeOf = (thrown: unknown): number => {
  const code = toWireError(thrown)[0];
  return typeof code === 'number' ? code : ErrorCode.INTERNAL_API_ERROR;
};

const isThenable = <T>(value: unknown): value is PromiseLike<T> =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';

/**
 * Runs a call under `tjstp:call`, as `tracePromise` would for a promise
 * and `traceSync` for a value: a method may answer either way, and the
 * stores bound to `start` (an agent's AsyncLocalStorage) see it run.
 */
export const traceCall = (context: CallContext, run: () => unknown[] | Promise<unknown[]>): unknown[] | Promise<unknown[]> =>
  // Without a subscriber or store on `start` (metrics listen to the ends only), no runStores and its closures.
  callChannel.start.hasSubscribers ? callChannel.start.runStores(context, () => traced(context, run)) : traced(context, run);

const traced = (context: CallContext, run: () => unknown[] | Promise<unknown[]>): unknown[] | Promise<unknown[]> => {
  let result: unknown[] | Promise<unknown[]>;
  try {
    result = run();
  } catch (thrown) {
    context.code = codeOf(thrown);
    context.error = thrown;
    callChannel.error.publish(context);
    callChannel.end.publish(context);
    throw thrown;
  }
  if (!isThenable<unknown[]>(result)) {
    context.code = 0;
    context.result = result;
    callChannel.end.publish(context);
    return result;
  }
  callChannel.end.publish(context);
  return Promise.resolve(result).then(
    (value) => {
      context.code = 0;
      context.result = value;
      callChannel.asyncStart.publish(context);
      callChannel.asyncEnd.publish(context);
      return value;
    },
    (thrown: unknown) => {
      context.code = codeOf(thrown);
      context.error = thrown;
      callChannel.error.publish(context);
      callChannel.asyncStart.publish(context);
      callChannel.asyncEnd.publish(context);
      throw thrown;
    },
  );
};

const sessionMessage = (server: DiagnosticsSource, session: ServerSession): SessionMessage => ({
  server,
  app: session.app.name,
  version: session.app.version,
  session: session.label,
  transport: session.transport?.kind,
});

export const publishSessionOpen = (server: DiagnosticsSource, session: ServerSession): void => {
  if (sessionOpen.hasSubscribers) sessionOpen.publish(sessionMessage(server, session));
};

export const publishSessionDetach = (server: DiagnosticsSource, session: ServerSession): void => {
  if (sessionDetach.hasSubscribers) sessionDetach.publish(sessionMessage(server, session));
};

export const publishSessionEnd = (server: DiagnosticsSource, session: ServerSession, reason: SessionLossReasonValue): void => {
  if (sessionEnd.hasSubscribers) sessionEnd.publish({ ...sessionMessage(server, session), reason } satisfies SessionEndMessage);
};

const secondsSince = (connection: ServerConnection): number => (performance.now() - connection.acceptedAt) / 1000;

/** A restore resumed `session`; call right after its outbox was replayed (what is left in it is what was). */
export const publishResumed = (server: DiagnosticsSource, connection: ServerConnection, session: ServerSession, replayed: number): void => {
  if (!sessionResume.hasSubscribers) return;
  // Bytes as the memory budget counts them (the outbox keeps the sum).
  const bytes = session.peer.state.outbox.bytes;
  sessionResume.publish({
    server,
    app: session.app.name,
    version: session.app.version,
    outcome: 'resumed',
    reason: undefined,
    session: session.label,
    replayedMessages: replayed,
    replayedBytes: bytes,
    seconds: secondsSince(connection),
    transport: connection.transport.kind,
  } satisfies ResumeMessage);
};

/** The bounded reason a restore was refused with `error`. */
export const resumeRefusalReason = (error: unknown): ResumeRefusalReason => {
  if (error instanceof RemoteError) {
    const [info] = error.info;
    if (error.code === ErrorCode.AUTH_FAILED && isSessionLossReason(info)) return info;
    if (error.code === ErrorCode.APP_NOT_FOUND) return 'app_not_found';
    if (error.code === ErrorCode.LIMIT_EXCEEDED && (info === LimitName.RESTORE_RATE || info === LimitName.RESTORE_RACE)) return info;
  }
  if (error instanceof Error && (error as { code?: unknown }).code === ErrorCode.NO_HANDSHAKE_RESPONSE) return 'disconnected';
  return 'error';
};

/** Runs a restore; publishes its refusal if it fails (its success is published by {@link publishResumed}). */
export const traceRestore = <T>(
  server: DiagnosticsSource,
  connection: ServerConnection,
  app: { name: string; version: string },
  run: () => T | Promise<T>,
): T | Promise<T> => {
  const refused = (error: unknown): never => {
    if (sessionResume.hasSubscribers) {
      sessionResume.publish({
        server,
        app: app.name,
        version: app.version,
        outcome: 'refused',
        reason: resumeRefusalReason(error),
        session: undefined,
        replayedMessages: 0,
        replayedBytes: 0,
        seconds: secondsSince(connection),
        transport: connection.transport.kind,
      } satisfies ResumeMessage);
    }
    throw error;
  };
  let result: T | Promise<T>;
  try {
    result = run();
  } catch (error) {
    return refused(error);
  }
  return result instanceof Promise ? result.catch(refused) : result;
};

const connectionMessage = (server: DiagnosticsSource, connection: ServerConnection): ConnectionMessage =>
  ({ server, transport: connection.transport.kind, remoteAddress: connection.transport.remoteAddress });

export const publishConnectionOpen = (server: DiagnosticsSource, connection: ServerConnection): void => {
  if (connectionOpen.hasSubscribers) connectionOpen.publish(connectionMessage(server, connection));
};

export const publishConnectionClose = (server: DiagnosticsSource, connection: ServerConnection): void => {
  if (connectionClose.hasSubscribers) connectionClose.publish(connectionMessage(server, connection));
};

export const publishRefused = (server: DiagnosticsSource, limit: Refusal, remoteAddress: string): void => {
  if (refusedChannel.hasSubscribers) refusedChannel.publish({ server, limit, remoteAddress } satisfies RefusedMessage);
};

export const publishMalformed = (server: DiagnosticsSource, connection: ServerConnection, kind: MalformedKind, error: unknown): void => {
  if (!malformedChannel.hasSubscribers) return;
  const { kind: transport, remoteAddress } = connection.transport;
  const message = error instanceof Error ? error.message : String(error);
  malformedChannel.publish({ server, kind, transport, remoteAddress, message } satisfies MalformedMessage);
};
