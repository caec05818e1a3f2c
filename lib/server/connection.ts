/**
 * One transport on the server, from accept to close. It runs the handshake
 * and then hands every message to the session's Peer.
 *
 *   awaiting-hello --hello--> authenticating --ok--> ready --> closed
 *         |                        |                   |
 *         +-------- timeout, bad input, error ---------+--> closed
 *
 * All transitions go through {@link ServerConnection.transition}, which
 * ignores a transition from a state not listed: a late authentication
 * result for a connection that already closed becomes a no-op.
 */
import {
  ErrorCode,
  ProtocolError,
  RemoteError,
  SessionLossReason,
  TjstpError,
  defaultMessages,
} from '../protocol/errors.js';
import {
  decodeMessage,
  encodeClose,
  encodeHandshakeError,
  type HandshakeRequest,
  type Message,
} from '../protocol/message.js';
import type { Transport, TransportHandler } from '../transport/transport.js';
import { Heartbeat } from '../session/heartbeat.js';
import { textBytes, type MemoryMeter } from '../session/memory.js';
import type { ServerSession } from './session.js';
import { publishMalformed, type MalformedKind } from './diagnostics.js';

export type ConnectionState = 'awaiting-hello' | 'authenticating' | 'ready' | 'closed';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly handshakeTimeout: number;
  readonly heartbeatInterval: number;
  readonly maxPendingMessages: number;
  readonly maxPendingBytes: number;
  /** Where what a connection queues during its handshake is charged (the memory budget). */
  readonly meter: MemoryMeter;
  /** Runs the handshake; resolves to the attached session or rejects with a RemoteError. */
  handshake(connection: ServerConnection, hello: HandshakeRequest): Promise<ServerSession>;
  /** The session broke the protocol or said goodbye. */
  endSession(session: ServerSession, reason: 'protocol' | 'closed'): void;
  detached(connection: ServerConnection, session: ServerSession, error?: Error): void;
  closed(connection: ServerConnection, error?: Error): void;
}

export class ServerConnection {
  /**
   * What the transport calls: one small object rather than three closures
   * per connection (a server holds many idle ones).
   */
  static readonly #Input = class implements TransportHandler {
    readonly #connection: ServerConnection;

    constructor(connection: ServerConnection) {
      this.#connection = connection;
    }

    message(text: string): void {
      this.#connection.#onText(text);
    }

    close(error?: Error): void {
      this.#connection.#onClose(error);
    }

