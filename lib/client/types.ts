/**
 * The client's public types: options, the persisted session ticket, and
 * the events it emits.
 */
import type { BackoffOptions } from './backoff.js';
import type { SessionLostError } from '../protocol/errors.js';
import type { SessionSnapshot } from '../session/state.js';
import type { Transport } from '../transport/transport.js';
import type { ClientInterfaces } from './api.js';

export type TransportFactory = () => Promise<Transport>;
export type ClientState = 'idle' | 'connecting' | 'handshaking' | 'ready' | 'waiting' | 'closed';

/**
 * A session's persisted form: reclaim it later with `connect({ session })`.
 * It holds the session's key: keep it as you would a password (for
 * instance in `sessionStorage`), and never log it.
 */
export interface SessionTicket extends SessionSnapshot {
  id: string;
  app: string;
  /** The server is the reference implementation. */
  legacy: boolean;
  /** The session's key (hex), proved on every restore; absent for an id-only session. */
  key?: string;
  /** The last restore nonce used: the next must be greater. */
  nonce?: number;
  /** Who the server says is logged in (absent when it did not say). */
  user?: string | null;
}

export interface ClientOptions {
  /** Application name, optionally `name@range`. */
  app: string;
  /** Version or semver range of the application. */
  version?: string;
  transport: TransportFactory;
  /** Log in with the `login` strategy. */
  login?: { user: string; password: string };
  /** Any other strategy the server's authentication hook understands. */
  auth?: { strategy: string; credentials: unknown };
  /** Reclaim a persisted session instead of starting one. */
  session?: SessionTicket;
  /** Backoff between reconnects, or false to stay disconnected. */
  reconnect?: Partial<BackoffOptions> | false;
  /** ms to wait for the handshake reply. Default 10,000. */
  handshakeTimeout?: number;
  /** ms between heartbeat checks; the connection is dropped after two silent ones. Default 10,000; 0 disables. */
  heartbeatInterval?: number;
  /** Fail calls not answered in this many ms; 0 (default) waits as long as the session lives. */
  callTimeout?: number;
  /** Largest total of unacknowledged outgoing messages; beyond it calls fail with BUFFER_FULL. Default 4 MiB. */
  maxBufferedBytes?: number;
  /**
   * ms after a server message arrives before it is acknowledged (one ack
   * covers everything received so far). Default 200: a client mostly
   * receives events, and on a busy stream each ack is a write to the
   * socket, so fewer acks leave it more time to read. The server holds
   * what is not yet acknowledged a little longer; nothing is lost either way.
   */
  ackDelay?: number;
  /** …or as soon as this many messages are unacknowledged. Default 64. */
  ackEvery?: number;
  /**
   * On a resume, how much of what was made offline (UTF-16 code units) is
   * sent right behind the hello, without waiting for the server's reply,
   * so that calls made offline are answered a round trip sooner. Only when
   * everything sent before the drop was acknowledged; bounded also by what
   * the server said it queues during a handshake; the rest follows the
   * reply. Default 65,536; 0 always waits for the reply.
   */
  earlyReplayBytes?: number;
  /** Interfaces the server may call on this client. */
  api?: ClientInterfaces;
  /**
   * An `event` listener installed before anything can arrive, so it also
   * hears what the server sends with its handshake reply (a reclaimed
   * session's replay, a new session's first events), before `connect()`
   * resolves.
   */
  onEvent?: (event: RemoteEvent) => void;
  /**
   * Events held while no `event` listener is attached, delivered in order
   * to the first one attached. Past it, later events are dropped and an
   * `error` (`EventsDroppedError`) is emitted once, as soon as someone
   * listens to `error`. Default 10,000; 0 holds none.
   */
  maxHeldEvents?: number;
  /**
   * What the application keeps of its session, for when the server loses
   * it (a crash, an eviction, an expiry): the next session's hello carries
   * it, and the application's resume hook rebuilds from it (re-joins
   * rooms, restores state). Called when that hello is sent; must return
   * JSON, kept small (the server's message size bounds the hello). With
   * it, a ticket the server no longer has does not fail `connect()`: a new
   * session starts with the state, and `sessionLost` is emitted.
   */
  resumeState?: () => unknown;
}

/** Credentials for `client.login()`: the `login` strategy, or any other the server's hook knows. */
export type LoginCredentials = { user: string; password: string } | { strategy: string; credentials: unknown };

export interface ReadyInfo {
  /** The session continued (false: a new session started). */
  resumed: boolean;
  /** Messages this side retransmitted. */
  replayed: number;
  /** Messages the server retransmitted (a tjstp server's resume only). */
  peerReplayed: number | undefined;
}

export interface RemoteEvent {
  iface: string;
  name: string;
  args: unknown[];
}

export interface ClientEvents {
  [event: string]: unknown[];
  state: [state: ClientState];
  ready: [info: ReadyInfo];
  disconnect: [error: Error | undefined];
  /** A reconnection attempt is scheduled; `error` is why the last one ended. */
  reconnecting: [attempt: number, delay: number, error: Error | undefined];
  sessionLost: [error: SessionLostError];
  /** The session got a new id and key (a rotation); the ticket to persist from now on. */
  rotated: [ticket: SessionTicket];
  event: [event: RemoteEvent];
  error: [error: unknown];
}
