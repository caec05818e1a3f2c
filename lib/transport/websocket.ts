/**
 * WebSocket transports for Node, on the `ws` package: a server that only
 * accepts the `metarhia-jstp` subprotocol, and a client. One WebSocket
 * message carries exactly one JSTP message, without terminator.
 */

import * as http from 'node:http';
import type * as https from 'node:https';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

import WebSocket, { WebSocketServer } from 'ws';

import { ErrorCode, ProtocolError } from '../protocol/errors';
import {
  CLOSE_LINGER,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_UNSENT_BYTES,
  Transport,
  TransportHandler,
} from './transport';
import { HandlerSlot, type HandlerSlotHooks } from './handler-slot';
import { formatAddress } from './socket';
import { JSTP_SUBPROTOCOL, closeErrorFor, closeStatusFor } from './w3c-websocket';

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** Peer address for logs. Default: looked up on first use from `socket`. */
  remoteAddress?: string;
  /** The `maxPayload` the WebSocket enforces, for error messages. */
  maxMessageSize?: number;
  /** Unsent bytes past which a peer that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /**
   * The connection's socket, corked for a tick on send so that messages
   * sent in one tick leave in one segment. Without it each frame is
   * written on its own.
   */
  socket?: Pick<Duplex, 'cork' | 'uncork'> & Partial<Pick<net.Socket, 'remoteAddress' | 'remotePort'>>;
}

const toText = (data: WebSocket.RawData): string => {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
};

/** Turns what `ws` emits as `error` into the error the handler sees. */
const toTransportError = (error: Error, maxPayload: number): Error => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return new ProtocolError(
      `Message exceeds ${maxPayload} bytes`,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
  }
  if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
    return new ProtocolError(`Invalid WebSocket frame: ${error.message}`);
  }
  return error;
};

/**
 * A {@link Transport} over an open `ws` WebSocket. Every `error` the
 * WebSocket emits is handled and ends in exactly one `handler.close`.
 */
/** Where a WebSocket's transport is found by the listeners all of them share. */
const OWNER = Symbol('tjstp.webSocketTransport');
type OwnedWebSocket = WebSocket & { [OWNER]?: WebSocketTransport };

export class WebSocketTransport implements Transport {
  /**
   * WebSocket listeners shared by every transport (`this` is the WebSocket)
   * and one small flow-control object: a server holds many idle
   * connections, and closures per connection cost it a few hundred bytes.
   */
  static readonly #listeners = {
    message(this: OwnedWebSocket, data: WebSocket.RawData): void {
      const transport = this[OWNER];
      // After `destroy` the rest of an already received chunk is not reported.
      if (transport && !transport.#destroyed) transport.#slot.message(toText(data));
    },
    error(this: OwnedWebSocket, error: Error): void {
      const transport = this[OWNER];
      if (!transport) return;
      transport.#open = false;
      transport.#slot.fail(toTransportError(error, transport.#maxPayload));
    },
    close(this: OwnedWebSocket, status: number, reason: Buffer): void {
      const transport = this[OWNER];
      if (!transport) return;
      transport.#open = false;
      transport.#uncork();
      const error = transport.#closing
        ? undefined
        : closeErrorFor(status, reason.toString('utf8'));
      transport.#slot.end(error);
    },
  };

  /**
   * Reading stops while nobody is bound (until `bind`), never while
   * closing: the close handshake needs the peer's frame.
   */
  static readonly #Flow = class implements HandlerSlotHooks {
    readonly #transport: WebSocketTransport;

    constructor(transport: WebSocketTransport) {
      this.#transport = transport;
    }

    pause(): void {
      if (this.#transport.#open) this.#transport.#ws.pause();
    }

    resume(): void {
      this.#transport.#ws.resume();
    }
  };

  readonly kind: 'ws' | 'wss';
  readonly #ws: OwnedWebSocket;
  readonly #socket: WebSocketTransportOptions['socket'];
  #remoteAddress: string | undefined;
  readonly #slot: HandlerSlot;
  readonly #maxUnsentBytes: number;
  readonly #maxPayload: number;
  #open = true;
  /** We started the close, so the status the peer echoes is no error. */
  #closing = false;
  #corked = false;
  #destroyed = false;