    violation(error: Error): void {
      this.#connection.#protocolError(error, error instanceof TjstpError && error.code === ErrorCode.MESSAGE_TOO_LARGE ? 'oversize' : 'framing');
    }
  };

  readonly transport: Transport;
  state: ConnectionState = 'awaiting-hello';
  /** When it was accepted (`performance.now()`), for the time a restore took. */
  readonly acceptedAt = performance.now();
  session: ServerSession | null = null;
  readonly #host: ConnectionHost;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: Heartbeat | undefined;
  /** Messages that arrived while an asynchronous handshake was running, with what each costs. */
  #queued: [Message, number][] | undefined;
  /** Their total cost, charged to the host's meter until they are dispatched or dropped. */
  #queuedBytes = 0;

  constructor(transport: Transport, host: ConnectionHost) {
    this.transport = transport;
    this.#host = host;
    this.#timer = setTimeout(() => this.#timeout(), host.handshakeTimeout);
    transport.bind(new ServerConnection.#Input(this));
  }

  /** Moves to `to` if the current state is one of `from`; reports whether it did. */
  transition(from: readonly ConnectionState[], to: ConnectionState): boolean {
    if (!from.includes(this.state)) return false;
    this.state = to;
    switch (to) {
      case 'ready':
        this.#clearTimer();
        break;
      case 'closed':
        this.#clearTimer();
        this.#heartbeat?.stop();
        this.#dropQueue();
        break;
      default:
        break;
    }
    return true;
  }

  /** Called by the host once the session is attached to this transport. */
  ready(session: ServerSession): void {
    if (!this.transition(['authenticating'], 'ready')) return;
    this.session = session;
    if (this.#host.heartbeatInterval > 0) {
      this.#heartbeat = new Heartbeat(session.peer, this.#host.heartbeatInterval, () => this.transport.destroy());
      this.#heartbeat.start();
    }
    const queued = this.#queued ?? [];
    this.#dropQueue();
    for (const [message, size] of queued) {
      if (this.state !== 'ready') break;
      this.#dispatch(message, size);
    }
  }

  /**
   * Closes with a final message the peer can read: a handshake error before
   * the handshake, a `close` message after it.
   */
  fail(error: TjstpError, wire: unknown[] = [error.code, error.message], end?: 'protocol' | 'closed'): void {
    const handshaking = this.state === 'awaiting-hello' || this.state === 'authenticating';
    if (!this.transition(['awaiting-hello', 'authenticating', 'ready'], 'closed')) return;
    this.transport.send(handshaking ? encodeHandshakeError(wire) : encodeClose(wire));
    this.#release(error, end);
    this.transport.close(error.code);
  }

  /**
   * Another connection took over the session (a restore while this socket is
   * still open, e.g. after a network switch). Stop listening at once, so
   * nothing from this socket can touch the session again, then close it.
   */
  supersede(): void {
    if (!this.transition(['ready'], 'closed')) return;
    this.transport.unbind();
    this.session = null;
    // Why, for whoever still reads this socket; the close lingers briefly at most.
    this.transport.send(encodeClose([ErrorCode.SUPERSEDED, defaultMessages[ErrorCode.SUPERSEDED]]));
    this.transport.close(ErrorCode.SUPERSEDED);
    this.#host.closed(this);
  }

  #onText(text: string): void {
    const size = textBytes(text);
    let message: Message;
    try {
      message = decodeMessage(text);
    } catch (error) {
      this.#protocolError(error, 'json');
      return;
    }
    switch (this.state) {
      case 'awaiting-hello':
        if (message.kind !== 'hello') {
          this.#protocolError(new ProtocolError(`Expected a handshake, got "${message.kind}"`), 'unexpected');
          return;
        }
        this.transition(['awaiting-hello'], 'authenticating');
        this.#host.handshake(this, message).then(
          (session) => this.ready(session),
          (error: unknown) => this.#handshakeFailed(error),
        );
        return;
      case 'authenticating':
        this.#queued ??= [];
        // A restore attaches its session at once and is ready a microtask
        // later: the queue then holds what came with the hello in one read,
        // and a limit would only end a healthy session. The limits are for
        // an asynchronous login, which a client could flood.
        if (this.session === null && (this.#queued.length >= this.#host.maxPendingMessages || this.#queuedBytes + size > this.#host.maxPendingBytes)) {
          this.#protocolError(new ProtocolError('Too many messages before the handshake completed'), 'pending');
          return;
        }
        this.#queued.push([message, size]);
        this.#queuedBytes += size;
        this.#host.meter.charge(size);
        return;
      case 'ready':
        this.#dispatch(message, size);
        return;
      default:
        return;
    }
  }

  #dispatch(message: Message, size: number): void {
    const session = this.session;
    if (session === null) return;
    switch (message.kind) {
      case 'hello':
      case 'welcome':
        this.#protocolError(new ProtocolError('Handshake after the handshake completed'), 'unexpected');
        return;
      case 'close':
        // The client ended its session on purpose: nothing to hold for it.
        this.transition(['ready'], 'closed');
        this.#release(undefined, SessionLossReason.CLOSED);
        this.transport.close();
        return;
      case 'heartbeat':
        session.peer.heard = true;
        return;
      default:
        session.peer.receive(message, size);
    }
  }

  #dropQueue(): void {
    this.#queued = undefined;
    if (this.#queuedBytes === 0) return;
    this.#host.meter.charge(-this.#queuedBytes);
    this.#queuedBytes = 0;
  }

  #protocolError(error: unknown, kind: MalformedKind): void {
    if (this.state !== 'closed') publishMalformed(this.#host, this, kind, error);
    const protocolError = error instanceof TjstpError
      ? error
      : new ProtocolError(String(error));
    // The session is not resumable: its client would resend the same bytes.
    this.fail(protocolError, undefined, SessionLossReason.PROTOCOL);
  }

  #handshakeFailed(error: unknown): void {
    if (RemoteError.is(error)) {
      const remote = RemoteError.from(error);
      this.fail(remote, remote.info.length > 0 ? [remote.code, remote.message, ...remote.info] : remote.toJstp());
    } else if (error instanceof TjstpError) {
      this.fail(error);
    } else {
      this.fail(new RemoteError(ErrorCode.INTERNAL_API_ERROR), [ErrorCode.INTERNAL_API_ERROR]);
    }
  }

  /** A spent Timeout object is a hundred bytes an idle connection need not keep. */
  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #timeout(): void {
    if (this.state !== 'awaiting-hello' && this.state !== 'authenticating') return;
    const error = new TjstpError(ErrorCode.HANDSHAKE_TIMEOUT);
    this.fail(error, [error.code, defaultMessages[error.code]]);
  }

  #onClose(error?: Error): void {
    if (this.state === 'closed') return;
    this.transition(['awaiting-hello', 'authenticating', 'ready'], 'closed');
    // The transport rejected the peer's input (oversize, bad framing): the
    // client would resend the same bytes after a restore, so end the session.
    this.#release(error, error instanceof ProtocolError ? SessionLossReason.PROTOCOL : undefined);
  }

  /**
   * Detaches the session (it is then held for a restore), or with `end`
   * ends it at once: one that will not be restored is never counted as
   * held, nor makes the budget evict others to hold it. Then reports the close.
   */
  #release(error?: Error, end?: 'protocol' | 'closed'): void {
    const session = this.session;
    this.session = null;
    if (session && end !== undefined) this.#host.endSession(session, end);
    else if (session) this.#host.detached(this, session, error);
    this.#host.closed(this, error);
  }
}
