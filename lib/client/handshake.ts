/**
 * The client's half of the handshake rules: what hello to send, and whether
 * the server's answer to a restore can be trusted. Kept apart from the
 * client's state machine so each can be read on its own.
 */
import { isCount, type HelloOptions } from '../protocol/message.js';
import { isHexKey } from '../protocol/restore.js';
import type { SessionState } from '../session/state.js';
import { restoreProof } from './proof.js';

/** What a tjstp server tells the client about its session limits. */
export interface ServerLimits {
  /** Unacknowledged bytes the server holds for the session. */
  maxBufferedBytes: number;
  /** ms the server holds a detached session. */
  holdTime: number;
  /**
   * Messages and bytes the server queues from a connection until its
   * handshake completes: the bound of a resume's early replay. Absent when
   * the server did not say (the client then replays after the reply).
   */
  maxPendingMessages?: number;
  maxPendingBytes?: number;
}

export interface HelloInput {
  app: string;
  version: string | undefined;
  login: { user: string; password: string } | undefined;
  auth: { strategy: string; credentials: unknown } | undefined;
  /** Set when resuming: the session's key (when the server gave one) and this restore's nonce. */
  session: { id: string; state: SessionState; legacyPeer: boolean; key: string | undefined; nonce: number } | undefined;
  /** For a new session after one was lost: what the application kept of it (`resumeState`). */
  resume?: unknown;
}

/** What a tjstp client says of itself in a new session's hello: it can prove a key. */
const TJSTP_HELLO = { version: 1 };

/**
 * A restore carries `[id, sent, received, nonce, proof]` for a session the
 * server gave a key, `[id, sent, received]` to a tjstp server that gave
 * none, and the reference's `[id, received]` to a legacy one. A new
 * session's hello logs in, uses a custom strategy, or is anonymous, and
 * says it comes from a tjstp client.
 */
export const helloFor = ({ app, version, login, auth, session, resume }: HelloInput): HelloOptions => {
  if (session) {
    const { id, state, legacyPeer, key, nonce } = session;
    const { lastSeq: sent, received } = state;
    let credentials: unknown[];
    if (legacyPeer) credentials = [id, received];
    else if (key === undefined) credentials = [id, sent, received];
    else credentials = [id, sent, received, nonce, restoreProof(key, id, sent, received, nonce)];
    return { app, version, strategy: 'session', credentials };
  }
  const tjstp = resume === undefined ? TJSTP_HELLO : { ...TJSTP_HELLO, resume };
  if (login) return { app, version, strategy: 'login', credentials: [login.user, login.password], tjstp };
  return { app, version, ...auth, tjstp };
};

/** The session key and user a tjstp server sent with a new session's welcome. */
export const readBinding = (extension: Record<string, unknown> | undefined): { key: string; user: string | null } | undefined => {
  if (!extension || !isHexKey(extension.key)) return undefined;
  const { user } = extension;
  return { key: extension.key, user: typeof user === 'string' ? user : null };
};


/**
 * The server's `received` from a restore reply, checked against our
 * counters: it cannot have received more than we sent nor less than it
 * acknowledged, and cannot have sent less than we accepted. Undefined when
 * they cannot match: the session is then unusable.
 */
export const readRestoreReply = (ok: unknown, state: SessionState, legacyPeer: boolean): number | undefined => {
  if (legacyPeer) return isCount(ok) && ok <= state.lastSeq ? ok : undefined;
  if (!Array.isArray(ok) || ok.length !== 2) return undefined;
  const [sent, received] = ok as unknown[];
  if (!isCount(sent) || !isCount(received)) return undefined;
  if (received > state.lastSeq || received < state.acked || sent < state.received) return undefined;
  return received;
};

/** The limits in a welcome's `tjstp` extension, if the server sent them. */
export const readServerLimits = (extension: Record<string, unknown> | undefined): ServerLimits | undefined => {
  if (!extension) return undefined;
  const { maxBufferedBytes, holdTime, maxPendingMessages, maxPendingBytes } = extension;
  if (!isCount(maxBufferedBytes) || !isCount(holdTime)) return undefined;
  if (!isCount(maxPendingMessages) || !isCount(maxPendingBytes)) return { maxBufferedBytes, holdTime };
  return { maxBufferedBytes, holdTime, maxPendingMessages, maxPendingBytes };
};

/**
 * How much of the outbox may go out behind a restore hello: within the
 * client's own budget and what the server said it queues while a
 * handshake runs. Nothing when the server never said.
 */
export const earlyReplayBudget = (
  limits: ServerLimits | undefined,
  maxBytes: number,
): { messages: number; bytes: number } => {
  if (limits?.maxPendingMessages === undefined || limits.maxPendingBytes === undefined) return { messages: 0, bytes: 0 };
  return { messages: limits.maxPendingMessages, bytes: Math.min(maxBytes, limits.maxPendingBytes) };
};
