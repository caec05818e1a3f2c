/**
 * The sessions this process serves, found by key: a hash of the session
 * id, so neither the index nor a dump of it holds an id that could be
 * replayed. Synchronous, for the hot paths; sessions kept beyond the
 * process live in a {@link SessionStore} (see `session-store.ts`).
 */
import type { SessionLossReasonValue } from '../protocol/errors.js';

export interface SessionIndex<S> {
  get(key: string): S | undefined;
  set(key: string, session: S): void;
  /** Removes a session, remembering for a while why it is gone. */
  delete(key: string, reason: SessionLossReasonValue): void;
  /** Why a session is gone, if it is remembered. */
  lossReason(key: string): SessionLossReasonValue | undefined;
  readonly size: number;
  values(): IterableIterator<S>;
}

export interface MemorySessionIndexOptions {
  /** How many loss reasons to remember (oldest forgotten first). Default 10,000. */
  maxTombstones?: number;
  /** How long to remember a loss reason, ms. Default 1 hour. */
  tombstoneTtl?: number;
}

export class MemorySessionIndex<S> implements SessionIndex<S> {
  readonly #sessions = new Map<string, S>();
  /** Insertion-ordered, so the oldest is first to evict. */
  readonly #tombstones = new Map<string, { reason: SessionLossReasonValue; at: number }>();
  readonly #maxTombstones: number;
  readonly #tombstoneTtl: number;

  constructor(options: MemorySessionIndexOptions = {}) {
    this.#maxTombstones = options.maxTombstones ?? 10_000;
    this.#tombstoneTtl = options.tombstoneTtl ?? 60 * 60 * 1000;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(key: string): S | undefined {
    return this.#sessions.get(key);
  }

  set(key: string, session: S): void {
    this.#sessions.set(key, session);
    this.#tombstones.delete(key);
  }

  delete(key: string, reason: SessionLossReasonValue): void {
    if (!this.#sessions.delete(key)) return;
    this.#tombstones.set(key, { reason, at: Date.now() });
    if (this.#tombstones.size > this.#maxTombstones) {
      const oldest = this.#tombstones.keys().next().value;
      if (oldest !== undefined) this.#tombstones.delete(oldest);
    }
  }

  lossReason(key: string): SessionLossReasonValue | undefined {
    const tombstone = this.#tombstones.get(key);
    if (!tombstone) return undefined;
    if (Date.now() - tombstone.at > this.#tombstoneTtl) {
      this.#tombstones.delete(key);
      return undefined;
    }
    return tombstone.reason;
  }

  values(): IterableIterator<S> {
    return this.#sessions.values();
  }
}
