/**
 * The tjstp server: accepts transports, runs handshakes, and keeps sessions
 * — attached, or detached and held for `holdTime` — through its registry,
 * within a memory budget and admission limits a stranger cannot get
 * around. Listeners (TCP, TLS, IPC, WS, WSS) are added with
 * {@link Server.listen}; any other transport can be handed to
 * {@link Server.accept}.
 */
import {
  ErrorCode,
  LimitName,
  RemoteError,
  SessionLossReason,
  TjstpError,
  limitExceeded,
  type LimitNameValue,
  type SessionLossReasonValue,
} from '../protocol/errors.js';
import { encodeClose, encodeWelcome, type HandshakeRequest } from '../protocol/message.js';
import type { Transport } from '../transport/transport.js';
import { TypedEmitter } from '../util/emitter.js';
import { LogThrottle } from '../util/throttle.js';
import { addressKey } from './address.js';
import { Admission } from './admission.js';
import { Application, ApplicationRegistry, type ApplicationDefinition } from './application.js';
import { newSessionSecret } from './binding.js';
import { prepareEvent } from '../session/peer.js';
import { Channels } from './channels.js';
import { FailureLog } from './failure-log.js';
import * as publish from './diagnostics.js';
import { ServerConnection, type ConnectionHost } from './connection.js';
import { legacyReceived, welcomeExtension } from './handshake.js';
import { openListeners, type Listener, type ListenOptions } from './listeners.js';
import { MemoryBudget, defaultMaxSessionMemory } from './memory-budget.js';
import { SessionRegistry } from './registry.js';
import { SharedSessions } from './shared-sessions.js';
import { Shutdown } from './shutdown.js';
import { admitRestore, admitRestoreAttempt, defaultRestoreOptions, type RestoreOptions, type RestoreRefusal } from './restore.js';
import { consoleLogger, logError, withFields, type LogFields, type Logger, type Refusal, type ServerEvents, type ServerOptions, type ServerStats } from './options.js';
import { createSessionHooks, type Authenticate, type AuthenticationRequest } from './session-hooks.js';
import {
  ServerSession,
  defaultSessionLimits,
  newSessionId,
  sessionKey,
  type ServerSessionHooks,
  type SessionLimits,
} from './session.js';
import { MemorySessionIndex, type SessionIndex } from './session-index.js';
import type { SavedSession } from './session-store.js';
import { reviveSessions, type RevivalReport } from './handover.js';

export type { Authenticate, AuthenticationRequest, LogFields, Logger, Refusal, RevivalReport, SavedSession, ServerEvents, ServerOptions, ServerStats };
export { consoleLogger, silentLogger } from './options.js';

const refusalWording: Record<RestoreRefusal, string> = {
  proof: 'no valid proof of its key',
  'id-only': 'an id-only restore of a session that needs a proof, or with id-only restores turned off',
  address: 'from another address than the one that opened it',
};

/** What a session's end line says besides its words. */
const endFields = (session: ServerSession, reason: SessionLossReasonValue): LogFields => ({ app: session.app.label, session: session.label, reason });

export class Server extends TypedEmitter<ServerEvents> implements ConnectionHost {
  readonly applications: ApplicationRegistry;
  /** The sessions this process serves, attached or held. */
  readonly sessions: SessionIndex<ServerSession>;
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
  readonly #registry: SessionRegistry;
  readonly #restoreOptions: RestoreOptions;
  readonly #authenticate: Authenticate | undefined;
  readonly #connections = new Set<ServerConnection>();
  readonly #listeners: Listener[] = [];
  readonly #hooks: ServerSessionHooks;
  readonly #warnings: LogThrottle<LogFields>;
  #busyRefusals = 0;
  #evicted = 0;
  readonly #shared: SharedSessions | undefined;
  #storeOpened: Promise<void> | undefined;
  readonly #shutdown: Shutdown;

