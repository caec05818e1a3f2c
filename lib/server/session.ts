/**
 * A session on the server: the application it speaks to, who logged in, the
 * application's state, and the Peer engine with its counters and outbox.
 * It outlives connections: when one dies the session is held, detached, for
 * `holdTime`, and a restore handshake attaches the next one.
 *
 * The session id itself is never stored: it is sent to the client once and
 * only its hash (the key) is kept, so logs, dumps and stores cannot leak it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { Application } from './application';
import type { ServerConnection } from './connection';
import { ServerSessionContext } from './context';
import { Peer, type PeerHandlers, type PeerLimits, type PreparedEvent } from '../session/peer';
import type { SessionSnapshot } from '../session/state';
import type { ServerSessionRecord } from './session-store';
import type { Transport } from '../transport/transport';

/** 192 random bits, URL-safe: well above the 128 bits a bearer token needs. */
export const newSessionId = (): string => randomBytes(24).toString('base64url');

export const sessionKey = (id: string): string =>
  createHash('sha256').update(id).digest('base64url');

export interface SessionLimits {
  /** Bytes (UTF-16 code units) of unacknowledged messages held. Default 4 MiB. */
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

export class ServerSession {
  readonly key: string;
  readonly app: Application;
  readonly user: string | null;
  readonly peer: Peer;
  readonly createdAt: number;
  /** The connection currently attached, if any. */
  connection: ServerConnection | null = null;
  expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the session is gone for good. */
  ended = false;
  readonly #hooks: ServerSessionHooks;
  // Made on first use: most sessions of a big server sit idle.
  #context: ServerSessionContext | undefined;
  #channels: Set<string> | undefined;
  #state: Record<string, unknown> | undefined;

  constructor(init: ServerSessionInit) {
    this.key = init.key;
    this.app = init.app;
    this.user = init.user;
    this.#state = init.state;
    this.createdAt = init.createdAt ?? Date.now();
    this.#hooks = init.hooks;
    this.peer = new Peer({
      role: 'server',
      handlers: new SessionPeerHandlers(this, init.hooks),
      limits: init.limits,
      snapshot: init.snapshot,
    });
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
    };
  }

  /** Never print the key or state by accident (`console.log(session)`). */
  [inspect.custom](): string {
    return `ServerSession(${this.label}, ${this.app.name}@${this.app.version})`;
  }

  toJSON(): string {
    return this.label;
  }
}
