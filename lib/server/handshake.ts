/**
 * The handshake rules, apart from the server's plumbing: whether a
 * restore's counters can be reconciled with the session's, and the
 * replies.
 *
 * tjstp restore:   {handshake:[0,app],session:[id, sent, received(, nonce, proof)]}
 *           reply: {handshake:[0],ok:[sent, received],tjstp:{…}}
 * legacy restore:  {handshake:[0,app],session:[id, received]}
 *           reply: {handshake:[0],ok:received}
 * `sent` is the last sequence number the side used, `received` the last of
 * the peer's it accepted; both unsigned (see `protocol/restore.ts`).
 */
import {
  ErrorCode,
  RemoteError,
  SessionLossReason,
  sessionLossMessage,
  type SessionLossReasonValue,
} from '../protocol/errors.js';
import type { RestoreRequest } from '../protocol/restore.js';
import type { SessionState } from '../session/state.js';
import type { ServerSession, SessionLimits } from './session.js';

/** The `received` to resume from, or why the counters cannot be reconciled. */
export type Reconciliation =
  | { received: number; refused?: undefined }
  | { refused: typeof SessionLossReason.STALE | typeof SessionLossReason.MISMATCH };

/**
 * Whether this side can resume with a peer reporting `request`.
 *
 * - The peer claims more than was sent: the counters cannot match
 *   (`mismatch`; this side lost what it had, or the claim is made up).
 * - The peer reports less than it already acknowledged, or having sent
 *   less than this side received: the request is older than the session
 *   (`stale`: a hello that arrived late, an old ticket). The session has
 *   moved on; only that request is refused.
 */
export const reconcile = (state: SessionState, request: RestoreRequest): Reconciliation => {
  if (request.received > state.lastSeq) return { refused: SessionLossReason.MISMATCH };
  if (request.sent === undefined) {
    // The reference counts only calls, events, inspects and pings, not our
    // sequenced replies, so it may report less than it acknowledged.
    return { received: Math.max(request.received, state.acked) };
  }
  if (request.received < state.acked || request.sent < state.received) return { refused: SessionLossReason.STALE };
  return { received: request.received };
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

/**
 * What to tell a reference client we received. It fails every pending call
 * up to that number as lost (ERR_CALLBACK_LOST) and resends what follows.
 * So report just below its oldest call still unanswered (running here, or
 * answered by a reply it may not have): it keeps waiting for those, resends
 * them — they are dropped here as duplicates — and gets the buffered reply.
 */
export const legacyReceived = (session: ServerSession, received: number): number => {
  const { state } = session.peer;
  const oldest = session.peer.oldestUnansweredCall(received);
  return oldest === undefined ? state.received : Math.min(state.received, oldest - 1);
};
