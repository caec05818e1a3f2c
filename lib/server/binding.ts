/**
 * Session keys on the server. A tjstp client gets its session's key once,
 * in the welcome (or in a rotation), and from then on proves it on every
 * restore without sending it (see `protocol/restore.ts`). The key is the
 * one secret the server must keep in the clear to check proofs; the id is
 * kept only as its hash.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { restoreProofInput, type RestoreRequest } from '../protocol/restore';

/** 256 random bits. */
export const newSessionSecret = (): Buffer => randomBytes(32);

/**
 * Whether `request` carries a valid proof under `secret`. Compared in
 * constant time: how long a wrong proof takes to refuse says nothing of
 * the right one.
 */
export const proofIsValid = (secret: Buffer, request: RestoreRequest): boolean => {
  const { id, sent, received, nonce, proof } = request;
  if (sent === undefined || nonce === undefined || proof === undefined) return false;
  const expected = createHmac('sha256', secret).update(restoreProofInput(id, sent, received, nonce)).digest();
  const given = Buffer.from(proof, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
};