  constructor(options: ServerOptions) {
    super();
    this.applications = new ApplicationRegistry(options.applications);
    this.sessions = new MemorySessionIndex<ServerSession>();
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
    this.#restoreOptions = {
      idOnlyRestore: options.idOnlyRestore ?? defaultRestoreOptions.idOnlyRestore,
      bindAddress: options.bindAddress ?? defaultRestoreOptions.bindAddress,
      raceWindow: options.raceWindow ?? defaultRestoreOptions.raceWindow,
    };
    this.#warnings = new LogThrottle<LogFields>((line, fields) => withFields(this.logger, fields).warn(line));
    const budget = new MemoryBudget(options.maxSessionMemory ?? defaultMaxSessionMemory(), () => this.#registry.reclaim());
    this.#registry = new SessionRegistry({
      index: this.sessions,
      limits: this.limits,
      budget,
      admission: new Admission(options),
      channels: this.channels,
      events: {
        detached: (session) => {
          publish.publishSessionDetach(this, session);
          this.emit('detach', session);
        },
        ended: (session, reason) => {
          publish.publishSessionEnd(this, session, reason);
          // Ends worth a line: a client that vanished (info), one whose session broke (warn, throttled).
          if (reason === SessionLossReason.EXPIRED) withFields(this.logger, endFields(session, reason)).info(`${session.label}: ended, ${reason}`);
          else if (reason === SessionLossReason.OVERFLOW || reason === SessionLossReason.PROTOCOL) this.#warnings.log(`${session.label}: ended, ${reason}`, endFields(session, reason));
          this.#shared?.ended(session, reason);
          this.emit('end', session, reason);
        },
        rekeyed: (session) => this.#shared?.rekeyed(session),
        retired: (keys) => this.#shared?.retired(keys),
        evicted: (count, bytes) => {
          this.#evicted += count;
          this.#warnings.log(`evicted ${count} held session(s), ${(bytes / 1048576).toFixed(1)} MiB, to stay within maxSessionMemory (${(budget.limit / 1048576).toFixed(0)} MiB)`);
        },
      },
    });
    this.#hooks = createSessionHooks({
      server: this,
      registry: this.#registry,
      channels: this.channels,
      logger: this.logger,
      failures: this.failures,
      authenticate: (request) => this.#login(request),
      closing: () => this.#shutdown.closing,
      refuse: (session, refusal) => this.#refused(refusal, session.transport?.remoteAddress ?? 'unknown'),
      onEvent: (session, iface, name, args) => this.emit('event', session, iface, name, args),
      broadcast: (app, iface, name, args) => this.broadcast(app, iface, name, args),
      stats: () => this.stats(),
    });
    if (options.store !== undefined) {
      const shared = new SharedSessions(options.store, {
        registry: this.#registry,
        holdTime: this.limits.holdTime,
        drainTimeout: this.drainTimeout,
        logger: this.logger,
        idOnlyRestore: this.#restoreOptions.idOnlyRestore,
        parkWait: options.parkWait ?? 3000,
        importSessions: (saved) => this.importSessions(saved),
        deliver: (event, skip) => {
          if (event.channel === undefined) this.#deliverBroadcast(event.app, event.iface, event.name, event.args, skip);
          else this.channels.deliver(event.app, event.channel, event.iface, event.name, event.args, skip);
        },
      });
      this.#shared = shared;
      this.channels.relay = (app, channel, iface, name, args) => shared.publish({ app, channel, iface, name, args: [...args] });
    }
    this.#shutdown = new Shutdown({
      connections: this.#connections,
      listeners: this.#listeners,
      sessions: this.sessions,
      registry: this.#registry,
      shared: this.#shared,
      closeGrace: this.closeGrace,
      drainTimeout: this.drainTimeout,
      logger: this.logger,
      finished: () => this.failures.close(),
    });
  }

  /** Where each session's memory is charged: the server's budget. */
  get meter(): MemoryBudget {
    return this.#registry.budget;
  }

  /** Sessions, memory, refusals and evictions, as they stand now. */
  stats(): ServerStats {
    const refusals: Record<string, number> = Object.fromEntries(this.#registry.admission.refusals);
    if (this.#busyRefusals > 0) refusals.memory = this.#busyRefusals;
    const { budget } = this.#registry;
    return {
      sessions: this.sessions.size,
      held: this.#registry.heldCount,
      connections: this.#connections.size,
      memory: { used: budget.used, limit: budget.limit },
      refusals,
      evicted: this.#evicted,
      deferredCalls: this.#registry.admission.deferredCalls,
    };
  }

  /**
   * Connects to the shared store, if there is one (`listen` does it first:
   * other nodes may ask for sessions as soon as clients come).
   */
  openStore(): Promise<void> {
    if (this.#shared === undefined) return Promise.resolve();
    // A failed connection is not remembered: the next listen() tries again.
    return (this.#storeOpened ??= this.#shared.open().catch((error: unknown) => {
      this.#storeOpened = undefined;
      throw error;
    }));
  }

  /** Opens listeners; resolves with one entry per bound address. */
  async listen(options: ListenOptions): Promise<readonly Listener[]> {
    await this.openStore();
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
    if (this.#shutdown.closing) {
      transport.send(encodeClose([ErrorCode.SERVER_CLOSING]));
      transport.close(ErrorCode.SERVER_CLOSING);
      return;
    }
    const connection = new ServerConnection(transport, this);
    this.#connections.add(connection);
    publish.publishConnectionOpen(this, connection);
  }

  /**
   * Sends an event to every session of an application, detached ones
   * included; with a shared store, every node's. Returns how many sessions
   * of this process it reached.
   */
  broadcast(appName: string, iface: string, name: string, args: readonly unknown[]): number {
    if (this.#shared === undefined) return this.#deliverBroadcast(appName, iface, name, args);
    // Shared: delivered here too as it comes back from the store, in the store's order.
    this.#shared.publish({ app: appName, iface, name, args: [...args] });
    let count = 0;
    for (const session of this.sessions.values()) if (session.app.name === appName && !session.ended) count++;
    return count;
  }

  #deliverBroadcast(appName: string, iface: string, name: string, args: readonly unknown[], skip?: (session: ServerSession) => boolean): number {
    const event = prepareEvent(iface, name, args);
    let count = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.app.name !== appName || session.ended || skip?.(session)) continue;
      session.emitPrepared(event);
      count++;
    }
    return count;
  }

  /**
   * Shuts down gracefully: stops accepting connections, answers new calls
   * with code 23, lets calls in flight finish (up to `drainTimeout`), then
   * tells connected clients the server is going away and closes. Sessions
   * still here end (see {@link suspend} to keep them for the next process).
   */
  close(): Promise<void> {
    return this.#shutdown.close();
  }

  /**
   * Stops serving but keeps the sessions for the next process (a restart, a
   * deploy): stops accepting connections and closes every one with code 23,
   * so its session is held and its client will restore it when a server is
   * back; then waits for the calls in flight (up to `drainTimeout`), whose
   * replies wait in the outboxes. Take the sessions with
   * {@link exportSessions} (or {@link park} them), then {@link close}.
   */
  suspend(): Promise<void> {
    return this.#shutdown.suspend();
  }

  /**
   * Takes every session out of a suspended server as records (JSON-safe
   * unless the applications keep other things in `state`), for
   * {@link importSessions} in the next process. Calls still running are in
   * the records as in doubt: the next process answers them 29.
   */
  exportSessions(): SavedSession[] {
    return this.#shutdown.exportSessions();
  }

  /**
   * Takes up sessions another process exported: each is held for a restore
   * for `holdTime` from now, on its application (the newest version when
   * the saved one is gone). Call before {@link listen}, so no client comes
   * back before its session is here.
   */
  importSessions(saved: readonly unknown[]): RevivalReport {
    return reviveSessions(saved, {
      applications: this.applications,
      registry: this.#registry,
      limits: this.limits,
      hooks: this.#hooks,
      meter: this.#registry.budget,
    });
  }

  /**
   * Parks the sessions of a suspended server in its shared store, where
   * any node can claim them, and closes. Resolves to how many were parked.
   */
  park(): Promise<number> {
    return this.#shutdown.park();
  }

  // ConnectionHost

  async handshake(connection: ServerConnection, hello: HandshakeRequest): Promise<ServerSession> {
    const app = this.applications.resolve(hello.app, hello.version);
    if (!app) {
      // A restore of what is not served here (a deploy dropped it) is counted, under no name the client chose.
      const refuse = (): never => {
        throw new RemoteError(ErrorCode.APP_NOT_FOUND);
      };
      return hello.strategy === 'session' ? publish.traceRestore(this, connection, { name: 'unknown', version: 'unknown' }, refuse) : refuse();
    }
    const remoteAddress = connection.transport.remoteAddress;
    if (hello.strategy === 'session') return publish.traceRestore(this, connection, app, () => this.#restore(connection, app, hello.credentials));
    const registry = this.#registry;
    const origin = addressKey(remoteAddress);
    // Before any login runs: failed logins spend the address's rate too.
    const refused = registry.admission.admitSession(origin);
    if (refused !== undefined) throw this.#refused(refused, remoteAddress);
    let user: string | null = null;
    if (hello.strategy !== 'anonymous') {
      user = await this.#login({ app, strategy: hello.strategy, credentials: hello.credentials, remoteAddress });
      if (connection.state !== 'authenticating') throw new TjstpError(ErrorCode.NO_HANDSHAKE_RESPONSE);
      const overLogin = registry.admission.admitLogin(user);
      if (overLogin !== undefined) throw this.#refused(overLogin, remoteAddress);
    }
    if (registry.budget.exceeded && !registry.reclaim()) throw this.#refused('memory', remoteAddress);
    // A tjstp client says so, and gets a key it must prove on every restore.
    const secret = hello.tjstp === undefined ? undefined : newSessionSecret();
    const id = newSessionId();
    const session = new ServerSession({
      key: sessionKey(id),
      app,
      user,
      limits: this.limits,
      hooks: this.#hooks,
      origin,
      secret,
      meter: registry.budget,
    });
    registry.add(session);
    // Other nodes learn that this one serves it (if the store is away, it is served here only).
    const shared = this.#shared?.created(session).catch((error: unknown) => {
      this.#warnings.log(`session store: a new session is known to this node only: ${(error as Error)?.message ?? String(error)}`);
    });
    // The client kept the state of a session this server lost: the application rebuilds from it.
    const resumed = hello.tjstp !== undefined && Object.hasOwn(hello.tjstp, 'resume') && await app.resume(session.context, hello.tjstp.resume);
    if (shared !== undefined) await shared;
    if ((resumed || shared !== undefined) && connection.state !== 'authenticating') {
      registry.end(session, SessionLossReason.CLOSED);
      throw new TjstpError(ErrorCode.NO_HANDSHAKE_RESPONSE);
    }
    const extension = welcomeExtension(this.limits, this);
    if (secret !== undefined) Object.assign(extension, { key: secret, user });
    connection.transport.send(encodeWelcome(id, extension));
    registry.attach(session, connection);
    session.peer.attach(connection.transport, 0);
    publish.publishSessionOpen(this, session);
    this.emit('session', session);
    return session;
  }

  detached(connection: ServerConnection, session: ServerSession): void {
    this.#registry.detach(session, connection);
  }

  closed(connection: ServerConnection): void {
    if (this.#connections.delete(connection)) publish.publishConnectionClose(this, connection);
  }

  /** Ends a session for good; a later restore is answered 11 with the reason. */
  endSession(session: ServerSession, reason: SessionLossReasonValue): void {
    this.#registry.end(session, reason);
  }

  /**
   * Gives a bound session a new id and key (see {@link ServerSession.rotate});
   * false when it cannot rotate.
   */
  rotateSession(session: ServerSession): boolean {
    return this.#registry.rotate(session);
  }

  /** Runs the authentication hook; resolves to the user, or throws a RemoteError. */
  async #login(request: AuthenticationRequest): Promise<string> {
    if (!this.#authenticate) throw new RemoteError(ErrorCode.AUTH_FAILED);
    let user: string | null | undefined;
    try {
      user = await this.#authenticate(request);
    } catch (error) {
      if (RemoteError.is(error)) throw RemoteError.from(error);
      // A broken hook must be visible to operators, not only to the client; a client retrying it, not fill the log.
      if (this.failures.admit('authentication hook', error)) logError(withFields(this.logger, { app: request.app.label }), `authentication hook failed (${request.remoteAddress})`, error);
      throw new RemoteError(ErrorCode.AUTH_FAILED);
    }
    if (typeof user !== 'string' || user.length === 0) throw new RemoteError(ErrorCode.AUTH_FAILED);
    return user;
  }

  #restore(connection: ServerConnection, app: Application, credentials: unknown): ServerSession | Promise<ServerSession> {
    try {
      admitRestoreAttempt(this.#registry, connection.transport.remoteAddress);
    } catch (error) {
      this.#refused(LimitName.RESTORE_RATE, connection.transport.remoteAddress);
      throw error;
    }
    const shared = this.#shared;
    if (shared === undefined) return this.#resume(connection, app, credentials);
    return shared.acquire(credentials).then(() => {
      if (connection.state !== 'authenticating') throw new TjstpError(ErrorCode.NO_HANDSHAKE_RESPONSE);
      return this.#resume(connection, app, credentials);
    });
  }

  #resume(connection: ServerConnection, app: Application, credentials: unknown): ServerSession {
    const remoteAddress = connection.transport.remoteAddress;
    const registry = this.#registry;
    let admitted;
    try {
      admitted = admitRestore(registry, this.#restoreOptions, remoteAddress, app, credentials, (why, session) => {
        this.#warnings.log(`refused a restore of ${session.label} from ${remoteAddress}: ${refusalWording[why]}`, { app: app.label, session: session.label, reason: why });
      });
    } catch (error) {
      if (error instanceof RemoteError && error.code === ErrorCode.LIMIT_EXCEEDED) this.#refused(error.info[0] as LimitNameValue, remoteAddress);
      throw error;
    }
    const { session, request, received } = admitted;
    if (request.nonce !== undefined) session.nonce = request.nonce;
    registry.attach(session, connection);
    const { state } = session.peer;
    const legacy = request.sent === undefined;
    const ok = legacy ? legacyReceived(session, received) : [state.lastSeq, state.received];
    connection.transport.send(encodeWelcome(ok, legacy ? undefined : welcomeExtension(this.limits, this)));
    const replayed = session.peer.attach(connection.transport, received);
    registry.settle(session);
    publish.publishResumed(this, connection, session, replayed);
    this.emit('resume', session, replayed);
    return session;
  }

  /** Reports a refusal and returns the error to answer with (30 or 31). */
  #refused(refusal: Refusal, remoteAddress: string): RemoteError {
    this.emit('refused', refusal, remoteAddress);
    publish.publishRefused(this, refusal, remoteAddress);
    if (refusal !== 'memory') return limitExceeded(refusal);
    this.#busyRefusals++;
    return new RemoteError(ErrorCode.SERVER_BUSY);
  }
}

export { Application, LimitName, type ApplicationDefinition };
