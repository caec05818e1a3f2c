/**
 * The WebSocket server side for Node, on the `ws` package: upgrades that
 * offer a JSTP subprotocol become {@link WebSocketTransport}s. Between
 * tjstp peers it selects `tjstp-batch`, otherwise `metarhia-jstp` (see
 * `subprotocol.ts`).
 */

import * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

import { WebSocketServer } from 'ws';

import { UpgradeDeadline } from './handshake-deadline.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './transport.js';
import {
  BATCH_SUBPROTOCOL,
  JSTP_SUBPROTOCOL,
  maxFrameSize,
  selectSubprotocol,
} from './subprotocol.js';
import { WebSocketTransport } from './websocket.js';

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
   * Select `tjstp-batch` when a client offers it (tjstp clients do), so a
   * tick's messages to that client leave in one frame. Default true. With
   * false every connection speaks `metarhia-jstp`, one message per frame
   * (for tools that read JSTP frames on the wire).
   */
  batching?: boolean;
  /**
   * Only upgrades to this path are handled. Others are left to the server's
   * other `upgrade` listeners, or refused with 404 if there are none.
   */
  path?: string;
  /**
   * ms for a connection to complete its WebSocket upgrade (over HTTPS:
   * counted from the end of the TLS handshake); one that has not, a plain
   * request included, is destroyed. Default 3000; 0 disables. Not applied
   * when the given server already serves plain requests (it has a
   * `request` listener): those need their own limits (`requestTimeout`).
   */
  upgradeTimeout?: number;
  /** Called with each accepted connection. */
  onTransport(transport: WebSocketTransport): void;
}

const DEFAULT_UPGRADE_TIMEOUT = 3000;

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

const offeredIn = (header: string | undefined): string[] =>
  header === undefined ? [] : header.split(',').map((name) => name.trim());

/**
 * Creates a WebSocket server for JSTP on an HTTP(S) server.
 *
 * Upgrades that offer neither `metarhia-jstp` nor `tjstp-batch` are
 * refused with `403` before `ws` sees them: `ws` itself would complete
 * the handshake without a subprotocol (its `handleProtocols` can only
 * choose one, not refuse). Messages over `maxMessageSize` close the
 * connection with 1009 and report MESSAGE_TOO_LARGE.
 */
export function createWebSocketServer(options: WebSocketServerOptions): {
  wss: WebSocketServer;
  server: http.Server | https.Server;
} {
  const server = options.server ?? http.createServer();
  const kind = server instanceof tls.Server ? 'wss' : 'ws';
  const upgradeTimeout = options.upgradeTimeout ?? DEFAULT_UPGRADE_TIMEOUT;
  let deadline: UpgradeDeadline | undefined;
  if (server.listenerCount('request') === 0) {
    server.on('request', answerPlainHttp);
    if (upgradeTimeout > 0) deadline = new UpgradeDeadline(server, upgradeTimeout);
  }
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const batching = options.batching ?? true;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameSize(maxMessageSize),
    perMessageDeflate: false,
    handleProtocols: (protocols) => selectSubprotocol(protocols, batching),
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
    if (selectSubprotocol(offeredIn(req.headers['sec-websocket-protocol']), batching) === false) {
      rejectUpgrade(
        socket,
        403,
        `Sec-WebSocket-Protocol must include ${JSTP_SUBPROTOCOL} or ${BATCH_SUBPROTOCOL}\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      deadline?.upgraded(socket);
      options.onTransport(
        new WebSocketTransport(ws, kind, {
          socket: req.socket,
          maxMessageSize,
          maxUnsentBytes: options.maxUnsentBytes,
        }),
      );
    });
  });
  return { wss, server };
}

