/**
 * The tjstp server: accepts transports, runs handshakes, and keeps sessions
 * — attached, or detached and held for `holdTime` — in a session store.
 * Listeners (TCP, TLS, IPC, WS, WSS) are added with {@link Server.listen};
 * any other transport can be handed to {@link Server.accept}.
 */
import {
  ErrorCode,
  RemoteError,
  SessionLossReason,
  SessionLostError,
  TjstpError,
  type SessionLossReasonValue,
} from '../protocol/errors';
import { encodeClose, encodeWelcome, type HandshakeRequest } from '../protocol/message';
import type { Transport } from '../transport/transport';
import { TypedEmitter } from '../util/emitter';
import { Application, ApplicationRegistry, type ApplicationDefinition } from './application';
import { prepareEvent } from '../session/peer';
import { Channels } from './channels';
import { FailureLog, logCallFailure, type FailureLogOptions } from './failure-log';
import { ServerConnection, type ConnectionHost } from './connection';
import {
  readRestoreRequest,
  reconcilable,
  sessionLost,
  sessionNotFound,
  welcomeExtension,
} from './handshake';
import { openListeners, type Listener, type ListenOptions } from './listeners';
import {
  ServerSession,
  defaultSessionLimits,
  newSessionId,
  sessionKey,
  type ServerSessionHooks,
  type SessionLimits,
} from './session';
import { MemorySessionStore, type SessionStore } from './session-store';

/** What the authentication hook is asked. */
export interface AuthenticationRequest {
  app: Application;
  /** The handshake's second key: `login` or a custom strategy. */
  strategy: string;
  credentials: unknown;
  remoteAddress: string;
}

/**
 * Returns the user name for valid credentials, or null/undefined to refuse
 * (error 11). May throw a RemoteError to answer with another code.
 */
export type Authenticate = (request: AuthenticationRequest) =>
  string | null | undefined | Promise<string | null | undefined>;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface ServerOptions {
  applications: Iterable<Application | ApplicationDefinition>;
  authenticate?: Authenticate;
  session?: Partial<SessionLimits>;
  /** ms to complete a handshake. Default 3000, as the reference. */
  handshakeTimeout?: number;
  /** ms between heartbeat checks; 0 disables. Default 15000. */
  heartbeatInterval?: number;
  /** Largest message accepted, bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Unsent bytes past which a client that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /** Messages queued while an asynchronous handshake runs. Default 1000. */
  maxPendingMessages?: number;
  /** …and their total size (UTF-16 code units). Default 4 MiB. */
  maxPendingBytes?: number;
  /** ms `close()` lets connections close gracefully before dropping them. Default 1000. */
  closeGrace?: number;
  /** ms `close()` waits for calls in flight to finish. Default 10,000. */
  drainTimeout?: number;
  store?: SessionStore<ServerSession>;
  logger?: Logger;
  /** How many failures of one method or event handler are logged in full. Default `{ burst: 5, interval: 60_000, maxSources: 1000 }`. */
  failureLog?: FailureLogOptions;
}

export interface ServerEvents {
  [event: string]: unknown[];
  session: [session: ServerSession];
  resume: [session: ServerSession, replayed: number];
  detach: [session: ServerSession];
  end: [session: ServerSession, reason: SessionLossReasonValue];
  event: [session: ServerSession, iface: string, name: string, args: unknown[]];
  error: [error: unknown];
}

