/**
 * The server's sessions from birth to end: the store that finds them, the
 * timers that expire held ones, the memory budget that evicts them, the
 * admission counts, channel membership, and rotation (new id and key,
 * the old ones kept until the client has them). The server runs
 * handshakes and connections; whatever happens to a session happens here.
 */
import { SessionLossReason, SessionLostError, type SessionLossReasonValue } from '../protocol/errors.js';
import type { Admission } from './admission.js';
import { newSessionSecret } from './binding.js';
import type { Channels } from './channels.js';
import type { ServerConnection } from './connection.js';
import type { MemoryBudget } from './memory-budget.js';
import { newSessionId, sessionKey, type ServerSession, type SessionLimits } from './session.js';
import type { SessionIndex } from './session-index.js';
import type { SavedSession } from './session-store.js';

/** What the registry reports to its server. */
export interface RegistryEvents {
  detached(session: ServerSession): void;
  ended(session: ServerSession, reason: SessionLossReasonValue): void;
  /** Held sessions were evicted to stay within the budget. */
  evicted(count: number, bytes: number): void;
  /** The session has a new key (a rotation); `retired` keys no longer restore it. */
  rekeyed?(session: ServerSession): void;
  retired?(keys: readonly string[]): void;
}

export interface RegistryOptions {
  index: SessionIndex<ServerSession>;
  limits: SessionLimits;
  budget: MemoryBudget;
  admission: Admission;
  channels: Channels;
  events: RegistryEvents;
}

/** A session found by the id a client presented. */
export interface FoundSession {
  session: ServerSession;
  /** The key (id hash) it was found under: the current one or a previous id's. */
  key: string;
}

export class SessionRegistry {
  readonly index: SessionIndex<ServerSession>;
  readonly budget: MemoryBudget;
  readonly admission: Admission;
  readonly #limits: SessionLimits;
  readonly #channels: Channels;
  readonly #events: RegistryEvents;
  /** Sessions held for a restore: the ones the budget may evict. */
  readonly #held = new Set<ServerSession>();
  /**
   * Previous ids' keys of sessions mid-rotation. Kept apart from the store,
   * which holds each session once, under its current key.
   */
  readonly #previous = new Map<string, ServerSession>();

  constructor(options: RegistryOptions) {
    this.index = options.index;
    this.budget = options.budget;
    this.admission = options.admission;
    this.#limits = options.limits;
    this.#channels = options.channels;
    this.#events = options.events;
  }

  /** How many sessions are held (detached) now. */
  get heldCount(): number {
    return this.#held.size;
  }

  /** A new session enters: stored, and counted against its address and user. */
  add(session: ServerSession): void {
    this.index.set(session.key, session);
    session.share = this.admission.opened(session.origin, session.user);
  }

  /** The live session an id names, if any (ended ones are not found). */
  find(id: string): FoundSession | undefined {
    const key = sessionKey(id);
    const session = this.findByKey(key);
    return session === undefined ? undefined : { session, key };
  }

  /** Why the session an id named is gone, if that is remembered. */
  lossReason(id: string): SessionLossReasonValue | undefined {
    return this.index.lossReason(sessionKey(id));
  }

  /**
   * Binds a connection to the session. One that was still attached (a
   * client back over another network before the old socket died) is
   * superseded: it can no longer touch the session.
   */
  attach(session: ServerSession, connection: ServerConnection): void {
    if (session.connection !== connection) this.supersede(session);
    clearTimeout(session.expiryTimer);
    session.expiryTimer = undefined;
    this.#held.delete(session);
    session.unheld();
    session.connection = connection;
    session.attachedAt = Date.now();
    // Set before `ready`, so a transport dying mid-handshake still detaches.
    connection.session = session;
  }

  /** After a restore attached it: forgets previous ids the client has confirmed replacing. */
  settle(session: ServerSession): void {
    const retired = session.pruneArchivedKeys();
    for (const key of retired) this.#previous.delete(key);
    if (retired.length > 0) this.#events.retired?.(retired);
  }

  /** Cuts the session's connection off (its client moved on); the session is not held for a restore here. */
  supersede(session: ServerSession): void {
    const connection = session.connection;
    if (connection === null) return;
    session.connection = null;
    session.peer.detach();
    connection.supersede();
  }

  /** The live session under a key: its current one or a previous id's. */
  findByKey(key: string): ServerSession | undefined {
    const session = this.index.get(key) ?? this.#previous.get(key);
    return session === undefined || session.ended ? undefined : session;
  }