  constructor(
    ws: WebSocket,
    kind: 'ws' | 'wss',
    options: WebSocketTransportOptions,
  ) {
    this.kind = kind;
    this.#remoteAddress = options.remoteAddress;
    this.#ws = ws;
    this.#socket = options.socket;
    this.#maxUnsentBytes = options.maxUnsentBytes ?? MAX_UNSENT_BYTES;
    this.#maxPayload = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#slot = new HandlerSlot(new WebSocketTransport.#Flow(this));
    // Text and binary frames alike carry UTF-8 text.
    (ws as OwnedWebSocket)[OWNER] = this;
    const listeners = WebSocketTransport.#listeners;
    ws.on('message', listeners.message);
    ws.on('error', listeners.error);
    ws.on('close', listeners.close);
    if (ws.readyState !== WebSocket.OPEN) this.#open = false;
  }

  /** The peer's address; looked up on first use, so read it while connected. */
  get remoteAddress(): string {
    return (this.#remoteAddress ??= this.#socket ? formatAddress(this.#socket) : 'unknown');
  }

  get open(): boolean {
    return this.#open && this.#ws.readyState === WebSocket.OPEN;
  }

  send(message: string): void {
    if (!this.open) return;
    if (this.#socket && !this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => this.#uncork());
    }
    this.#ws.send(message);
    if (this.#ws.bufferedAmount > this.#maxUnsentBytes) {
      this.#slot.fail(new ProtocolError(`Peer is not reading: over ${this.#maxUnsentBytes} bytes unsent`));
      this.destroy();
    }
  }

  /**
   * Sends a close frame: PROTOCOL_ERROR → 1002, MESSAGE_TOO_LARGE → 1009,
   * SERVER_CLOSING → 1001, anything else 1000; the reason is the code's
   * default message.
   */
  close(code?: number): void {
    if (!this.#open) return;
    this.#open = false;
    this.#closing = true;
    const { status, reason } = closeStatusFor(code);
    this.#ws.close(status, reason);
    this.#uncork();
    this.#ws.resume();
    // ws waits 30 s for the peer's close frame; a peer that never sends one
    // must not hold the connection that long.
    setTimeout(() => this.#ws.terminate(), CLOSE_LINGER).unref();
  }

  destroy(): void {
    this.#open = false;
    this.#closing = true;
    this.#destroyed = true;
    this.#corked = false; // the socket is going away with its buffer
    this.#ws.terminate();
  }

  bind(handler: TransportHandler): void {
    this.#slot.bind(handler);
  }

  unbind(): void {
    this.#slot.unbind();
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket?.uncork();
  }
}

/** Options of {@link createWebSocketServer}. */
export interface WebSocketServerOptions {
  /**
   * The HTTP(S) server to attach to; one is created if omitted. The caller
   * calls `listen`. Plain HTTP requests get `426 Upgrade Required` unless
   * the given server already has a `request` listener.
   */
  server?: http.Server | https.Server;
  /** Largest accepted message in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Unsent bytes past which a peer that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /**
   * Only upgrades to this path are handled. Others are left to the server's
   * other `upgrade` listeners, or refused with 404 if there are none.
   */
  path?: string;
  /** Called with each accepted connection. */
  onTransport(transport: WebSocketTransport): void;
}

const rejectUpgrade = (socket: Duplex, status: number, body: string): void => {
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
};

const answerPlainHttp = (
  _req: http.IncomingMessage,
  res: http.ServerResponse,
): void => {
  const body = `Upgrade Required: this is a JSTP WebSocket endpoint (subprotocol ${JSTP_SUBPROTOCOL})\n`;
  res.writeHead(426, {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
};

const offersJstp = (header: string | undefined): boolean =>
  header !== undefined &&
  header.split(',').some((name) => name.trim() === JSTP_SUBPROTOCOL);

/**
 * Creates a WebSocket server for JSTP on an HTTP(S) server.
 *
 * Upgrades that do not offer the `metarhia-jstp` subprotocol are refused
 * with `403` before `ws` sees them: `ws` itself would complete the
 * handshake without a subprotocol (its `handleProtocols` can only choose
 * one, not refuse). Messages over `maxMessageSize` close the connection
 * with 1009 and report MESSAGE_TOO_LARGE.
 */
export function createWebSocketServer(options: WebSocketServerOptions): {
  wss: WebSocketServer;
  server: http.Server | https.Server;
} {
  const server = options.server ?? http.createServer();
  const kind = server instanceof tls.Server ? 'wss' : 'ws';
  if (server.listenerCount('request') === 0) {
    server.on('request', answerPlainHttp);
  }
  const maxPayload = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    handleProtocols: (protocols) =>
      protocols.has(JSTP_SUBPROTOCOL) ? JSTP_SUBPROTOCOL : false,
  });
  // Never emitted in noServer mode today; listened to so it cannot crash.
  wss.on('error', () => {});

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head) => {
    if (options.path !== undefined) {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const pathname = query === -1 ? url : url.slice(0, query);
      if (pathname !== options.path) {
        // Another listener (another endpoint on this server) may own it.
        if (server.listenerCount('upgrade') === 1) {
          rejectUpgrade(socket, 404, 'Not Found\n');
        }
        return;
      }
    }
    if (!offersJstp(req.headers['sec-websocket-protocol'])) {
      rejectUpgrade(
        socket,
        403,
        `Sec-WebSocket-Protocol must include ${JSTP_SUBPROTOCOL}\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      options.onTransport(
        new WebSocketTransport(ws, kind, {
          socket: req.socket,
          maxMessageSize: maxPayload,
          maxUnsentBytes: options.maxUnsentBytes,
        }),
      );
    });
  });
  return { wss, server };
}

/** Options of {@link connectWebSocket}. */
export interface ConnectWebSocketOptions {
  /** Largest accepted message in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Milliseconds to wait for the connection and opening handshake. */
  timeout?: number;
  /** TLS options for `wss:` (`ca`, `rejectUnauthorized`, …). */
  tls?: tls.SecureContextOptions & {
    rejectUnauthorized?: boolean;
    servername?: string;
  };
}

/**
 * Connects to a JSTP WebSocket server, requesting `metarhia-jstp`.
 * Resolves once open. Rejects with the network error as is (its `code`,
 * e.g. `ECONNREFUSED`, kept), or with an Error explaining a failed
 * handshake (non-101 status, no subprotocol) or a timeout.
 */
export function connectWebSocket(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<WebSocketTransport> {
  const { timeout } = options;
  const maxPayload = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, JSTP_SUBPROTOCOL, {
      ...options.tls,
      maxPayload,
      perMessageDeflate: false,
      followRedirects: false,
    });
  } catch (error) {
    return Promise.reject(error);
  }
  const kind = /^(wss|https):/i.test(url) ? 'wss' : 'ws';

  return new Promise<WebSocketTransport>((resolve, reject) => {
    let socket: net.Socket | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      reject(error);
    };
    const onError = (error: Error): void => {
      if ((error as NodeJS.ErrnoException).code !== undefined) {
        fail(error);
        return;
      }
      fail(
        new Error(`WebSocket connection to ${url} failed: ${error.message}`, {
          cause: error,
        }),
      );
    };
    const onUpgrade = (res: http.IncomingMessage): void => {
      socket = res.socket;
    };
    const onOpen = (): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      // The transport attaches its own error listener before ours goes.
      const transport = new WebSocketTransport(ws, kind, {
        remoteAddress: url,
        socket,
        maxMessageSize: maxPayload,
      });
      ws.off('error', onError);
      ws.off('upgrade', onUpgrade);
      resolve(transport);
    };
    ws.on('error', onError);
    ws.on('upgrade', onUpgrade);
    ws.once('open', onOpen);
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        fail(
          Object.assign(
            new Error(
              `WebSocket connection to ${url} timed out after ${timeout} ms`,
            ),
            { code: 'ETIMEDOUT' },
          ),
        );
        ws.terminate();
      }, timeout);
    }
  });
}
