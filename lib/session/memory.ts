/**
 * What buffered messages cost in memory, in real bytes. V8 keeps a string
 * with one byte per character while every character fits in Latin-1 and
 * with two otherwise, so a limit counted in characters would let two-byte
 * text pin twice what it advertises. No Node built-ins: the client core
 * counts its outbox the same way.
 */

/** A character outside Latin-1: V8 then stores the whole string with two bytes per character. */
const WIDE = /[^\u0000-\u00ff]/;

/**
 * What one held message costs beyond its characters: the string's header
 * and its slots in the outbox's arrays (an estimate, on the safe side).
 */
export const MESSAGE_OVERHEAD = 48;

/**
 * Bytes of a string's characters as V8 stores them. For a flat one-byte
 * string the test fails at once (V8 knows the pattern cannot match): a few
 * nanoseconds whatever the length. A two-byte string is scanned up to its
 * first wide character (about 0.3 ns a character), and a rope is first
 * flattened, which is why the engine measures flat JSON, not whole
 * messages (see `isWide`).
 */
export const textBytes = (text: string): number => (WIDE.test(text) ? text.length * 2 : text.length);

/** What holding `text` as one buffered message costs. */
export const messageBytes = (text: string): number => textBytes(text) + MESSAGE_OVERHEAD;

/**
 * Whether a string has a character outside Latin-1. For flat strings (what
 * `JSON.stringify` returns): a rope would be flattened by the scan.
 */
export const isWide = (text: string): boolean => WIDE.test(text);

/** What holding a message of `length` characters costs, wide or not. */
export const sizedBytes = (length: number, wide: boolean): number => (wide ? length * 2 : length) + MESSAGE_OVERHEAD;

/**
 * Receives every change of what a session holds (positive: more held), so
 * one server-wide budget can add up all its sessions.
 */
export interface MemoryMeter {
  charge(bytes: number): void;
}
