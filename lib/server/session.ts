/**
 * A session on the server: the application it speaks to, who logged in, the
 * application's state, and the Peer engine with its counters and outbox.
 * It outlives connections: when one dies the session is held, detached, for
 * `holdTime`, and a restore handshake attaches the next one.
 *
 * The session id itself is never stored: it is sent to the client once and
 * only its hash (the key) is kept, so logs, dumps and stores cannot leak it.
 * A session a tjstp client opened is also bound: it has a secret key the
 * client proves on every restore (see `binding.ts`), so its id alone
 * restores nothing. Rotating gives it a new id and key; the old ones stay
 * valid until the client has acknowledged the rotation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { AddressShare } from './admission.js';
import type { Application } from './application.js';
import type { ServerConnection } from './connection.js';
import { ServerSessionContext } from './context.js';
import { SESSION_OVERHEAD } from './memory-budget.js';
import { Peer, type PeerHandlers, type PeerLimits, type PreparedEvent } from '../session/peer.js';
import { textBytes, type MemoryMeter } from '../session/memory.js';
import type { SessionSnapshot } from '../session/state.js';
import type { ServerSessionRecord } from './session-store.js';
import type { Transport } from '../transport/transport.js';

/** 192 random bits, URL-safe: well above the 128 bits a bearer token needs. */
export const newSessionId = (): string => randomBytes(24).toString('base64url');

export const sessionKey = (id: string): string =>
  createHash('sha256').update(id).digest('base64url');

export interface SessionLimits {
  /** Bytes (as held in memory) of unacknowledged messages held. Default 4 MiB. */
  maxBufferedBytes: number;
  /** How long a detached session is held for a restore, ms. Default 120 s. */
  holdTime: number;
  /** Acknowledge received messages at most this long after the first, ms. Default 20. */
  ackDelay: number;
  /** …or after this many messages. Default 64. */
  ackEvery: number;
}

export const defaultSessionLimits: Readonly<SessionLimits> = {
  maxBufferedBytes: 4 * 1024 * 1024,
  holdTime: 120_000,
  ackDelay: 20,
  ackEvery: 64,
};

export interface ServerSessionHooks {
  /** Runs a call in the session's context. */
  invoke(session: ServerSession, iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]>;
  event(session: ServerSession, iface: string, name: string, args: unknown[]): void;
  overflow(session: ServerSession): void;
  error(session: ServerSession, error: unknown): void;
  broadcast(session: ServerSession, iface: string, name: string, args: unknown[]): void;
  join(session: ServerSession, channel: string): void;
  leave(session: ServerSession, channel: string): void;
  publish(session: ServerSession, channel: string, iface: string, name: string, args: unknown[]): number;
  /** Gives the session a new id (and key); false when it cannot rotate (not bound, ended). */
  rotate?(session: ServerSession): boolean;
  /** Changes who is logged in (null: nobody), rotating the session. */
  login?(session: ServerSession, user: string | null): void;
}

export interface ServerSessionInit {
  key: string;
  app: Application;
  user: string | null;
  /** Shared by the server's sessions: a session keeps a reference, not a copy. */
  limits: PeerLimits;
  hooks: ServerSessionHooks;
  state?: Record<string, unknown>;
  snapshot?: SessionSnapshot;
  createdAt?: number;
  /** The key per-address limits count it under (see `address.ts`), if any. */
  origin?: string;
  /** The key (hex) a tjstp client proves on restore; absent for an id-only (legacy) session. */
  secret?: string;
  /** The highest restore nonce used so far. */
  nonce?: number;
  /** Where its memory is charged (the server's budget). */
  meter?: MemoryMeter;
  /** Previous ids still accepted (a rotation the client has not acknowledged). */
  previous?: readonly ArchivedKey[];
}

/** A previous id's key and secret, valid until the client acknowledges the rotation (message `seq`). */
export interface ArchivedKey {
  readonly key: string;
  readonly secret: string;
  readonly seq: number;
}

/** What the session's Peer calls; one small object instead of five closures. */
class SessionPeerHandlers implements PeerHandlers {
  readonly #session: ServerSession;
  readonly #hooks: ServerSessionHooks;

  constructor(session: ServerSession, hooks: ServerSessionHooks) {
    this.#session = session;
    this.#hooks = hooks;
  }

  call(iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]> {
    return this.#hooks.invoke(this.#session, iface, method, args);
  }

  inspect(iface: string): readonly string[] | undefined {
    return this.#session.app.methods(iface);
  }

