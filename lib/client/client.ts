/**
 * The tjstp client: one session over a succession of transports. It keeps
 * no Node built-ins; transports come from a factory (see `connect` for Node
 * and `client/browser` for W3C WebSocket).
 *
 *   idle --> connecting --> handshaking --> ready
 *               ^   |            |            |
 *               |   +------------+------------+--> (transport lost)
 *               |                                   |
 *               +---------- waiting (backoff) <-----+
 *   any --close()--> closed
 *
 * Calls and events made while not ready are numbered and buffered; the
 * restore handshake tells each side what the other has, and the rest is
 * retransmitted in order. When the server no longer has the session (error
 * 11), pending calls fail with SessionLostError (OutcomeUnknownError, code
 * 29, for those already sent, which may have run), a `sessionLost` event lets
 * the application send its state again, and a new session starts.
 */
import { Backoff } from './backoff.js';
import {
  ErrorCode,
  ProtocolError,
  OutcomeUnknownError,
  RemoteError,
  SessionLossReason,
  SessionLostError,
  TjstpError,
  isSessionLossReason,
  type SessionLossReasonValue,
} from '../protocol/errors.js';
import { decodeMessage, encodeClose, encodeHello, type HandshakeResponse, type Message } from '../protocol/message.js';
import { Heartbeat } from '../session/heartbeat.js';
import { Peer } from '../session/peer.js';
import type { Transport } from '../transport/transport.js';
import { TypedEmitter } from '../util/emitter.js';
import { ClientApi } from './api.js';
import type { ApiSource, EventArgs, EventName, InterfaceName, MethodArgs, MethodName, MethodResult, RemoteApi, Untyped } from './contract.js';
import { DEFAULT_MAX_HELD_EVENTS, EventQueue } from './event-queue.js';
import { LEGACY_CLOSE_TIMEOUT, closeThen } from './legacy-close.js';
import { earlyReplayBudget, helloFor, readBinding, readRestoreReply, readServerLimits, type ServerLimits } from './handshake.js';
import { SessionIdentity } from './identity.js';
import { remoteApi, subscribe } from './remote-api.js';
import type { ClientEvents, ClientOptions, ClientState, LoginCredentials, SessionTicket, TransportFactory } from './types.js';

export type * from './types.js';

/** `Api`: what the client knows of the application (see ./contract.ts); by default, nothing. */
export class Client<Api extends ApiSource = Untyped> extends TypedEmitter<ClientEvents> {
  #state: ClientState = 'idle';
  readonly #options: ClientOptions;
  readonly #backoff: Backoff | undefined;
  readonly #api: ClientApi;
  #remoteApi: RemoteApi<Api> | undefined;
  #factory: TransportFactory;
  #peer: Peer;
  readonly #identity: SessionIdentity;
  #transport: Transport | null = null;
  #restoring = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: Heartbeat | undefined;
  /** Settles `open()`: only the first connection's outcome is reported there. */
  #opening: { resolve(): void; reject(error: Error): void } | null = null;
  #lastError: Error | undefined;
  #serverLimits: ServerLimits | undefined;
  /** The session was just lost: start the new one without a backoff delay. */
  #sessionLost = false;
  /** A session was lost and the next new one carries `resumeState` (until one is welcomed). */
  #resumeLost = false;
  /** Identifies the newest connection attempt; older attempts' results are discarded. */
  #attempt = 0;
  /** The last message sent behind this transport's restore hello (0: none). */
  #earlyThrough = 0;
  /** Server events waiting for an `event` listener. */
  readonly #events: EventQueue;
  /** A legacy server's old connection is closing: the restore waits for it. */
  #awaitingClose = false;

