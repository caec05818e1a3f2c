/**
 * Where sessions live beyond one process: the asynchronous store that
 * several server processes (a restart, workers, machines) share. Redis
 * implements it (`redis-store.ts`); the default, for one process, keeps
 * nothing beyond it.
 *
 * The model is ownership with handover, not replication. A session is
 * served by exactly one node, its owner, which keeps it in memory while
 * attached and while held after a disconnect: a resume on the same node
 * costs no round trip. A resume on another node asks the store who owns
 * the session; the owner hands it over (its record, parked in the
 * store), and the asking node claims it. Every claim takes a new fencing
 * token, and a park only succeeds for the owner holding the current one,
 * so two nodes never serve one session. A node that stops gracefully
 * parks all its sessions. A node that dies without warning takes its
 * sessions with it: their records are not in the store, and a resume
 * elsewhere is told `not_found`, never given a stale copy that would run
 * a call twice.
 */
import type { SessionLossReasonValue } from '../protocol/errors.js';
import type { SessionSnapshot } from '../session/state.js';

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
  /** The number of the last event published to the shared store that the session has (see `SharedEvent`). */
  bus?: number;
}

/** A record with the key (the id's hash) it is kept under. */
export interface SavedSession {
  key: string;
  record: ServerSessionRecord;
  /** The fencing token the exporting node held it with in a shared store, if any. */
  fence?: number;
}


/** What a claim found. */
export type Claim =
  /** Parked: it is this node's now, with this fencing token. */
  | { kind: 'claimed'; saved: SavedSession; fence: number }
  /** Served by a live node: ask it to hand the session over. `secret` checks a restore's proof first. */
  | { kind: 'owned'; node: string; secret: string | undefined }
  /** Not to be had, and why (`not_found` when nothing is known). */
  | { kind: 'gone'; reason: SessionLossReasonValue };

/** Asking a session's owner to hand it over. */
export interface HandoverRequest {
  key: string;
  /** The restore's nonce: a stale one is refused without touching the session. */
  nonce: number | undefined;
  /** The node asking, which the session is moved to. */
  to: string;
  /** How long the asking node waits for the answer, ms: calls running here get half of it at most. */
  wait?: number;
}

/**
 * The owner's answer: the session itself, already the asking node's in the
 * store (with its new fencing token); parked (claim it now); or why not.
 */
export type HandoverReply = { kind: 'moved'; saved: SavedSession; fence: number } | 'parked' | 'stale' | 'gone';

/** An event for every node's sessions of an application (a broadcast) or of one channel. */
export interface SharedEvent {
  app: string;
  /** Undefined: every session of the application. */
  channel?: string;
  iface: string;
  name: string;
  args: unknown[];
}

/** What a node serving from the store answers. */
export interface StoreHandlers {
  handover(request: HandoverRequest): Promise<HandoverReply>;
  /**
   * An event published to the store (by any node, this one included),
   * with its number: every node hears them in the same order.
   */
  event(event: SharedEvent, number: number): void;
}

export interface SessionStore {
  /** This process's name among the nodes sharing the store. */
  readonly node: string;
  /** Starts serving: `handlers` hear other nodes. */
  open(handlers: StoreHandlers): Promise<void>;
  /** A new session, owned by this node. `secret` (a bound session's key) lets other nodes check proofs. */
  create(key: string, secret: string | undefined): Promise<number>;
  /** Claims a parked session for this node, or says who serves it, or why it is gone. */
  claim(key: string): Promise<Claim>;
  /** Asks the owner to hand a session over; resolves with it (or why not). */
  requestHandover(node: string, request: Omit<HandoverRequest, 'to'>): Promise<HandoverReply>;
  /**
   * Makes a session this node owns (with `fence`) node `to`'s, in one step;
   * resolves to the new fencing token, or undefined when this node no
   * longer owns it.
   */
  transfer(key: string, fence: number, to: string): Promise<number | undefined>;
  /**
   * Parks sessions this node owns (with the fencing token it holds) for
   * any node to claim, each expiring `holdTime` ms from now unless
   * claimed, with its channels, so events reach it meanwhile. Resolves
   * to how many were parked (not one another node took meanwhile).
   */
  park(sessions: readonly { saved: SavedSession; fence: number }[], holdTime: number): Promise<number>;
  /** The session ended (expired, closed, evicted…): forgotten, the reason kept for a while. */
  end(key: string, reason: SessionLossReasonValue): Promise<void>;
  /** Publishes an event to the other nodes' sessions and to parked ones. */
  publish(event: SharedEvent): Promise<void>;
  /** Stops serving (after parking what it owns). */
  close(): Promise<void>;
}
