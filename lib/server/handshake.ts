/**
 * The handshake rules, apart from the server's plumbing: reading a restore
 * request in either form, checking that both sides' counters can still be
 * reconciled, and the replies.
 *
 * tjstp restore:   {handshake:[0,app],session:[id, sent, received]}
 *           reply: {handshake:[0],ok:[sent, received],tjstp:{…}}
 * legacy restore:  {handshake:[0,app],session:[id, received]}
 *           reply: {handshake:[0],ok:received}
 * `sent` is the last sequence number the side used, `received` the last of
 * the peer's it accepted; both unsigned.
 */
import {
  ErrorCode,
  RemoteError,
  SessionLossReason,
  sessionLossMessage,
  type SessionLossReasonValue,
} from '../protocol/errors';
import { isCount } from '../protocol/message';
import type { SessionState } from '../session/state';
import type { SessionLimits } from './session';

export interface RestoreRequest {
  id: string;
  /** Absent in the reference's two-element form. */
  sent: number | undefined;
  received: number;
}


/** Reads `session:[id, sent, received]` or `session:[id, received]`. */
export const readRestoreRequest = (credentials: unknown): RestoreRequest | undefined => {
  if (!Array.isArray(credentials) || typeof credentials[0] !== 'string') return undefined;
  const [id, first, second] = credentials as [string, unknown, unknown];
  if (id.length === 0 || id.length > 256) return undefined;
  if (credentials.length === 2 && isCount(first)) {
    return { id, sent: undefined, received: first };
  }
  if (credentials.length === 3 && isCount(first) && isCount(second)) {
    return { id, sent: first, received: second };
  }
  return undefined;
};

/**
 * Whether this side can resume with a peer reporting `request`: the peer
 * cannot have received more than was sent, nor less than it already
 * acknowledged (those messages are gone from the outbox), and it cannot
 * have sent less than this side accepted. Returns the `received` to
 * reconcile with, or undefined on a mismatch.
 */
export const reconcilable = (state: SessionState, request: RestoreRequest): number | undefined => {
  if (request.received > state.lastSeq) return undefined;
  if (request.sent === undefined) {
    // The reference counts only calls, events, inspects and pings, not our
    // sequenced replies, so it may report less than it acknowledged.
    return Math.max(request.received, state.acked);
  }
  if (request.received < state.acked) return undefined;
  if (request.sent < state.received) return undefined;
  return request.received;
};

/** The handshake error for a session that cannot be resumed. */
export const sessionLost = (reason: SessionLossReasonValue): RemoteError =>
  new RemoteError(ErrorCode.AUTH_FAILED, sessionLossMessage(reason), [reason]);

export const sessionNotFound = (): RemoteError => sessionLost(SessionLossReason.NOT_FOUND);

/** What a server queues from a connection until its handshake completes. */
export interface PendingLimits {
  readonly maxPendingMessages: number;
  readonly maxPendingBytes: number;
}

/**
 * The extension key of the welcome: tells a tjstp client the server's
 * limits. The pending limits bound what the client may send right behind
 * a restore hello (its early replay).
 */
export const welcomeExtension = (limits: SessionLimits, pending: PendingLimits): Record<string, unknown> => ({
  version: 1,
  maxBufferedBytes: limits.maxBufferedBytes,
  holdTime: limits.holdTime,
  maxPendingMessages: pending.maxPendingMessages,
  maxPendingBytes: pending.maxPendingBytes,
});
