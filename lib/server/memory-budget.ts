/**
 * The server-wide memory budget for sessions (`maxSessionMemory`). Every
 * session's outbox, the arguments of its calls still running, what its
 * connections queue during a handshake and a fixed estimate of its own
 * state are charged here, in real bytes, as they change. Past the limit,
 * held (detached) sessions are evicted, largest first, down to a low-water
 * mark; when only attached sessions remain, what would grow them further
 * (new sessions, calls) is refused with error 30 until memory comes back.
 *
 * Why largest first: an attacker's point is to pin as much as possible per
 * session, so the largest held sessions are the likeliest to be his, and
 * each eviction frees the most for the fewest users hurt. Ties go to the
 * session detached longest.
 */
import v8 from 'node:v8';
import type { MemoryMeter } from '../session/memory.js';

/**
 * What a session costs beyond its buffers: the session, its engine, its
 * context and the store's entry. Measured on Node 20: 2,000 held sessions
 * of a small application took 2.3 KB of heap each.
 */
export const SESSION_OVERHEAD = 2304;

/** Eviction frees down to this share of the limit, so it does not run on every message. */
const LOW_WATER = 0.9;

/** Half the V8 heap limit: buffers live on the heap, and the process needs the rest. */
export const defaultMaxSessionMemory = (): number => Math.floor(v8.getHeapStatistics().heap_size_limit / 2);

/** What the budget needs to know of a session it may evict. */
export interface Evictable {
  /** Bytes the session holds (see `ServerSession.memoryBytes`). */
  readonly memoryBytes: number;
  /** When it was detached (ms since the epoch). */
  readonly detachedAt: number;
}

export class MemoryBudget implements MemoryMeter {
  readonly limit: number;
  #used = 0;
  #reclaimScheduled = false;
  readonly #reclaim: () => void;

  /**
   * `reclaim` is called (once per tick at most) after growth took the total
   * past the limit; it should evict with {@link pickEvictions}.
   */
  constructor(limit: number, reclaim: () => void) {
    if (!(limit > 0)) throw new RangeError(`maxSessionMemory must be a positive number of bytes, got ${limit}`);
    this.limit = limit;
    this.#reclaim = reclaim;
  }

  /** Bytes charged now. */
  get used(): number {
    return this.#used;
  }

  get exceeded(): boolean {
    return this.#used > this.limit;
  }

  charge(bytes: number): void {
    this.#used += bytes;
    if (bytes > 0 && this.#used > this.limit && !this.#reclaimScheduled) {
      // Not at once: the growth may come from inside a session's own send,
      // and ending sessions there would pull the floor from under it.
      this.#reclaimScheduled = true;
      queueMicrotask(() => {
        this.#reclaimScheduled = false;
        if (this.exceeded) this.#reclaim();
      });
    }
  }

  /**
   * Which of `held` to evict, in order, to come back under the low-water
   * mark (all of them if even that is not enough).
   */
  pickEvictions<S extends Evictable>(held: Iterable<S>): S[] {
    const target = this.limit * LOW_WATER;
    let excess = this.#used - target;
    if (excess <= 0) return [];
    const candidates = [...held].sort((a, b) => b.memoryBytes - a.memoryBytes || a.detachedAt - b.detachedAt);
    const chosen: S[] = [];
    for (const session of candidates) {
      if (excess <= 0) break;
      chosen.push(session);
      excess -= session.memoryBytes;
    }
    return chosen;
  }
}
