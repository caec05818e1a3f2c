/**
 * The server's options, events and reports, and its loggers: what a user
 * of `Server` reads, apart from how it works.
 */
import type { AdmissionLimits } from './admission.js';
import type { FailureLogOptions } from './failure-log.js';
import type { Application, ApplicationDefinition } from './application.js';
import type { LimitNameValue, SessionLossReasonValue } from '../protocol/errors.js';
import type { RestoreOptions } from './restore.js';
import type { Authenticate } from './session-hooks.js';
import type { ServerSession, SessionLimits } from './session.js';
import type { SessionStore } from './session-store.js';

/**
 * Where the server writes. `console`, a pino or a bunyan logger fit as
 * they are. An error and what was thrown with it come the way pino and
 * bunyan read them: `error(thrown, message)`, the thrown Error first
 * (their `err` field), or `{ err: value }` when what was thrown is not an
 * Error; `console.error` prints both. Without a cause: `error(message)`.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  error(error: object, message: string): void;
  /**
   * Optional, as pino and bunyan have it: a logger adding `fields` to each
   * line. The server hands a line's {@link LogFields} this way, so a
   * structured logger gets them as fields; a logger without `child` (a
   * text log, `console`) gets the same line, the fields only in its words.
   */
  child?(fields: LogFields): Logger;
}

/**
 * What a line is about, for a structured log: the application
 * (`name@version`), the session's label (`s:…`, a hash prefix — never its
 * id) and why (a refusal's reason). Each only when the line has it.
 */
export type LogFields = { app?: string; session?: string; reason?: string };

/** `logger` with `fields` on every line, when there are some and it takes them (has `child`); else `logger` itself. */
export const withFields = (logger: Logger, fields: LogFields | undefined): Logger =>
  fields !== undefined && typeof logger.child === 'function' ? logger.child(fields) : logger;

/** Logs `message` with what was thrown, as {@link Logger} says. */
export const logError = (logger: Logger, message: string, thrown: unknown): void => {
  if (thrown === undefined) return logger.error(message);
  // Anything but an Error first would be taken by pino for the message (a string) or merged into the line (an object).
  logger.error(thrown instanceof Error ? thrown : { err: thrown }, message);
};

/** For a Logger's own `error`: its arguments in either form as the message and what was thrown, `{ err }` unwrapped. */
export const readErrorArguments = (first: string | object, message?: string): { message: string; thrown?: unknown } => {
  if (message === undefined) return { message: String(first) };
  const wrapped = typeof first === 'object' && !(first instanceof Error) && Object.keys(first).length === 1 && 'err' in first;
  return { message, thrown: wrapped ? (first as { err: unknown }).err : first };
};

export interface ServerOptions extends Partial<AdmissionLimits>, Partial<RestoreOptions> {
  applications: Iterable<Application | ApplicationDefinition>;
  authenticate?: Authenticate;
  session?: Partial<SessionLimits>;
  /**
   * Bytes all sessions together may hold: outboxes, calls running, what
   * connections queue during handshakes, and each session's own state.
   * Past it held sessions are evicted, largest first; then new sessions and
   * calls are refused with 30. Default: half the V8 heap limit.
   */
  maxSessionMemory?: number;
  /** ms to complete a handshake (and a WebSocket upgrade). Default 3000, as the reference. */
  handshakeTimeout?: number;
  /** ms between heartbeat checks; 0 disables. Default 15000. */
  heartbeatInterval?: number;
  /** Largest message accepted, bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Unsent bytes past which a client that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /** Messages queued while an asynchronous handshake runs. Default 1000. */
  maxPendingMessages?: number;
  /** …and their total size in bytes. Default 4 MiB. */
  maxPendingBytes?: number;
  /** ms `close()` lets connections close gracefully before dropping them. Default 1000. */
  closeGrace?: number;
  /** ms `close()` waits for calls in flight to finish. Default 10,000. */
  drainTimeout?: number;
  /**
   * Where sessions live beyond this process (Redis: `RedisSessionStore`),
   * shared by every node that serves the same applications. Default none:
   * sessions live in this process's memory.
   */
  store?: SessionStore;
  /**
   * With a store: how long a restore here waits for another node that is
   * stopping to finish parking the session, ms. Default 3000.
   */
  parkWait?: number;
  logger?: Logger;
  /** How many failures of one method or event handler are logged in full. Default `{ burst: 5, interval: 60_000, maxSources: 1000 }`. */
  failureLog?: FailureLogOptions;
}

/** What a refusal was for: an admission limit, or the memory budget. */
export type Refusal = LimitNameValue | 'memory';

export interface ServerEvents {
  [event: string]: unknown[];
  session: [session: ServerSession];
  resume: [session: ServerSession, replayed: number];
  detach: [session: ServerSession];
  end: [session: ServerSession, reason: SessionLossReasonValue];
  event: [session: ServerSession, iface: string, name: string, args: unknown[]];
  /** A handshake or call was refused by a limit (error 31) or the memory budget (error 30). */
  refused: [refusal: Refusal, remoteAddress: string];
  error: [error: unknown];
}

/** What `server.stats()` reports. */
export interface ServerStats {
  sessions: number;
  /** Of which detached, held for a restore. */
  held: number;
  connections: number;
  /** Bytes charged to the budget, and the budget. */
  memory: { used: number; limit: number };
  /** Refusals since start, by limit (`memory` for the budget). */
  refusals: Record<string, number>;
  /** Sessions evicted since start to stay within the budget. */
  evicted: number;
  /** Calls since start that waited because their address had been sent more than its output share. */
  deferredCalls: number;
}

/** A Logger's `error` arguments as one text: the message, then what was thrown (an Error's stack). */
export const errorText = (first: string | object, second?: string): string => {
  const { message, thrown } = readErrorArguments(first, second);
  if (thrown === undefined) return message;
  return `${message}: ${thrown instanceof Error ? thrown.stack ?? thrown.message : String(thrown)}`;
};

/** `console`, the message first. */
export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (first: string | object, second?: string) => {
    const { message, thrown } = readErrorArguments(first, second);
    if (second === undefined) console.error(message);
    else console.error(message, thrown);
  },
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
