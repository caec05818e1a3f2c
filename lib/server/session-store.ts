/**
 * Where the server keeps sessions between connections. Sessions are looked
 * up by key — a hash of the session id — so neither the store nor a dump of
 * it ever holds an id that could be replayed. The in-memory store is the
 * default; a shared store (Redis) implements the same interface from
 * {@link ServerSessionRecord} snapshots.
 */
import type { SessionLossReasonValue } from '../protocol/errors';
import type { SessionSnapshot } from '../session/state';

/** The serializable form of a server session. */
export interface ServerSessionRecord {
  app: string;
  version: string;
  user: string | null;
  state: Record<string, unknown>;
  peer: SessionSnapshot;
  /** Channels the session is a member of. */
  channels: string[];
  createdAt: number;
  /** A bound session's key (hex) and the highest restore nonce it accepted. */
  binding?: { secret: string; nonce: number };
  /** The key per-address limits count it under (see `address.ts`). */
  origin?: string;
  /**
   * Previous ids' keys and keys (hex) a rotation replaced, still accepted
   * until the client acknowledges message `seq` (the rotation event).
   */
  previous?: { key: string; secret: string; seq: number }[];
  /**
   * The client's calls whose methods were running when the record was
   * taken: nobody knows whether they finished. Whoever takes the session
   * up answers them with error 29 and never runs them again.
   */
  inDoubt?: number[];
}

/** A record with the key (the id's hash) it is kept under. */
export interface SavedSession {
  key: string;
  record: ServerSessionRecord;
}

export interface SessionStore<S> {
  get(key: string): S | undefined;
  set(key: string, session: S): void;
  /** Removes a session, remembering for a while why it is gone. */
  delete(key: string, reason: SessionLossReasonValue): void;
  /** Why a session is gone, if it is remembered. */
  lossReason(key: string): SessionLossReasonValue | undefined;
  readonly size: number;
  values(): IterableIterator<S>;
}

export interface MemorySessionStoreOptions {
  /** How many loss reasons to remember (oldest forgotten first). Default 10,000. */
  maxTombstones?: number;
  /** How long to remember a loss reason, ms. Default 1 hour. */
  tombstoneTtl?: number;
}

export class MemorySessionStore<S> implements SessionStore<S> {
  readonly #sessions = new Map<string, S>();
  /** Insertion-ordered, so the oldest is first to evict. */
  readonly #tombstones = new Map<string, { reason: SessionLossReasonValue; at: number }>();
  readonly #maxTombstones: number;
  readonly #tombstoneTtl: number;

  constructor(options: MemorySessionStoreOptions = {}) {
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
