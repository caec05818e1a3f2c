/**
 * A server's side of a shared session store (see `session-store.ts`):
 * records the sessions it opens, fetches from the store or from their
 * owner a session a client restores here, hands its own over when another
 * node asks, relays events, and parks everything when it stops.
 *
 * The hot paths stay local: calls, events to local sessions and a resume
 * on the node that holds the session never wait for the store.
 */
import {
  ErrorCode,
  LimitName,
  RemoteError,
  SessionLossReason,
  TjstpError,
  limitExceeded,
  type SessionLossReasonValue,
} from '../protocol/errors.js';
import { readRestoreRequest } from '../protocol/restore.js';
import { proofIsValid } from './binding.js';
import { sessionLost } from './handshake.js';
import type { RevivalReport } from './handover.js';
import { withFields, type Logger } from './options.js';
import type { SessionRegistry } from './registry.js';
import { sessionKey, type ServerSession } from './session.js';
import type { HandoverReply, HandoverRequest, SavedSession, SessionStore, SharedEvent } from './session-store.js';

/** How many recent shared events a node keeps, to give a session that arrives what it missed on the way. */
const RECENT_EVENTS = 100_000;

/** What the glue needs of its server. */
export interface SharedHost {
  readonly registry: SessionRegistry;
  readonly holdTime: number;
  readonly drainTimeout: number;
  readonly logger: Logger;
  readonly idOnlyRestore: boolean;
  /** How long a restore here waits for another node to let a session go, ms. */
  readonly parkWait: number;
  importSessions(saved: readonly unknown[]): RevivalReport;
  /** Delivers a shared event to this process's sessions, but those `skip` says have it. */
  deliver(event: SharedEvent, skip?: (session: ServerSession) => boolean): void;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SharedSessions {
  readonly store: SessionStore;
  readonly #host: SharedHost;
  /** The number of the last shared event delivered here (every node sees them in one order). */
  #last = 0;
  /** The most recent of them, oldest first, from `#first` on. */
  #recent: { number: number; event: SharedEvent }[] = [];
  #first = 0;

  constructor(store: SessionStore, host: SharedHost) {
    this.store = store;
    this.#host = host;
  }

  open(): Promise<void> {
    return this.store.open({
      handover: (request) => this.#handOver(request),
      event: (event, number) => this.#heard(event, number),
    });
  }

  /** A new session here: the store learns who serves it. */
  async created(session: ServerSession): Promise<void> {
    session.fence = await this.store.create(session.key, session.secretFor(session.key));
  }

  /**
   * Before a restore is decided: brings the session here when another node
   * has it. Returns quietly when there is nothing to bring (the restore is
   * then refused as usual); throws the answer when the store says more:
   * gone with a reason, stale, lost to a racing restore, or busy.
   */
  async acquire(credentials: unknown): Promise<void> {
    const request = readRestoreRequest(credentials);
    if (request === undefined || this.#host.registry.find(request.id) !== undefined) return;
    const key = sessionKey(request.id);
    let claim = await this.store.claim(key);
    if (claim.kind === 'owned' && claim.node === this.store.node) {
      // Another restore here brought it meanwhile: the usual rules decide between the two.
      if (this.#host.registry.findByKey(key) !== undefined) return;
      // The store says this node has it, and it has not: whatever happened, it is not to be had.
      await this.store.end(key, SessionLossReason.NOT_FOUND);
      throw sessionLost(SessionLossReason.NOT_FOUND);
    }
    if (claim.kind === 'owned') {
      // Prove the key before troubling the owner: an id alone moves nothing.
      if (claim.secret !== undefined ? !proofIsValid(claim.secret, request) : !this.#host.idOnlyRestore) return;
      let reply: HandoverReply;
      try {
        reply = await this.store.requestHandover(claim.node, { key, nonce: request.nonce });
      } catch (error) {
        this.#host.logger.warn(`a handover failed: ${(error as Error).message}`);
        throw new RemoteError(ErrorCode.SERVER_BUSY);
      }
      if (reply === 'stale') throw sessionLost(SessionLossReason.STALE);
      if (typeof reply === 'object') {
        // Moved to this node in the store already: taken up here at once.
        this.#revive(key, reply.saved, reply.fence);
        return;
      }
      // Parked for us, or already handed to a racing restore: the store decides who has it.
      const owner = claim.node;
      const patience = Date.now() + this.#host.parkWait;
      claim = await this.store.claim(key);
      // Still its old owner's: a stopping node between letting go and parking. Soon parked.
      while (claim.kind === 'owned' && claim.node === owner && Date.now() < patience) {
        await delay(20);
        claim = await this.store.claim(key);
      }
      // Another node's restore claimed it between the handover and us.
      if (claim.kind === 'owned') throw limitExceeded(LimitName.RESTORE_RACE);
    }
    if (claim.kind === 'gone') throw sessionLost(claim.reason);
    this.#revive(key, claim.saved, claim.fence);
  }

  #revive(key: string, saved: SavedSession, fence: number): void {
    const report = this.#host.importSessions([saved]);
    const session = this.#host.registry.findByKey(key);
    if (session !== undefined) {
      session.fence = fence;
      this.#catchUp(session, saved.record.bus);
      return;
    }
    // Ours in the store but not revived here: nobody's, so say so rather than leave it owned.
    this.#quietly(this.store.end(saved.key, SessionLossReason.NOT_FOUND));
    if (report.skipped.length > 0) this.#host.logger.warn(`a session handed to this node was not revived: ${report.skipped[0]!.why}`);
  }

  ended(session: ServerSession, reason: SessionLossReasonValue): void {
    this.#quietly(this.store.end(session.key, reason));
  }

  rekeyed(session: ServerSession): void {
    this.#quietly(this.store.create(session.key, session.secretFor(session.key)).then((fence) => {
      session.fence = fence;
    }));
  }

