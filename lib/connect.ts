/**
 * `connect()` for Node: picks the transport from the URL and opens a client.
 *
 *   tcp://host:port   tls://host:port   ws://host:port/path   wss://…
 *   ipc:///path/to.sock (or a bare path)
 */
import type tls from 'node:tls';
import { Client, type ClientOptions, type TransportFactory } from './client/client.js';
import type { ApiSource, Untyped } from './client/contract.js';
import { connectSocket } from './transport/socket.js';
import type { Transport } from './transport/transport.js';
import { connectWebSocket } from './transport/websocket-client.js';

export interface ConnectOptions extends Omit<ClientOptions, 'transport'> {
  /** TLS options for tls:// and wss:// (`ca`, `rejectUnauthorized`, …). */
  tls?: tls.ConnectionOptions;
  /** ms to open the transport. Default 10,000. */
  connectTimeout?: number;
  /** Largest message accepted, bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /**
   * ws:// and wss:// also offer the `tjstp-batch` subprotocol: a tjstp
   * server then sends a tick's messages in one frame. Default true; the
   * reference server selects `metarhia-jstp` either way.
   */
  webSocketBatching?: boolean;
}

/** Makes a transport factory for a URL; throws on an unsupported scheme. */
export const transportFor = (url: string, options: Omit<ConnectOptions, 'app'> = {}): TransportFactory => {
  const { tls, connectTimeout = 10_000, maxMessageSize, webSocketBatching: batching } = options;
  if (!url.includes('://')) {
    return () => connectSocket({ kind: 'ipc', path: url, timeout: connectTimeout, maxMessageSize });
  }
  const parsed = new URL(url);
  const scheme = parsed.protocol.slice(0, -1);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(parsed.port);
  switch (scheme) {
    case 'tcp':
    case 'jstp':
      return () => connectSocket({ kind: 'tcp', host, port, timeout: connectTimeout, maxMessageSize });
    case 'tls':
    case 'jstps':
      return () => connectSocket({ kind: 'tls', host, port, tls, timeout: connectTimeout, maxMessageSize });
    case 'ipc':
      return () => connectSocket({ kind: 'ipc', path: parsed.pathname, timeout: connectTimeout, maxMessageSize });
    case 'ws':
    case 'wss':
      return (): Promise<Transport> => connectWebSocket(url, { timeout: connectTimeout, maxMessageSize, tls, batching });
    default:
      throw new TypeError(`Unsupported URL scheme "${scheme}" (use tcp, tls, ws, wss or ipc)`);
  }
};

/**
 * Connects to a tjstp (or reference JSTP) server and resolves once the
 * handshake succeeded; rejects with the cause if the first attempt fails.
 * From then on the client reconnects by itself and resumes its session.
 * `Api` types the client (`connect<ChatApi>` with what `tjstp types`
 * wrote, or `connect<typeof app>`); see ./client/contract.ts.
 */
export const connect = async <Api extends ApiSource = Untyped>(url: string, options: ConnectOptions): Promise<Client<Api>> => {
  const client = new Client<Api>({ ...options, transport: transportFor(url, options) });
  await client.open();
  return client;
};
