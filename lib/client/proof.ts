/**
 * The client's half of session binding: the proof it sends on every restore
 * of a bound session (see `protocol/restore.ts`). HMAC-SHA256 from
 * `@noble/hashes`: synchronous and the same in Node, browsers (also outside
 * secure contexts, where `crypto.subtle` is missing) and React Native.
 */
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import { restoreProofInput } from '../protocol/restore.js';

export const restoreProof = (key: string, id: string, sent: number, received: number, nonce: number): string =>
  bytesToHex(hmac(sha256, hexToBytes(key), utf8ToBytes(restoreProofInput(id, sent, received, nonce))));

/**
 * The nonce for the next restore: the time in ms, or one more than the last
 * used when the clock is behind it. It only has to grow; a ticket carries
 * the last one, so a new client object keeps it growing too.
 */
export const nextNonce = (last: number): number => Math.max(Date.now(), last + 1);