  constructor(options: ClientOptions) {
    super();
    this.#options = options;
    this.#factory = options.transport;
    this.#backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect ?? {});
    this.#api = new ClientApi(options.api ?? {});
    const ticket = options.session;
    if (ticket?.user !== undefined && options.login !== undefined && ticket.user !== options.login.user) {
      throw new TypeError(`The session ticket belongs to ${JSON.stringify(ticket.user)}, not to ${JSON.stringify(options.login.user)}: drop the ticket to log in as someone else`);
    }
    this.#peer = this.#newPeer(ticket);
    this.#identity = new SessionIdentity(ticket);
    this.#events = new EventQueue(options.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS, {
      deliver: (event) => this.emit('event', event),
      report: (error) => this.emit('error', error),
    });
    if (options.onEvent) this.on('event', options.onEvent);
  }

  /**
   * As any emitter's `on`; an `event` listener also gets, in order, the
   * events that arrived while none was attached (see `maxHeldEvents`).
   */
  override on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): this {
    super.on(event, listener);
    this.#events.listenerAdded(event as string);
    return this;
  }

  get state(): ClientState {
    return this.#state;
  }

  /**
   * What the server advertised: how many unacknowledged bytes it holds for
   * this session and how long it waits after a disconnect. Undefined for a
   * reference server, which advertises nothing.
   */
  get serverLimits(): ServerLimits | undefined {
    return this.#serverLimits;
  }

  /**
   * The session's persisted form, or null before the first handshake. It
   * holds the session's key: store it like a password, never log it.
   */
  get session(): SessionTicket | null {
    return this.#identity.ticket(this.#options.app, this.#peer.legacyPeer, this.#peer.state);
  }

  /** Who the server says is logged in (null: nobody); undefined when it did not say (legacy servers). */
  get user(): string | null | undefined {
    return this.#identity.user;
  }

  /** Connects and resolves after the first handshake; rejects if it fails. */
  open(): Promise<void> {
    if (this.#state !== 'idle') return Promise.reject(new Error(`Client is ${this.#state}`));
    return new Promise<void>((resolve, reject) => {
      this.#opening = { resolve, reject };
      this.#connect();
    });
  }

  /** Calls a remote method; resolves to its first result. */
  call<I extends InterfaceName<Api>, M extends MethodName<Api, I>>(iface: I, method: M, ...args: MethodArgs<Api, I, M>): Promise<MethodResult<Api, I, M>> {
    return this.#call(iface, method, args) as Promise<MethodResult<Api, I, M>>;
  }

  #call(iface: string, method: string, args: unknown[]): Promise<unknown> {
    if (this.#state === 'closed') return Promise.reject(new TjstpError(ErrorCode.CLIENT_CLOSED));
    return this.#peer.callFirst(iface, method, args);
  }

  /** The methods as properties: `client.api.rooms.say(room, text)` is `client.call('rooms', 'say', room, text)`. */
  get api(): RemoteApi<Api> {
    return (this.#remoteApi ??= remoteApi<RemoteApi<Api>>((iface, method, args) => this.#call(iface, method, args)));
  }

  /** Listens to one event, `'rooms.message'`, with its arguments; returns what stops it. Attaches an `event` listener. */
  onEvent<K extends EventName<Api>>(name: K, listener: (...args: EventArgs<Api, K>) => void): () => void {
    return subscribe(this, name, listener);
  }

  /** Calls a remote method; resolves to all its results (`ok` array). */
  callResults(iface: string, method: string, args: readonly unknown[]): Promise<unknown[]> {
    if (this.#state === 'closed') return Promise.reject(new TjstpError(ErrorCode.CLIENT_CLOSED));
    return this.#peer.call(iface, method, args);
  }

  /** Method names of a remote interface. */
  async inspect(iface: string): Promise<string[]> {
    const names = await this.#peer.inspect(iface);
    return names.filter((name): name is string => typeof name === 'string');
  }

  /** Sends an event to the server; delivered once and in order. */
  sendEvent(iface: string, name: string, ...args: unknown[]): void {
    if (this.#state === 'closed') throw new TjstpError(ErrorCode.CLIENT_CLOSED);
    this.#peer.emitEvent(iface, name, args);
  }

  /**
   * Gives the session a new id and key (the server picks them), with
   * nothing lost or run twice while messages cross; the old id stops
   * working once the server knows the client has the new one. Resolves to
   * false when the session cannot rotate (it has no key: a legacy server).
   */
  async rotateSession(): Promise<boolean> {
    if (!this.#identity.bound && this.#identity.id !== null) return false;
    return (await this.#call('$tjstp', 'rotate', [])) === true;
  }

  /**
   * Logs in within the session (the server's authentication hook decides),
   * resolving to the user. The session gets a new id and key: an id known
   * before the login is worth nothing after it.
   */
  async login(credentials: LoginCredentials): Promise<string> {
    const [strategy, value] = 'password' in credentials
      ? ['login', [credentials.user, credentials.password]]
      : [credentials.strategy, credentials.credentials];
    return (await this.#call('$tjstp', 'login', [strategy, value])) as string;
  }

  /** Logs out within the session, which gets a new id and key. */
  async logout(): Promise<void> {
    await this.#call('$tjstp', 'logout', []);
  }

  /**
   * Drops the current connection on purpose and reconnects at once, to the
   * same place or through `transport` (e.g. from TCP to WebSocket). The
   * session is resumed.
   */
  reconnect(transport?: TransportFactory): void {
    if (this.#state === 'closed') return;
    if (transport) this.#factory = transport;
    // A reference server must see the old socket gone before the restore (see legacy-close.ts).
    const old = this.#peer.legacyPeer ? this.#transport : null;
    this.#dropTransport(old !== null);
    clearTimeout(this.#timer);
    if (!this.#transition(['ready', 'handshaking', 'waiting', 'connecting'], 'waiting')) return;
    if (old === null) {
      if (!this.#awaitingClose) this.#connect();
      return;
    }
    const attempt = ++this.#attempt;
    this.#awaitingClose = true;
    closeThen(old, LEGACY_CLOSE_TIMEOUT, () => {
      this.#awaitingClose = false;
      if (attempt === this.#attempt) this.#connect();
    });
  }

  /**
   * Ends a backoff wait and tries to connect now, e.g. when the network is
   * known to be back (the REPL's `.drop` ending). Returns false, doing
   * nothing, unless the client is `waiting` for its backoff.
   */
  reconnectNow(): boolean {
    if (this.#state !== 'waiting' || this.#awaitingClose) return false;
    this.#connect();
    return true;
  }

  /** Ends the session: the server forgets it, pending calls fail with CLIENT_CLOSED. */
  close(): void {
    const transport = this.#transport;
    const wasReady = this.#state === 'ready';
    // Messages may have gone out behind a restore hello: the server then
    // resumes the session and runs them, and must hear that it is over.
    const wasResuming = this.#state === 'handshaking' && this.#restoring && !this.#peer.legacyPeer;
    if (!this.#transition(['idle', 'connecting', 'handshaking', 'ready', 'waiting'], 'closed')) return;
    if (transport) {
      transport.unbind();
      if (wasReady) this.#peer.flushAck();
      if (wasReady || wasResuming) transport.send(encodeClose());
      transport.close();
    }
    this.#transport = null;
    this.#peer.end(new TjstpError(ErrorCode.CLIENT_CLOSED));
    this.#settleOpen(new TjstpError(ErrorCode.CLIENT_CLOSED));
  }

  #transition(from: readonly ClientState[], to: ClientState): boolean {
    if (!from.includes(this.#state)) return false;
    this.#state = to;
    if (to !== 'handshaking') clearTimeout(this.#timer);
    if (to !== 'ready') this.#heartbeat?.stop();
    if (to === 'closed') clearTimeout(this.#timer);
    this.emit('state', to);
    return true;
  }

  #newPeer(snapshot?: SessionTicket): Peer {
    return new Peer({
      role: 'client',
      legacyPeer: snapshot?.legacy ?? false,
      snapshot,
      limits: {
        maxBufferedBytes: this.#options.maxBufferedBytes ?? 4 * 1024 * 1024,
        ackDelay: this.#options.ackDelay ?? 200,
        ackEvery: this.#options.ackEvery ?? 64,
        callTimeout: this.#options.callTimeout ?? 0,
      },
      handlers: {
        call: (iface, method, args) => this.#api.invoke(iface, method, args),
        inspect: (iface) => this.#api.methods(iface),
        event: (iface, name, args) => {
          if (iface === '$tjstp') this.#onSessionEvent(name, args);
          else this.#events.push({ iface, name, args });
        },
        overflow: () => this.emit('error', new TjstpError(ErrorCode.BUFFER_FULL)),
        error: (error) => this.emit('error', error),
      },
    });
  }

  #connect(): void {
    if (!this.#transition(['idle', 'waiting'], 'connecting')) return;
    const attempt = ++this.#attempt;
    this.#factory().then(
      (transport) => {
        if (attempt === this.#attempt) this.#onTransport(transport);
        else transport.destroy();
      },
      (error: Error) => {
        if (attempt === this.#attempt) this.#onLost(error);
      },
    );
  }

  #onTransport(transport: Transport): void {
    if (!this.#transition(['connecting'], 'handshaking')) {
      transport.destroy();
      return;
    }
    this.#transport = transport;
    transport.bind({
      message: (text) => this.#onText(transport, text),
      close: (error) => {
        if (transport === this.#transport) this.#onLost(error);
      },
    });
    const { app, version, login, auth } = this.#options;
    const session = this.#identity.restore(this.#peer.state, this.#peer.legacyPeer);
    this.#restoring = session !== undefined;
    const resume = session === undefined && this.#resumeLost ? this.#resumeState() : undefined;
    transport.send(encodeHello(helloFor({ app, version, login, auth, session, resume })));
    this.#earlyThrough = 0;
    if (session) {
      const budget = earlyReplayBudget(this.#serverLimits, this.#options.earlyReplayBytes ?? 65_536);
      if (budget.bytes > 0) this.#earlyThrough = this.#peer.replayEarly(transport, budget.messages, budget.bytes);
    }
    this.#timer = setTimeout(() => transport.destroy(), this.#options.handshakeTimeout ?? 10_000);
  }

  #onText(transport: Transport, text: string): void {
    if (transport !== this.#transport) return;
    let message: Message;
    try {
      message = decodeMessage(text);
    } catch (error) {
      this.#lastError = error as Error;
      transport.destroy();
      return;
    }
    if (message.kind === 'close') {
      if (message.error !== undefined) this.#onGoodbye(RemoteError.fromJstp(message.error));
    } else if (this.#state === 'handshaking') {
      if (message.kind === 'welcome') this.#onWelcome(transport, message);
      else this.#protocolViolation(transport, `Expected a handshake reply, got "${message.kind}"`);
    } else if (message.kind === 'hello' || message.kind === 'welcome') {
      this.#protocolViolation(transport, 'Handshake after the handshake completed');
    } else {
      this.#peer.receive(message);
    }
  }

  #onWelcome(transport: Transport, message: HandshakeResponse): void {
    if (message.error !== undefined) {
      if (this.#earlyThrough > 0) this.#peer.earlyReplayRefused();
      this.#onHandshakeError(RemoteError.fromJstp(message.error));
      return;
    }
    let replayed: number;
    let peerReplayed: number | undefined;
    const limits = readServerLimits(message.tjstp);
    if (limits) this.#serverLimits = limits;
    if (this.#restoring) {
      const received = readRestoreReply(message.ok, this.#peer.state, this.#peer.legacyPeer);
      if (received === undefined) {
        this.#loseSession(SessionLossReason.MISMATCH);
        transport.destroy();
        return;
      }
      // The server resends what it sent after what we reported receiving.
      const sent = Array.isArray(message.ok) ? (message.ok[0] as number) : undefined;
      if (sent !== undefined) peerReplayed = Math.max(0, sent - this.#peer.state.received);
      replayed = this.#peer.attach(transport, received, this.#earlyThrough);
    } else {
      if (typeof message.ok !== 'string' || message.ok.length === 0) {
        this.#protocolViolation(transport, 'Handshake reply carries no session id');
        return;
      }
      this.#identity.started(message.ok, readBinding(message.tjstp));
      this.#resumeLost = false;
      this.#peer.legacyPeer = message.tjstp === undefined;
      replayed = this.#peer.attach(transport, 0);
    }
    this.#transition(['handshaking'], 'ready');
    this.#backoff?.reset();
    this.#heartbeat = new Heartbeat(this.#peer, this.#options.heartbeatInterval ?? 10_000, () => transport.destroy());
    this.#heartbeat.start();
    this.#settleOpen();
    this.emit('ready', { resumed: this.#restoring, replayed, peerReplayed });
  }

  #onHandshakeError(error: RemoteError): void {
    if (this.#restoring && error.code === ErrorCode.AUTH_FAILED) {
      const reason = isSessionLossReason(error.info[0]) ? error.info[0] : SessionLossReason.NOT_FOUND;
      // Without resumeState (or without reconnecting to start anew) a lost ticket fails connect().
      if (this.#opening && (this.#options.resumeState === undefined || !this.#backoff)) {
        // Reclaiming a persisted session that the server no longer has.
        const lost = new SessionLostError(reason);
        this.#settleOpen(lost);
        this.close();
        return;
      }
      this.#loseSession(reason);
      return;
    }
    this.#lastError = error;
    if (this.#opening) {
      this.#settleOpen(error);
      this.close();
    } else if (error.code === ErrorCode.APP_NOT_FOUND || error.code === ErrorCode.AUTH_FAILED) {
      // Refused outright (app gone, credentials revoked): retrying cannot help.
      this.emit('error', error);
      this.close();
    }
    // Anything else (a handshake timeout, a server shutting down, an
    // internal error) may pass: drop the connection and retry with backoff.
    else this.#transport?.destroy();
  }

  /** The server said why it is closing; a lost session is not retried, nor one another client took. */
  #onGoodbye(error: RemoteError): void {
    this.#lastError = error;
    if (error.code === ErrorCode.SESSION_LOST || error.code === ErrorCode.PROTOCOL_ERROR) {
      const reason = isSessionLossReason(error.info[0]) ? error.info[0] : SessionLossReason.PROTOCOL;
      this.#loseSession(reason);
    } else if (error.code === ErrorCode.SUPERSEDED && !this.#peer.legacyPeer) {
      // A restore over another connection took the session, and this
      // client made none (it hears only its current connection): a copy of
      // its ticket did, e.g. a duplicated tab. Restoring again would take
      // the session back, and the copy would do the same, for ever; the
      // newer holder keeps it and this one starts anew.
      this.#loseSession(SessionLossReason.STALE);
    }
  }

  /**
   * The server's word about the session itself, in order with the rest:
   * `rotate(id, key, user)` replaces the id and key. The ack goes out at
   * once, so the server can soon forget the old id.
   */
  #onSessionEvent(name: string, args: unknown[]): void {
    if (name !== 'rotate' || !this.#identity.rotated(args)) return;
    this.#peer.flushAck();
    this.emit('rotated', this.session as SessionTicket);
  }

  /** The application's `resumeState`, or undefined (reported) when it fails or is not JSON. */
  #resumeState(): unknown {
    try {
      const state = this.#options.resumeState?.();
      JSON.stringify(state);
      return state;
    } catch (error) {
      this.emit('error', new TypeError('resumeState() failed or returned something that is not JSON; the new session starts without it', { cause: error }));
      return undefined;
    }
  }

  /** Starts over with a new session; what was pending fails with the reason. */
  #loseSession(reason: SessionLossReasonValue): void {
    const error = new SessionLostError(reason);
    // A call sent before the loss may have run: say so, rather than invite a blind retry.
    this.#peer.end(error, new OutcomeUnknownError(reason));
    this.#peer = this.#newPeer();
    this.#identity.lost();
    this.#sessionLost = true;
    this.#resumeLost = this.#options.resumeState !== undefined;
    this.emit('sessionLost', error);
  }

  #protocolViolation(transport: Transport, text: string): void {
    this.#lastError = new ProtocolError(text);
    transport.destroy();
  }

  /** Forgets the transport; destroys it unless the caller closes it (`keepOpen`). */
  #dropTransport(keepOpen = false): void {
    const transport = this.#transport;
    this.#transport = null;
    this.#peer.detach();
    if (transport) {
      transport.unbind();
      if (!keepOpen) transport.destroy();
    }
  }

  /** The transport died or could not be opened: reconnect, or give up on a first connect. */
  #onLost(error?: Error): void {
    if (this.#state === 'closed') return;
    const wasReady = this.#state === 'ready';
    this.#dropTransport();
    const cause = error ?? this.#lastError;
    this.#lastError = undefined;
    // A first connect gives up, unless it only found its ticket lost and starts a new session (resumeState).
    if (this.#opening && !(this.#sessionLost && this.#backoff)) {
      this.#settleOpen(cause ?? new TjstpError(ErrorCode.NO_HANDSHAKE_RESPONSE));
      this.close();
      return;
    }
    if (wasReady) this.emit('disconnect', cause);
    if (!this.#backoff) {
      this.close();
      return;
    }
    // After a session loss, start the new session at once.
    const delay = this.#sessionLost ? 0 : this.#backoff.next();
    this.#sessionLost = false;
    if (!this.#transition(['connecting', 'handshaking', 'ready'], 'waiting')) return;
    this.emit('reconnecting', this.#backoff.attempt, delay, cause);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #settleOpen(error?: Error): void {
    const opening = this.#opening;
    this.#opening = null;
    if (!opening) return;
    if (error) opening.reject(error);
    else opening.resolve();
  }
}
