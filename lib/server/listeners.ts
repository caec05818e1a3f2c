/**
 * Opening and closing the server's listeners. Each listener reports the
 * address it actually bound, so port 0 works (tests, `tjstp serve --tcp 0`).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { dropFailedTlsHandshakes } from '../transport/handshake-deadline.js';
import { createSocketServer } from '../transport/socket.js';
import type { Transport, TransportKind } from '../transport/transport.js';
import { createWebSocketServer } from '../transport/websocket-server.js';

export interface SecureListenOptions {
  port: number;
  /**
   * PEM certificate, key and anything else `tls.createServer` takes. Its
   * `handshakeTimeout` defaults to the server's (Node's own is 120 s).
   */
  tls: tls.TlsOptions;
}

export interface ListenOptions {
  /** Interface to bind TCP/TLS/WS/WSS to. Default 127.0.0.1. */
  host?: string;
  tcp?: number;
  tls?: SecureListenOptions;
  ws?: number;
  wss?: SecureListenOptions;
  /** Unix socket or Windows pipe path. */
  ipc?: string;
  /**
   * Connections the kernel queues before they are accepted. Default 4096
   * (Node's is 511). When many sessions resume at once (a server restart, a
   * network blip), a short queue overflows and the kernel drops the excess
   * SYNs; those clients retry only after a second or more. The kernel caps
   * it (Linux: `net.core.somaxconn`, 4096 by default since 5.4).
   */
  backlog?: number;
  /**
   * WS and WSS select the `tjstp-batch` subprotocol for clients that offer
   * it (tjstp clients do): the messages of one tick to a client leave in
   * one frame. Default true. False makes every connection speak
   * `metarhia-jstp`, one message per frame, as the reference does.
   */
  webSocketBatching?: boolean;
}

export const DEFAULT_BACKLOG = 4096;

export interface Listener {
  readonly kind: TransportKind;
  /** `tcp://127.0.0.1:41234`, `ws://…`, or the IPC path. */
  readonly url: string;
  readonly port: number | undefined;
  close(): Promise<void>;
}

interface ListenerContext {
  maxMessageSize: number;
  maxUnsentBytes: number;
  /**
   * ms for what comes before the JSTP handshake: a TLS handshake, a
   * WebSocket upgrade. A connection still in one by then is destroyed.
   */
  handshakeTimeout: number;
  onTransport(transport: Transport): void;
}

const bind = (server: net.Server, kind: TransportKind, host: string, port: number | string, backlog: number): Promise<Listener> =>
  new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    const ready = (): void => {
      server.off('error', onError);
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      const url = typeof port === 'string' ? port : `${kind}://${host.includes(':') ? `[${host}]` : host}:${bound}`;
      resolve({
        kind,
        url,
        port: bound,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          (server as http.Server).closeAllConnections?.();
        }),
      });
    };
    if (typeof port === 'string') server.listen({ path: port, backlog }, ready);
    else server.listen({ port, host, backlog }, ready);
  });

/** Opens every listener asked for; closes those already open if one fails. */
export const openListeners = async (options: ListenOptions, context: ListenerContext): Promise<Listener[]> => {
  const host = options.host ?? '127.0.0.1';
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  if (!Number.isInteger(backlog) || backlog < 1) throw new RangeError(`backlog must be a positive integer, got ${backlog}`);
  const { maxMessageSize, maxUnsentBytes, handshakeTimeout, onTransport } = context;
  const batching = options.webSocketBatching ?? true;
  const secure = (given: tls.TlsOptions): tls.TlsOptions => ({ handshakeTimeout, ...given });
  const opened: Listener[] = [];
  const open = async (server: net.Server, kind: TransportKind, port: number | string): Promise<void> => {
    // Errors after listen (e.g. EMFILE on accept) must not crash the process.
    server.on('error', () => {});
    opened.push(await bind(server, kind, host, port, backlog));
  };
  try {
    if (options.tcp !== undefined) {
      await open(createSocketServer({ kind: 'tcp', maxMessageSize, maxUnsentBytes, onTransport }), 'tcp', options.tcp);
    }
    if (options.tls !== undefined) {
      const server = createSocketServer({ kind: 'tls', tls: secure(options.tls.tls), maxMessageSize, maxUnsentBytes, onTransport });
      dropFailedTlsHandshakes(server as tls.Server);
      await open(server, 'tls', options.tls.port);
    }
    if (options.ipc !== undefined) {
      await open(createSocketServer({ kind: 'ipc', maxMessageSize, maxUnsentBytes, onTransport }), 'ipc', options.ipc);
    }
    const webSocket = { maxMessageSize, maxUnsentBytes, batching, upgradeTimeout: handshakeTimeout, onTransport };
    if (options.ws !== undefined) {
      const { server } = createWebSocketServer({ server: http.createServer(), ...webSocket });
      await open(server, 'ws', options.ws);
    }
    if (options.wss !== undefined) {
      const tlsServer = https.createServer(secure(options.wss.tls));
      dropFailedTlsHandshakes(tlsServer);
      const { server } = createWebSocketServer({ server: tlsServer, ...webSocket });
      await open(server, 'wss', options.wss.port);
    }
  } catch (error) {
    await Promise.all(opened.map((listener) => listener.close()));
    throw error;
  }
  return opened;
};
