/**
 * The one table of error codes tjstp uses, on the wire and locally.
 *
 * Wire codes 1 and 10–17 are the reference's (@metarhia/jstp 2.3.0) and keep
 * their meaning; negative codes never travel on the wire. Everything tjstp
 * throws at a user is a {@link TjstpError} with a stable string `code`.
 */

/** Numeric codes carried in `error:[code, message?, ...info]`. */
export const ErrorCode = {
  /** Local only: the session lost the reply (a legacy peer does not buffer replies). */
  CALLBACK_LOST: -1,
  /** Local only: the transport closed before the handshake reply arrived. */
  NO_HANDSHAKE_RESPONSE: -2,
  /** Generic application error (`throw new RemoteError(1, message)`). */
  GENERIC: 1,
  APP_NOT_FOUND: 10,
  /** Authentication failed, or the session to restore is unknown/expired. */
  AUTH_FAILED: 11,
  INTERFACE_NOT_FOUND: 12,
  INTERFACE_INCOMPATIBLE: 13,
  METHOD_NOT_FOUND: 14,
  NOT_A_SERVER: 15,
  INTERNAL_API_ERROR: 16,
  INVALID_SIGNATURE: 17,
  /** tjstp: the peer broke the protocol; the connection is closed. */
  PROTOCOL_ERROR: 20,
  /** tjstp: a message exceeded the maximum size. */
  MESSAGE_TOO_LARGE: 21,
  /** tjstp: the handshake did not complete in time. */
  HANDSHAKE_TIMEOUT: 22,
  /** tjstp: the server is shutting down. */
  SERVER_CLOSING: 23,
  /** tjstp: the call did not complete within its timeout. */
  CALL_TIMEOUT: 24,
  /** tjstp: the client was closed before the call completed. */
  CLIENT_CLOSED: 25,
  /** tjstp: the session was lost (expired, overflowed, unknown); see `reason`. */
  SESSION_LOST: 26,
  /** tjstp: a value could not be serialized (BigInt, cycle). */
  NOT_SERIALIZABLE: 27,
  /** tjstp: the local send buffer is full. */
  BUFFER_FULL: 28,
  /**
   * tjstp: the call may or may not have run, and its reply is gone: the
   * server stopped while it was running and its result was never stored,
   * or the session was lost after the call was sent. Never run twice by
   * tjstp; make it again only if running it twice is harmless.
   */
  OUTCOME_UNKNOWN: 29,
  /**
   * tjstp: the server's memory budget for sessions is spent and nothing can
   * be evicted: a new session or a call that would grow it is refused, not
   * run. Transient: retry later.
   */
  SERVER_BUSY: 30,
  /**
   * tjstp: an admission limit was hit; `info[0]` names it (see
   * {@link LimitName}). Transient: retry later.
   */
  LIMIT_EXCEEDED: 31,
  /**
   * tjstp: the reason a connection is closed when a restore over another
   * connection took its session over (the client moved on).
   */
  SUPERSEDED: 32,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Default messages, used when a peer sends a bare `[code]`. */
export const defaultMessages: Readonly<Record<number, string>> = {
  [-1]: 'Connection closed before receiving callback',
  [-2]: 'Connection closed before receiving handshake',
  1: 'Error',
  10: 'Application not found',
  11: 'Authentication failed',
  12: 'Interface not found',
  13: 'Incompatible interface',
  14: 'Method not found',
  15: 'Not a server',
  16: 'Internal API error',
  17: 'Invalid signature',
  20: 'Protocol error',
  21: 'Message too large',
  22: 'Handshake timeout',
  23: 'Server is shutting down',
  24: 'Call timeout',
  25: 'Client closed',
  26: 'Session lost',
  27: 'Value is not serializable',
  28: 'Send buffer is full',
  29: 'Outcome unknown: the call may have run, its reply is lost',
  30: 'Server is busy: session memory budget exhausted',
  31: 'Limit exceeded',
  32: 'Session resumed over another connection',
};


/**
 * Why a session can no longer be resumed. Sent as the third element of the
 * handshake error `[11, message, reason]` so a tjstp client can tell them
 * apart; the reference reads only the code.
 */
export const SessionLossReason = {
  NOT_FOUND: 'not_found',
  EXPIRED: 'expired',
  OVERFLOW: 'overflow',
  MISMATCH: 'mismatch',
  CLOSED: 'closed',
  PROTOCOL: 'protocol',
  /** The server evicted the detached session to stay within its memory budget. */
  EVICTED: 'evicted',
  /**
   * The restore was older than what the session already had (counters behind
   * what was acknowledged, or a restore nonce already used): that connection
   * is refused and the session is left as it was.
   */
  STALE: 'stale',
} as const;

export type SessionLossReasonValue =
  (typeof SessionLossReason)[keyof typeof SessionLossReason];

const sessionLossMessages: Record<SessionLossReasonValue, string> = {
  not_found: 'Session not found',
  expired: 'Session expired',
  overflow: 'Session buffer overflowed',
  mismatch: 'Session counters do not match',
  closed: 'Session closed',
  protocol: 'Session closed after a protocol error',
  evicted: 'Session evicted: the server needed the memory',
  stale: 'Restore is stale: the session has moved on',
};

export const sessionLossMessage = (reason: SessionLossReasonValue): string =>
  sessionLossMessages[reason];

const reasons = new Set<string>(Object.values(SessionLossReason));

export const isSessionLossReason = (
  value: unknown,
): value is SessionLossReasonValue =>
  typeof value === 'string' && reasons.has(value);

/** Where a branded class keeps its brand (own property of the class). */
const BRAND: unique symbol = Symbol.for('tjstp.brand');

/**
 * Marks the instances of `type` with `Symbol.for('tjstp.<name>')`, a symbol
 * every copy of tjstp in a process shares, so that `instanceof` holds
 * across copies: the ES and CommonJS builds loaded side by side, or an
 * application's own copy. The name is given, not read: bundlers rename
 * classes.
 */
const brand = (type: abstract new (...args: never[]) => Error, name: string): void => {
  const mark = Symbol.for(`tjstp.${name}`);
  Object.defineProperty(type.prototype, mark, { value: true });
  Object.defineProperty(type, BRAND, { value: mark });
};

/** Base class of every error tjstp raises. */
export class TjstpError extends Error {
  /** Numeric code (see {@link ErrorCode}). */
  readonly code: number;

  constructor(code: number, message?: string, options?: { cause?: unknown }) {
    super(message ?? defaultMessages[code] ?? `Error ${code}`, options);
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * `instanceof` by brand for tjstp's own classes (see `brand`); as usual
   * for a subclass an application makes, which has no brand of its own.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    if (!Object.hasOwn(this, BRAND)) return Function.prototype[Symbol.hasInstance].call(this, value);
    try {
      const mark = (this as unknown as Record<symbol, symbol>)[BRAND] as symbol;
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
    } catch {
      // A hostile proxy is no error of ours.
      return false;
    }
  }
}


/** What {@link RemoteError.is} recognises: a RemoteError of this or another copy of tjstp. */
export interface RemoteErrorLike {
  readonly code: number;
  readonly message?: unknown;
  readonly info?: unknown;
}

/**
 * An error that travels on the wire as `[code, message, ...info]`. Throw it
 * from an application method to answer with that code; anything else thrown
 * becomes `[16]` (details are logged, not sent).
 */
export class RemoteError extends TjstpError {
  readonly info: readonly unknown[];

  constructor(code: number, message?: string, info: readonly unknown[] = []) {
    super(code, message);
    this.info = info;
  }

  /**
   * Whether `value` is a RemoteError of any copy of tjstp (`instanceof` goes
   * by the brand) with an integer code: what may answer a call with its code.
   */
  static is(value: unknown): value is RemoteErrorLike {
    try {
      return value instanceof RemoteError && Number.isSafeInteger((value as { code?: unknown }).code);
    } catch {
      // A hostile proxy is not a RemoteError.
      return false;
    }
  }

  /** This copy's RemoteError for one of any copy: the same object when it already is one. */
  static from(value: RemoteErrorLike): RemoteError {
    // This copy's own class, by prototype: `instanceof` goes by the brand, which any copy (or a look-alike) carries.
    if (Function.prototype[Symbol.hasInstance].call(RemoteError, value)) return value as RemoteError;
    const { message, info } = value;
    return new RemoteError(value.code, typeof message === 'string' ? message : undefined, Array.isArray(info) ? info : []);
  }

  /** The wire form. Standard codes travel without their default message. */
  toJstp(): unknown[] {
    const standard = defaultMessages[this.code] === this.message;
    if (this.info.length > 0) return [this.code, this.message, ...this.info];
    return standard ? [this.code] : [this.code, this.message];
  }

  /** Reads `[code, message?, ...info]`, tolerating what the reference sends. */
  static fromJstp(value: unknown): RemoteError {
    if (typeof value === 'number') return new RemoteError(value);
    if (!Array.isArray(value) || typeof value[0] !== 'number') {
      return new RemoteError(ErrorCode.GENERIC, String(value));
    }
    const [code, message, ...info] = value as [number, unknown, ...unknown[]];
    const text = typeof message === 'string' && message ? message : undefined;
    return new RemoteError(code, text, info);
  }
}

/** The peer violated the protocol; the connection was closed. */
export class ProtocolError extends TjstpError {
  constructor(message: string, code: number = ErrorCode.PROTOCOL_ERROR) {
    super(code, message);
  }
}

/**
 * The session could not be resumed and was replaced or abandoned. A
 * pending call that was never sent fails with it (code 26): it did not
 * run, and making it again is safe. One that was sent fails with
 * {@link OutcomeUnknownError}, a subclass.
 */
export class SessionLostError extends TjstpError {
  readonly reason: SessionLossReasonValue;

  constructor(reason: SessionLossReasonValue, message?: string) {
    super(ErrorCode.SESSION_LOST, message ?? sessionLossMessage(reason));
    this.reason = reason;
  }
}

/**
 * A call the session was lost after sending (code 29): the server may have
 * run it. Still a {@link SessionLostError}, with its `reason`.
 */
export class OutcomeUnknownError extends SessionLostError {
  override readonly code: number = ErrorCode.OUTCOME_UNKNOWN;

  constructor(reason: SessionLossReasonValue) {
    super(reason, `${defaultMessages[ErrorCode.OUTCOME_UNKNOWN]} (${sessionLossMessage(reason).toLowerCase()})`);
  }
}

brand(TjstpError, 'TjstpError');
// Its brand is what `RemoteError.is` looks for too.
brand(RemoteError, 'RemoteError');
brand(ProtocolError, 'ProtocolError');
brand(SessionLostError, 'SessionLostError');
brand(OutcomeUnknownError, 'OutcomeUnknownError');

/**
 * Converts anything an application method threw into its wire form: a
 * RemoteError's own (of any copy of tjstp); anything else, a string or a
 * number too, is `[16]`, so no internal detail reaches the peer (the caller
 * logs it).
 */
export const toWireError = (error: unknown): unknown[] => {
  try {
    if (RemoteError.is(error)) return RemoteError.from(error).toJstp();
  } catch {
    // Its fields threw when read: no wire form but the internal error.
  }
  return [ErrorCode.INTERNAL_API_ERROR];
};

/**
 * The admission limits, as named in `info[0]` of error 31 and in the
 * server's refusal counters.
 */
export const LimitName = {
  /** Live sessions opened from one address (IPv6: one /64). */
  SESSIONS_PER_ADDRESS: 'sessionsPerAddress',
  /** Live sessions of one logged-in user. */
  SESSIONS_PER_LOGIN: 'sessionsPerLogin',
  /** New sessions per second from one address. */
  SESSION_RATE: 'sessionRate',
  /** Restore attempts per minute from one address, failed ones included. */
  RESTORE_RATE: 'restoreRate',
  /** Calls of one session whose methods are still running. */
  CALLS_IN_FLIGHT: 'callsInFlight',
  /** A restore raced another restore of the same session. */
  RESTORE_RACE: 'restoreRace',
} as const;

export type LimitNameValue = (typeof LimitName)[keyof typeof LimitName];

const limitMessages: Record<LimitNameValue, string> = {
  sessionsPerAddress: 'Too many sessions from this address',
  sessionsPerLogin: 'Too many sessions for this user',
  sessionRate: 'Too many new sessions from this address: slow down',
  restoreRate: 'Too many restore attempts from this address: slow down',
  callsInFlight: 'Too many calls in flight in this session',
  restoreRace: 'The session is being restored by another connection',
};

/** The error 31 for a limit: `[31, message, limit]` on the wire. */
export const limitExceeded = (limit: LimitNameValue): RemoteError =>
  new RemoteError(ErrorCode.LIMIT_EXCEEDED, limitMessages[limit], [limit]);
