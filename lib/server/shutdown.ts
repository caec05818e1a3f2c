/**
 * How a server stops: for good (`close`: sessions end), or handing its
 * sessions on (`suspend`, then export or park them, then `close`). The
 * order matters and is the same in both: stop accepting, settle what is
 * running, say goodbye, and only then let go of the sockets.
 */
import { ErrorCode, SessionLossReason, TjstpError } from '../protocol/errors.js';
import type { Transport } from '../transport/transport.js';
import type { ServerConnection } from './connection.js';
import type { Listener } from './listeners.js';
import type { Logger } from './options.js';
import type { SessionRegistry } from './registry.js';
import type { SessionIndex } from './session-index.js';
import type { ServerSession } from './session.js';
import type { SavedSession } from './session-store.js';
import type { SharedSessions } from './shared-sessions.js';

/** What stopping needs of its server: live collections, read when it runs. */
export interface ShutdownHost {
  readonly connections: ReadonlySet<ServerConnection>;
  /** Emptied by the shutdown: closed listeners are no longer the server's. */
  readonly listeners: Listener[];
  readonly sessions: SessionIndex<ServerSession>;
  readonly registry: SessionRegistry;
  readonly shared: SharedSessions | undefined;
  readonly closeGrace: number;
  readonly drainTimeout: number;
  readonly logger: Logger;
  /** Last of all (the failure log's summaries). */
  finished(): void;
}

export class Shutdown {
  readonly #host: ShutdownHost;
  #closing = false;
  #closed = false;
  #settling: Promise<void> = Promise.resolve();

  constructor(host: ShutdownHost) {
    this.#host = host;
  }

  /** New connections and calls are refused from now on. */
  get closing(): boolean {
    return this.#closing;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { registry, sessions } = this.#host;
    if (!this.#closing) {
      this.#closing = true;
      const closing = this.#closeListeners();
      await this.#drain();
      const transports = this.#transports();
      this.#failConnections();
      this.#settling = this.#settle(closing, transports);
    }
    // Suspended: what was not exported ends here.
    for (const session of [...sessions.values()]) registry.end(session, SessionLossReason.CLOSED);
    await this.#settling;
    // Ends of sessions go to the store before its connection closes.
    await this.#host.shared?.close().catch((error: unknown) => this.#host.logger.warn(`session store: ${(error as Error)?.message ?? String(error)}`));
    this.#host.finished();
  }

  async suspend(): Promise<void> {
    if (this.#closing) throw new Error('The server is already closing');
    this.#closing = true;
    const closing = this.#closeListeners();
    const transports = this.#transports();
    this.#failConnections();
    await this.#drain();
    // The sessions are detached already: export them now; sockets finish closing meanwhile (close() waits).
    this.#settling = this.#settle(closing, transports);
  }

  exportSessions(): SavedSession[] {
    if (!this.#closing || this.#closed) throw new Error('Export sessions from a suspended server (call suspend() first)');
    return this.#host.registry.surrender(new TjstpError(ErrorCode.SERVER_CLOSING));
  }

  async park(): Promise<number> {
    const shared = this.#host.shared;
    if (shared === undefined) throw new Error('No shared store to park sessions in (the store option)');
    const saved = this.exportSessions();
    try {
      return await shared.park(saved);
    } finally {
      await this.close();
    }
  }

  #transports(): Transport[] {
    return [...this.#host.connections].map((connection) => connection.transport);
  }

  #closeListeners(): Promise<void> {
    const listeners = this.#host.listeners.splice(0);
    return Promise.all(listeners.map((listener) => listener.close())).then(() => undefined);
  }

  #failConnections(): void {
    for (const connection of [...this.#host.connections]) {
      connection.fail(new TjstpError(ErrorCode.SERVER_CLOSING), [ErrorCode.SERVER_CLOSING]);
    }
  }

  /** Waits up to `closeGrace` for the listeners to close, then drops peers that did not finish closing. */
  async #settle(closing: Promise<void>, transports: readonly Transport[]): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#host.closeGrace);
    });
    await Promise.race([closing, grace]);
    clearTimeout(timer);
    for (const transport of transports) transport.destroy();
    await closing;
  }

  /** Resolves once no method is running (or the drain timeout passed). */
  async #drain(): Promise<void> {
    const { drainTimeout, sessions } = this.#host;
    const deadline = Date.now() + drainTimeout;
    const running = (): number => {
      let count = 0;
      for (const session of sessions.values()) count += session.peer.runningCount;
      return count;
    };
    while (running() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const left = running();
    if (left > 0) this.#host.logger.warn(`closing with ${left} call(s) still running after ${drainTimeout} ms`);
    // Replies written in the last tick leave before the goodbye.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