  event(iface: string, name: string, args: unknown[]): void {
    this.#hooks.event(this.#session, iface, name, args);
  }

  overflow(): void {
    this.#hooks.overflow(this.#session);
  }

  error(error: unknown): void {
    this.#hooks.error(this.#session, error);
  }
}

const NO_CHANNELS: ReadonlySet<string> = new Set();

/** What a JSON copy of the state costs, as an estimate of what the state holds. */
const measureState = (state: Record<string, unknown> | undefined): number => {
  if (state === undefined) return 0;
  try {
    return textBytes(JSON.stringify(state) ?? '');
  } catch {
    // Not serializable (a cycle, a BigInt): count what its keys show.
    return Object.keys(state).length * 64;
  }
};

export class ServerSession implements MemoryMeter {
  /** The hash of the current id: where the store keeps the session. */
  key: string;
  readonly app: Application;
  readonly peer: Peer;
  readonly createdAt: number;
  /** The key per-address limits count it under, if any. */
  readonly origin: string | undefined;
  /** The connection currently attached, if any. */
  connection: ServerConnection | null = null;
  /** When the current connection was attached, ms (a restore race is judged by it). */
  attachedAt = 0;
  /** When it was last detached, ms. */
  detachedAt = 0;
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the session is gone for good. */
  ended = false;
  /** The highest restore nonce used: a restore must bring a greater one. */
  nonce: number;
  /** The fencing token this node holds it with in a shared store (0: no store). */
  fence = 0;
  /** Shared events up to this number it had before it came to this node (which has yet to hear them). */
  busFloor = 0;
  /** Its address's output allowance, which what it is sent draws on (set by the registry). */
  share: AddressShare | undefined;
  #user: string | null;
  #secret: string | undefined;
  #archived: ArchivedKey[] | undefined;
  /** What the state was measured at when the session was detached (charged meanwhile). */
  #heldStateBytes = 0;
  readonly #meter: MemoryMeter | undefined;
  readonly #hooks: ServerSessionHooks;
  // Made on first use: most sessions of a big server sit idle.
  #context: ServerSessionContext | undefined;
  #channels: Set<string> | undefined;
  #state: Record<string, unknown> | undefined;

  constructor(init: ServerSessionInit) {
    this.key = init.key;
    this.app = init.app;
    this.#user = init.user;
    this.#state = init.state;
    this.createdAt = init.createdAt ?? Date.now();
    this.origin = init.origin;
    this.#secret = init.secret;
    this.nonce = init.nonce ?? 0;
    if (init.previous !== undefined && init.previous.length > 0) this.#archived = [...init.previous];
    this.#meter = init.meter;
    this.#hooks = init.hooks;
    this.#meter?.charge(SESSION_OVERHEAD);
    this.peer = new Peer({
      role: 'server',
      handlers: new SessionPeerHandlers(this, init.hooks),
      limits: init.limits,
      snapshot: init.snapshot,
      // The session itself: it passes charges to the budget and draws output on its address's share.
      meter: this,
    });
  }

  /** What the session's engine holds changed (see `MemoryMeter`). */
  charge(bytes: number): void {
    this.#meter?.charge(bytes);
    if (bytes > 0) this.share?.draw(bytes);
  }

  /** Who logged in, or null. */
  get user(): string | null {
    return this.#user;
  }

