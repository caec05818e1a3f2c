/**
 * Deadlines for what comes before a transport exists: a TLS handshake, and
 * an HTTP request that should upgrade to a WebSocket. Until a transport
 * exists the JSTP handshake timeout cannot apply, and Node's own limits are
 * generous (a TLS handshake: 120 s, after which the socket is reported but
 * not closed; HTTP headers: 60 s, checked every 30 s). A stranger could
 * hold thousands of such connections open for nothing.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

/**
 * Destroys the socket of every failed TLS handshake, a timed-out one
 * included: Node only reports those (`tlsClientError`), leaving the socket
 * open. The timeout itself is the server's `handshakeTimeout` option.
 */
export const dropFailedTlsHandshakes = (server: tls.Server): void => {
  server.on('tlsClientError', (_error: Error, socket: tls.TLSSocket) => socket.destroy());
};

/**
 * Destroys every connection to an HTTP(S) server that has not completed a
 * WebSocket upgrade within `ms` of connecting (HTTPS: of completing its TLS
 * handshake, which {@link dropFailedTlsHandshakes} bounds). A plain request
 * gets no longer. The owner reports each completed upgrade
 * ({@link UpgradeDeadline.upgraded}); from then on the JSTP handshake
 * timeout applies.
 */
export class UpgradeDeadline {
  /**
   * Sockets not yet upgraded, with their deadlines, in the order they came:
   * one sweep a while rather than a timer and a close listener per socket,
   * which a storm of ten thousand reconnections would pay for each.
   */
  readonly #pending = new Map<Duplex, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(server: http.Server | https.Server, ms: number) {
    const arm = (socket: Duplex): void => {
      this.#pending.set(socket, Date.now() + ms);
      this.#sweeper ??= setInterval(() => this.#sweep(), Math.max(10, Math.min(ms / 4, 250))).unref();
    };
    // An HTTPS server's requests come over the TLS socket, not the raw one.
    server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', arm);
  }

  /** The socket is a WebSocket now: no deadline. */
  upgraded(socket: Duplex): void {
    this.#pending.delete(socket);
  }

  /**
   * Destroys the sockets past their deadline. Deadlines come in order, so
   * the sweep stops at the first one still running; a socket that closed
   * meanwhile is forgotten when its turn comes (at most `ms` later).
   */
  #sweep(): void {
    const now = Date.now();
    for (const [socket, deadline] of this.#pending) {
      if (deadline > now && !socket.destroyed) break;
      this.#pending.delete(socket);
      socket.destroy();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