  retired(keys: readonly string[]): void {
    for (const key of keys) this.#quietly(this.store.end(key, SessionLossReason.NOT_FOUND));
  }

  /**
   * Publishes to every node's sessions, this one's included: they all get
   * it from the store, numbered, in the one order. When the store is away
   * the event reaches this node's sessions only.
   */
  publish(event: SharedEvent): void {
    this.store.publish(event).catch((error: unknown) => {
      this.#host.logger.warn(`session store: an event reached this node only: ${(error as Error)?.message ?? String(error)}`);
      this.#host.deliver(event);
    });
  }

  /** A shared event, in the store's order: delivered here, and kept a while for sessions on their way here. */
  #heard(event: SharedEvent, number: number): void {
    if (number <= this.#last) {
      // Pub/sub delivers each message once, in order: a number going back means Redis lost its
      // sequence (restarted empty). Numbering starts over; what sessions carried is void.
      this.#host.logger.warn(`session store: event numbers started over at ${number} (Redis restarted?)`);
      this.#recent = [];
      this.#first = 0;
      for (const session of this.#host.registry.index.values()) session.busFloor = 0;
    } else if (this.#last > 0 && number > this.#last + 1) this.#host.logger.warn(`session store: events ${this.#last + 1}–${number - 1} were not heard (the store was away)`);
    this.#last = number;
    this.#recent.push({ number, event });
    if (this.#recent.length - this.#first > RECENT_EVENTS) this.#first++;
    if (this.#first > RECENT_EVENTS) {
      this.#recent = this.#recent.slice(this.#first);
      this.#first = 0;
    }
    this.#host.deliver(event, (session) => session.busFloor >= number);
  }

  /**
   * A session arrived that had every shared event up to `had`: it gets
   * those this node delivered since (while it was on its way), and skips
   * those it already has that this node has yet to hear.
   */
  #catchUp(session: ServerSession, had: number | undefined): void {
    if (had === undefined) return;
    if (had > this.#last) {
      session.busFloor = had;
      return;
    }
    const recent = this.#recent;
    if (had < this.#last && (recent.length === this.#first || recent[this.#first]!.number > had + 1)) {
      withFields(this.#host.logger, { app: session.app.label, session: session.label }).warn(`session store: ${session.label} arrived missing events older than this node keeps`);
    }
    for (let i = this.#first; i < recent.length; i++) {
      const { number, event } = recent[i]!;
      if (number <= had || event.app !== session.app.name) continue;
      if (event.channel !== undefined && !session.channels.has(event.channel)) continue;
      session.emit(event.iface, event.name, event.args);
    }
  }

  /** What a session taken out of this node has of the shared events. */
  #stamp(saved: SavedSession): SavedSession {
    saved.record.bus = this.#last;
    return saved;
  }

  /** Parks sessions exported from this process (a graceful stop). */
  park(saved: readonly SavedSession[]): Promise<number> {
    return this.store.park(saved.map((entry) => ({ saved: this.#stamp(entry), fence: entry.fence ?? 0 })), this.#host.holdTime);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Another node's client restores a session this node holds. */
  async #handOver(request: HandoverRequest): Promise<HandoverReply> {
    const registry = this.#host.registry;
    const session = registry.findByKey(request.key);
    if (session === undefined) return 'gone';
    if (session.bound && request.nonce !== undefined && request.nonce <= session.nonce) return 'stale';
    // Its connection here is cut first; calls running finish (their replies go with the session), up to the drain timeout.
    registry.supersede(session);
    // Within what the asker waits: a session handed over after it gave up would be nobody's.
    const deadline = Date.now() + Math.min(this.#host.drainTimeout, (request.wait ?? Infinity) / 2);
    while (session.peer.runningCount > 0 && Date.now() < deadline && !session.ended) await delay(5);
    if (session.ended) return 'gone';
    const saved = this.#stamp(registry.handOver(session, new TjstpError(ErrorCode.SERVER_CLOSING)));
    // Straight to the asking node: one step in the store, the record in the reply.
    const fence = await this.store.transfer(saved.key, saved.fence ?? 0, request.to);
    return fence === undefined ? 'gone' : { kind: 'moved', saved, fence };
  }

  #quietly(work: Promise<unknown>): void {
    work.catch((error: unknown) => this.#host.logger.warn(`session store: ${(error as Error)?.message ?? String(error)}`));
  }
}
