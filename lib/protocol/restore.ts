/**
 * The restore handshake's credentials, in the three forms tjstp reads:
 *
 *   reference:  session:[id, received]
 *   tjstp:      session:[id, sent, received]
 *   bound:      session:[id, sent, received, nonce, proof]
 *
 * `sent` is the last sequence number the client used and `received` the
 * last of the server's it accepted, both unsigned. A bound session (one a
 * tjstp client opened: the welcome gave it a key) is only restored by the
 * last form: `proof` is the hex HMAC-SHA256, under the session's key, of
 * {@link restoreProofInput}, and `nonce` must be greater than any nonce
 * the session was restored with before. So the id alone restores nothing,
 * and a restore hello seen on the wire or in a log cannot be used again.
 * Shared by the client (which signs) and the server (which checks); no
 * crypto here, each side brings its own.
 */
import { isCount } from './message.js';

export interface RestoreRequest {
  id: string;
  /** Absent in the reference's two-element form. */
  sent: number | undefined;
  received: number;
  /** Bound form only. */
  nonce: number | undefined;
  proof: string | undefined;
}

/** A session key, and a proof, as they travel: 64 lowercase hex digits (256 bits). */
const HEX_256 = /^[0-9a-f]{64}$/;

export const isHexKey = (value: unknown): value is string => typeof value === 'string' && HEX_256.test(value);

/** Reads any of the three forms; undefined for anything else. */
export const readRestoreRequest = (credentials: unknown): RestoreRequest | undefined => {
  if (!Array.isArray(credentials) || typeof credentials[0] !== 'string') return undefined;
  const [id, first, second, nonce, proof] = credentials as [string, unknown, unknown, unknown, unknown];
  if (id.length === 0 || id.length > 256) return undefined;
  if (credentials.length === 2 && isCount(first)) {
    return { id, sent: undefined, received: first, nonce: undefined, proof: undefined };
  }
  if (!isCount(first) || !isCount(second)) return undefined;
  if (credentials.length === 3) return { id, sent: first, received: second, nonce: undefined, proof: undefined };
  if (credentials.length === 5 && isCount(nonce) && isHexKey(proof)) {
    return { id, sent: first, received: second, nonce, proof };
  }
  return undefined;
};

/** What the proof signs: everything the restore claims, so none of it can be changed. */
export const restoreProofInput = (id: string, sent: number, received: number, nonce: number): string =>
  `tjstp-restore:${id}:${sent}:${received}:${nonce}`;
