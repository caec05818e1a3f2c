/**
 * Session keys on the server. A tjstp client gets its session's key once,
 * in the welcome (or in a rotation), and from then on proves it on every
 * restore without sending it (see `protocol/restore.ts`). The key is the
 * one secret the server must keep in the clear to check proofs; the id is
 * kept only as its hash.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { restoreProofInput, type RestoreRequest } from '../protocol/restore.js';

/**
 * 256 random bits, as the 64 hex digits the client gets: a held session
 * keeps a short string rather than a Buffer (tens of thousands of them).
 */
export const newSessionSecret = (): string => randomBytes(32).toString('hex');

/**
 * Whether `request` carries a valid proof under `secret`. Compared in
 * constant time: how long a wrong proof takes to refuse says nothing of
 * the right one.
 */
export const proofIsValid = (secret: string, request: RestoreRequest): boolean => {
  const { id, sent, received, nonce, proof } = request;
  if (sent === undefined || nonce === undefined || proof === undefined) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'hex')).update(restoreProofInput(id, sent, received, nonce)).digest();
  const given = Buffer.from(proof, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
};
