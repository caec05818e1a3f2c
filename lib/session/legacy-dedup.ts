/**
 * Telling, as far as it can be told, the events a reference server sends
 * again from those it sends anew. Only for a legacy peer: a tjstp peer
 * never reuses an id, and the engine drops its duplicates by number.
 *
 * What the reference does (its session.js, bug Q3): it keeps what it sent
 * and was not acknowledged in a Map keyed by |id|. On a restore it deletes
 * the keys from its last acknowledged count + 1 up to the count the client
 * reports, resends the rest verbatim in the Map's order, and numbers new
 * messages from its last id + 1, so the first two reuse its two latest ids.
 * A message under a reused id at or below what was already acknowledged is
 * never deleted again: the client has it, and gets it after every later
 * restore. A reused id can also make the client's count (the last id
 * received) go backwards, and what it had above that count comes again.
 * A new message under a reused id that is still a key takes that key's
 * place in the Map, so what it resends comes in no useful order.
 *
 * So an event is taken for a resend when its id and content are those of
 * the last event received under that id, received on an earlier
 * connection: on one connection the reference sends a key at most once.
 * Memory is bounded: the last `limit` ids received.
 */

/** How many ids are remembered by default. */
export const LEGACY_DEDUP_IDS = 1024;

/** cyrb53: a fast 53-bit string hash; a collision would drop one event. */
const hash = (text: string): number => {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
};

interface Received {
  /** Hash of the event's interface, name and arguments. */
  print: number;
  /** The connection it last came on. */
  connection: number;
}

export class LegacyDedup {
  readonly #limit: number;
  /** |id| → the last event received under it, least recent first. */
  readonly #seen = new Map<number, Received>();
  #connection = 0;

  constructor(limit = LEGACY_DEDUP_IDS) {
    this.#limit = limit;
  }

  /** A connection was attached: what comes now may be resent. */
  attached(): void {
    this.#connection++;
  }

  /**
   * Records an event the engine accepted. True when it is a resend of one
   * already delivered, which the caller drops.
   */
  isResent(id: number, iface: string, name: string, args: readonly unknown[]): boolean {
    const key = Math.abs(id);
    const print = hash(JSON.stringify([iface, name, args]));
    const last = this.#seen.get(key);
    const resent = last !== undefined && last.print === print && last.connection !== this.#connection;
    // Refreshed even when resent: the reference may resend it after every restore.
    this.#seen.delete(key);
    this.#seen.set(key, { print, connection: this.#connection });
    if (this.#seen.size > this.#limit) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    return resent;
  }
}
