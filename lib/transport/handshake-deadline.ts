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
  readonly #timers = new WeakMap<Duplex, ReturnType<typeof setTimeout>>();
  /** One listener for every socket: an idle server holds many. */
  readonly #onClose: (this: Duplex) => void;

  constructor(server: http.Server | https.Server, ms: number) {
    const timers = this.#timers;
    this.#onClose = function onClose(this: Duplex): void {
      clearTimeout(timers.get(this));
      timers.delete(this);
    };
    const arm = (socket: Duplex): void => {
      timers.set(socket, setTimeout(() => socket.destroy(), ms));
      socket.once('close', this.#onClose);
    };
    // An HTTPS server's requests come over the TLS socket, not the raw one.
    server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', arm);
  }

  /** The socket is a WebSocket now: no deadline. */
  upgraded(socket: Duplex): void {
    clearTimeout(this.#timers.get(socket));
    this.#timers.delete(socket);
    socket.off('close', this.#onClose);
  }
}