  /** The application's state for this session, kept across reconnects and restores. */
  get state(): Record<string, unknown> {
    return (this.#state ??= {});
  }

  /** Safe to log: a prefix of the key's hash, not of the id. */
  get label(): string {
    return `s:${this.key.slice(0, 10)}`;
  }

  /** What the session's methods receive as their first argument. */
  get context(): ServerSessionContext {
    return (this.#context ??= new ServerSessionContext(this, this.#hooks));
  }

  /** Channels this session is a member of (changed through `Channels`). */
  get channels(): ReadonlySet<string> {
    return this.#channels ?? NO_CHANNELS;
  }

  /** For `Channels` only: records membership on the session's side. */
  addChannel(channel: string): void {
    (this.#channels ??= new Set()).add(channel);
  }

  /** For `Channels` only. */
  removeChannel(channel: string): void {
    this.#channels?.delete(channel);
  }

  get attached(): boolean {
    return this.peer.transport !== null;
  }

  get transport(): Transport | null {
    return this.peer.transport;
  }

  /** A tjstp client opened it: restores must prove its key. */
  get bound(): boolean {
    return this.#secret !== undefined;
  }

  /** Bytes the session holds: its buffers, calls running, state and a fixed overhead. */
  get memoryBytes(): number {
    return this.peer.memoryBytes + SESSION_OVERHEAD + this.#heldStateBytes;
  }

  /**
   * The secret to check a restore presenting the id hashed to `key`: the
   * current one, or an archived one the client may not have replaced yet.
   */
  secretFor(key: string): string | undefined {
    if (key === this.key) return this.#secret;
    const acked = this.peer.state.acked;
    return this.#archived?.find((entry) => entry.key === key && entry.seq > acked)?.secret;
  }

  /**
   * Keys of previous ids the client no longer needs: it acknowledged the
   * rotation that replaced them (or, with `upTo` Infinity, all of them).
   * They are forgotten here; the caller forgets them too.
   */
  pruneArchivedKeys(upTo = this.peer.state.acked): string[] {
    const archived = this.#archived;
    if (archived === undefined) return [];
    const acked = upTo;
    const gone = archived.filter((entry) => entry.seq <= acked).map((entry) => entry.key);
    this.#archived = archived.filter((entry) => entry.seq > acked);
    if (this.#archived.length === 0) this.#archived = undefined;
    return gone;
  }

  /**
   * For the server's rotation only: from now on the session is `key` with
   * `secret`; the previous key stays valid until message `seq` (the
   * rotation event) is acknowledged.
   */
  rekey(key: string, secret: string, seq: number): void {
    if (this.#secret !== undefined) (this.#archived ??= []).push({ key: this.key, secret: this.#secret, seq });
    this.key = key;
    this.#secret = secret;
  }

  /** For the server's login only. */
  setUser(user: string | null): void {
    this.#user = user;
  }

  /**
   * Gives the session a new id and key, sent to the client in order with
   * everything else (no session fixation; the Signal/Loki session reset).
   * Returns false when it cannot: it is not bound (an id-only client would
   * not understand), or it ended.
   */
  rotate(): boolean {
    return this.#hooks.rotate?.(this) ?? false;
  }

  /** For the server: the session was detached; its state is held (and charged) from now on. */
  held(now: number): void {
    this.detachedAt = now;
    this.#release();
    this.#heldStateBytes = measureState(this.#state);
    this.#meter?.charge(this.#heldStateBytes);
  }

  /** For the server: the session is attached again (or ends); the state is live memory again. */
  unheld(): void {
    this.#release();
  }

  /** For the server: the session ended; what it charged goes back. */
  released(): void {
    this.#release();
    this.#meter?.charge(-SESSION_OVERHEAD);
  }

  /**
   * Calls a method the client exposes (its `api` option); resolves to the
   * first result. Like every message, the call survives reconnects.
   */
  call(iface: string, method: string, ...args: unknown[]): Promise<unknown> {
    return this.peer.callFirst(iface, method, args);
  }

  /** Sends an event to this session; buffered while it is detached. */
  emit(iface: string, name: string, args: readonly unknown[]): void {
    if (!this.ended) this.peer.emitEvent(iface, name, args);
  }

  /** Sends an event already serialized for many sessions (broadcasts, channels). */
  emitPrepared(event: PreparedEvent): void {
    if (!this.ended) this.peer.emitPrepared(event);
  }

  toRecord(): ServerSessionRecord {
    return {
      app: this.app.name,
      version: this.app.version,
      user: this.user,
      state: this.state,
      peer: this.peer.state.snapshot(),
      channels: [...this.channels],
      createdAt: this.createdAt,
      ...(this.#secret !== undefined && { binding: { secret: this.#secret, nonce: this.nonce } }),
      ...(this.origin !== undefined && { origin: this.origin }),
      ...(this.#archived !== undefined && { previous: this.#archived.map((entry) => ({ ...entry })) }),
      ...(this.peer.runningCount > 0 && { inDoubt: this.peer.runningCalls() }),
    };
  }

  /** Previous ids' keys still accepted for a restore. */
  get previousKeys(): readonly string[] {
    return this.#archived?.map((entry) => entry.key) ?? [];
  }

  /** Never print the key or state by accident (`console.log(session)`). */
  [inspect.custom](): string {
    return `ServerSession(${this.label}, ${this.app.label})`;
  }

  toJSON(): string {
    return this.label;
  }

  #release(): void {
    if (this.#heldStateBytes === 0) return;
    this.#meter?.charge(-this.#heldStateBytes);
    this.#heldStateBytes = 0;
  }
}
