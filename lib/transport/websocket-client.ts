/**
 * The WebSocket client side for Node: opens a `ws` connection offering the
 * JSTP subprotocols and hands it over as a {@link WebSocketTransport}.
 */

import type * as http from 'node:http';
import type * as net from 'node:net';
import type * as tls from 'node:tls';

import WebSocket from 'ws';

import { DEFAULT_MAX_MESSAGE_SIZE } from './transport.js';
import { maxFrameSize, offeredSubprotocols } from './subprotocol.js';
import { WebSocketTransport } from './websocket.js';

/** Options of {@link connectWebSocket}. */
export interface ConnectWebSocketOptions {
  /** Largest accepted message in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Milliseconds to wait for the connection and opening handshake. */
  timeout?: number;
  /**
   * Offer `tjstp-batch` besides `metarhia-jstp`, so that a tjstp server
   * sends a tick's messages in one frame. Default true; a server that does
   * not know it (the reference) selects `metarhia-jstp`.
   */
  batching?: boolean;
  /** TLS options for `wss:` (`ca`, `rejectUnauthorized`, …). */
  tls?: tls.SecureContextOptions & {
    rejectUnauthorized?: boolean;
    servername?: string;
  };
}

/**
 * Connects to a JSTP WebSocket server, offering `metarhia-jstp` and
 * (unless `batching` is false) `tjstp-batch`. Resolves once open. Rejects with the network error as is (its `code`,
 * e.g. `ECONNREFUSED`, kept), or with an Error explaining a failed
 * handshake (non-101 status, no subprotocol) or a timeout.
 */
export function connectWebSocket(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<WebSocketTransport> {
  const { timeout } = options;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, offeredSubprotocols(options.batching ?? true), {
      ...options.tls,
      maxPayload: maxFrameSize(maxMessageSize),
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
        maxMessageSize,
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