  /**
   * Takes one session out of this process as a record, for another node:
   * a connection still attached is superseded first (the client has moved
   * on), calls this side made fail with `error`.
   */
  handOver(session: ServerSession, error: Error): SavedSession {
    this.supersede(session);
    const saved: SavedSession = { key: session.key, record: session.toRecord(), ...(session.fence > 0 && { fence: session.fence }) };
    this.#remove(session, SessionLossReason.CLOSED);
    session.peer.end(error);
    session.released();
    return saved;
  }

  /** The connection died: the session is held for `holdTime`, and may be evicted meanwhile. */
  detach(session: ServerSession, connection: ServerConnection): void {
    if (session.connection !== connection) return;
    session.connection = null;
    session.peer.detach();
    if (session.ended) return;
    this.#hold(session);
    this.#events.detached(session);
    // A session that comes to rest holding much may be what tips the budget.
    if (this.budget.exceeded) this.reclaim();
  }

  /**
   * Takes in a session rebuilt from a record another process saved (see
   * {@link surrender}): stored under its keys, counted, a member of its
   * channels again, and held for a restore for `holdTime` from now.
   */
  revive(session: ServerSession, channels: readonly string[]): void {
    this.add(session);
    for (const key of session.previousKeys) this.#previous.set(key, session);
    for (const channel of channels) this.#channels.join(session, channel);
    this.#hold(session);
    if (this.budget.exceeded) this.reclaim();
  }

  /**
   * Takes every session out of this process as records, for a session
   * file or another process to {@link revive}. They end here without a
   * word to their clients, who will restore them wherever they go next;
   * calls this side made to clients fail with `error`.
   */
  surrender(error: Error): SavedSession[] {
    return [...this.index.values()].filter((session) => !session.ended).map((session) => this.handOver(session, error));
  }

  /** Ends a session for good; a later restore is answered 11 with the reason. */
  end(session: ServerSession, reason: SessionLossReasonValue): void {
    if (session.ended) return;
    const retired = this.#remove(session, reason);
    if (retired.length > 0) this.#events.retired?.(retired);
    const connection = session.connection;
    session.connection = null;
    const error = new SessionLostError(reason);
    connection?.fail(error, [error.code, error.message, reason]);
    session.peer.end(error);
    session.released();
    this.#events.ended(session, reason);
  }

  /** Held for a restore until `holdTime` passes; the budget may evict it meanwhile. */
  #hold(session: ServerSession): void {
    clearTimeout(session.expiryTimer);
    session.expiryTimer = setTimeout(() => this.end(session, SessionLossReason.EXPIRED), this.#limits.holdTime);
    session.expiryTimer.unref();
    session.held(Date.now());
    this.#held.add(session);
  }

  /** Forgets a session everywhere it is counted or found; returns its previous ids' keys. */
  #remove(session: ServerSession, reason: SessionLossReasonValue): string[] {
    session.ended = true;
    clearTimeout(session.expiryTimer);
    this.#held.delete(session);
    this.index.delete(session.key, reason);
    const retired = session.pruneArchivedKeys(Infinity);
    for (const key of retired) this.#previous.delete(key);
    this.#channels.drop(session);
    this.admission.closed(session.origin, session.user);
    return retired;
  }

  /**
   * Evicts held sessions, largest first, until the budget is back under
   * its low-water mark or none is held. Returns whether the budget is
   * now within its limit.
   */
  reclaim(): boolean {
    const victims = this.budget.pickEvictions(this.#held);
    if (victims.length > 0) {
      let bytes = 0;
      for (const session of victims) {
        bytes += session.memoryBytes;
        this.end(session, SessionLossReason.EVICTED);
      }
      this.#events.evicted(victims.length, bytes);
    }
    return !this.budget.exceeded;
  }

  /**
   * Gives a bound session a new id and key. The client gets them as the
   * event `$tjstp.rotate(id, key, user)`, in order with everything else;
   * until it acknowledges that event either id restores the session.
   */
  rotate(session: ServerSession): boolean {
    if (!session.bound || session.ended) return false;
    const id = newSessionId();
    const secret = newSessionSecret();
    session.peer.emitEvent('$tjstp', 'rotate', [id, secret, session.user]);
    const previous = session.key;
    session.rekey(sessionKey(id), secret, session.peer.state.lastSeq);
    // A previous id that is no longer accepted reads as unknown, as any other.
    this.index.delete(previous, SessionLossReason.NOT_FOUND);
    this.#previous.set(previous, session);
    this.index.set(session.key, session);
    this.#events.rekeyed?.(session);
    return true;
  }

  /** Changes who is logged in; a bound session rotates (no session fixation). */
  login(session: ServerSession, user: string | null): void {
    if (session.user === user) return;
    this.admission.closed(undefined, session.user);
    this.admission.opened(undefined, user);
    session.setUser(user);
    this.rotate(session);
  }

  /** Every live session. */
  values(): IterableIterator<ServerSession> {
    return this.index.values();
  }
}