export const consoleLogger: Logger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message, error) => console.error(message, error ?? ''),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export class Server extends TypedEmitter<ServerEvents> implements ConnectionHost {
  readonly applications: ApplicationRegistry;
  readonly sessions: SessionStore<ServerSession>;
  /** Rooms of sessions within each application. */
  readonly channels = new Channels();
  readonly limits: SessionLimits;
  readonly handshakeTimeout: number;
  readonly heartbeatInterval: number;
  readonly maxMessageSize: number;
  readonly maxUnsentBytes: number;
  readonly maxPendingMessages: number;
  readonly maxPendingBytes: number;
  readonly closeGrace: number;
  readonly drainTimeout: number;
  readonly logger: Logger;
  /** Counts failures of application code; repeated ones are summarised, not each logged. */
  readonly failures: FailureLog;
  readonly #authenticate: Authenticate | undefined;
  readonly #connections = new Set<ServerConnection>();
  readonly #listeners: Listener[] = [];
  readonly #hooks: ServerSessionHooks;
  #closing = false;

  constructor(options: ServerOptions) {
    super();
    this.applications = new ApplicationRegistry(options.applications);
    this.sessions = options.store ?? new MemorySessionStore<ServerSession>();
    this.limits = { ...defaultSessionLimits, ...options.session };
    this.handshakeTimeout = options.handshakeTimeout ?? 3000;
    this.heartbeatInterval = options.heartbeatInterval ?? 15_000;
    this.maxMessageSize = options.maxMessageSize ?? 1024 * 1024;
    this.maxUnsentBytes = options.maxUnsentBytes ?? 16 * 1024 * 1024;
    this.maxPendingMessages = options.maxPendingMessages ?? 1000;
    this.maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024;
    this.closeGrace = options.closeGrace ?? 1000;
    this.drainTimeout = options.drainTimeout ?? 10_000;
    this.logger = options.logger ?? consoleLogger;
    this.failures = new FailureLog(options.failureLog, (line) => this.logger.error(line));
    this.#authenticate = options.authenticate;
    this.#hooks = {
      invoke: (session, iface, method, args) => {
        // While draining, only calls already running may finish.
        if (this.#closing) throw new RemoteError(ErrorCode.SERVER_CLOSING);
        return session.app.invoke(session.context, iface, method, args);
      },
      event: (session, iface, name, args) => {
        session.app.event(session.context, iface, name, args);
        this.emit('event', session, iface, name, args);
      },
      overflow: (session) => this.endSession(session, SessionLossReason.OVERFLOW),
      error: (session, error) => logCallFailure(this.failures, this.logger, session, error),
      broadcast: (session, iface, name, args) => this.broadcast(session.app.name, iface, name, args),
      join: (session, channel) => this.channels.join(session, channel),
      leave: (session, channel) => this.channels.leave(session, channel),
      publish: (session, channel, iface, name, args) => this.channels.publish(session.app.name, channel, iface, name, args),
    };
  }

  /** Opens listeners; resolves with one entry per bound address. */
  async listen(options: ListenOptions): Promise<readonly Listener[]> {
    const opened = await openListeners(options, {
      maxMessageSize: this.maxMessageSize,
      maxUnsentBytes: this.maxUnsentBytes,
      handshakeTimeout: this.handshakeTimeout,
      onTransport: (transport) => this.accept(transport),
    });
    this.#listeners.push(...opened);
    return opened;
  }

  get listeners(): readonly Listener[] {
    return this.#listeners;
  }

  /** Serves a transport accepted elsewhere. */
  accept(transport: Transport): void {
    if (this.#closing) {
      transport.send(encodeClose([ErrorCode.SERVER_CLOSING]));
      transport.close(ErrorCode.SERVER_CLOSING);
      return;
    }
    this.#connections.add(new ServerConnection(transport, this));
  }

  /** Sends an event to every session of an application, detached ones included. */
  broadcast(appName: string, iface: string, name: string, args: readonly unknown[]): number {
    const event = prepareEvent(iface, name, args);
    let count = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.app.name !== appName || session.ended) continue;
      session.emitPrepared(event);
      count++;
    }
    return count;
  }

  /**
   * Shuts down gracefully: stops accepting connections, answers new calls
   * with code 23, lets calls in flight finish (up to `drainTimeout`), then
   * tells connected clients the server is going away and closes. Sessions
   * are dropped (the in-memory store does not survive a restart).
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const listeners = this.#listeners.splice(0);
    const closing = Promise.all(listeners.map((listener) => listener.close()));
    await this.#drain();
    const transports = [...this.#connections].map((connection) => connection.transport);
    for (const connection of [...this.#connections]) {
      connection.fail(new TjstpError(ErrorCode.SERVER_CLOSING), [ErrorCode.SERVER_CLOSING]);
    }
    for (const session of [...this.sessions.values()]) this.endSession(session, SessionLossReason.CLOSED);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeGrace);
    });
    await Promise.race([closing, grace]);
    clearTimeout(timer);
    // Peers that did not finish a graceful close in time are dropped.
    for (const transport of transports) transport.destroy();
    await closing;
    this.failures.close();
  }

  /** Resolves once no method is running (or the drain timeout passed). */
  async #drain(): Promise<void> {
    const deadline = Date.now() + this.drainTimeout;
    const running = (): number => {
      let count = 0;
      for (const session of this.sessions.values()) count += session.peer.runningCount;
      return count;
    };
    while (running() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const left = running();
    if (left > 0) this.logger.warn(`closing with ${left} call(s) still running after ${this.drainTimeout} ms`);
    // Replies written in the last tick leave before the goodbye.
    await new Promise((resolve) => setImmediate(resolve));
  }

  // ConnectionHost

  async handshake(connection: ServerConnection, hello: HandshakeRequest): Promise<ServerSession> {
    const app = this.applications.resolve(hello.app, hello.version);
    if (!app) throw new RemoteError(ErrorCode.APP_NOT_FOUND);
    if (hello.strategy === 'session') return this.#restore(connection, app, hello.credentials);
    let user: string | null = null;
    if (hello.strategy !== 'anonymous') {
      user = await this.#login(connection, app, hello);
      if (connection.state !== 'authenticating') throw new TjstpError(ErrorCode.NO_HANDSHAKE_RESPONSE);
    }
    const id = newSessionId();
    const session = new ServerSession({ key: sessionKey(id), app, user, limits: this.limits, hooks: this.#hooks });
    this.sessions.set(session.key, session);
    connection.transport.send(encodeWelcome(id, welcomeExtension(this.limits, this)));
    this.#attach(connection, session, 0);
    this.emit('session', session);
    return session;
  }

  detached(connection: ServerConnection, session: ServerSession): void {
    if (session.connection !== connection) return;
    session.connection = null;
    session.peer.detach();
    if (session.ended) return;
    clearTimeout(session.expiryTimer);
    session.expiryTimer = setTimeout(() => this.endSession(session, SessionLossReason.EXPIRED), this.limits.holdTime);
    session.expiryTimer.unref();
    this.emit('detach', session);
  }

  closed(connection: ServerConnection): void {
    this.#connections.delete(connection);
  }

  /** Ends a session for good; a later restore is answered 11 with the reason. */
  endSession(session: ServerSession, reason: SessionLossReasonValue): void {
    if (session.ended) return;
    session.ended = true;
    clearTimeout(session.expiryTimer);
    this.sessions.delete(session.key, reason);
    this.channels.drop(session);
    const connection = session.connection;
    session.connection = null;
    const error = new SessionLostError(reason);
    connection?.fail(error, [error.code, error.message, reason]);
    session.peer.end(error);
    this.emit('end', session, reason);
  }

  async #login(connection: ServerConnection, app: Application, hello: HandshakeRequest): Promise<string> {
    if (!this.#authenticate) throw new RemoteError(ErrorCode.AUTH_FAILED);
    let user: string | null | undefined;
    try {
      user = await this.#authenticate({
        app,
        strategy: hello.strategy,
        credentials: hello.credentials,
        remoteAddress: connection.transport.remoteAddress,
      });
    } catch (error) {
      if (RemoteError.is(error)) throw RemoteError.from(error);
      // A broken hook must be visible to operators, not only to the client; a client retrying it, not fill the log.
      if (this.failures.admit('authentication hook', error)) this.logger.error(`authentication hook failed (${connection.transport.remoteAddress})`, error);
      throw new RemoteError(ErrorCode.AUTH_FAILED);
    }
    if (typeof user !== 'string' || user.length === 0) throw new RemoteError(ErrorCode.AUTH_FAILED);
    return user;
  }

  #restore(connection: ServerConnection, app: Application, credentials: unknown): ServerSession {
    const request = readRestoreRequest(credentials);
    if (!request) throw sessionNotFound();
    const key = sessionKey(request.id);
    const session = this.sessions.get(key);
    if (!session || session.ended) throw sessionLost(this.sessions.lossReason(key) ?? SessionLossReason.NOT_FOUND);
    if (session.app.name !== app.name) throw sessionNotFound();
    const received = reconcilable(session.peer.state, request);
    if (received === undefined) {
      this.endSession(session, SessionLossReason.MISMATCH);
      throw sessionLost(SessionLossReason.MISMATCH);
    }
    const previous = session.connection;
    if (previous) {
      previous.supersede();
      this.detached(previous, session);
    }
    clearTimeout(session.expiryTimer);
    const { state } = session.peer;
    const ok = request.sent === undefined
      ? legacyReceived(session, received)
      : [state.lastSeq, state.received];
    connection.transport.send(encodeWelcome(ok, request.sent === undefined ? undefined : welcomeExtension(this.limits, this)));
    const replayed = this.#attach(connection, session, received);
    this.emit('resume', session, replayed);
    return session;
  }

  #attach(connection: ServerConnection, session: ServerSession, received: number): number {
    session.connection = connection;
    // Set before `ready`, so a transport dying mid-handshake still detaches.
    connection.session = session;
    return session.peer.attach(connection.transport, received);
  }
}

/**
 * What to tell a reference client we received. It fails every pending call
 * up to that number as lost (ERR_CALLBACK_LOST) and resends what follows.
 * So report just below its oldest call still unanswered (running here, or
 * answered by a reply it may not have): it keeps waiting for those, resends
 * them — they are dropped here as duplicates — and gets the buffered reply.
 */
const legacyReceived = (session: ServerSession, received: number): number => {
  const { state } = session.peer;
  const oldest = session.peer.oldestUnansweredCall(received);
  return oldest === undefined ? state.received : Math.min(state.received, oldest - 1);
};

export { Application, type ApplicationDefinition };
