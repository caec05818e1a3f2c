/**
 * `connectBrowser()`: the client over the W3C WebSocket API (browsers,
 * React Native, Deno, or Node with a WebSocket class passed in).
 */
import { Client, type ClientOptions } from './client.js';
import type { ApiSource, Untyped } from './contract.js';
import { connectW3CWebSocket, type W3CWebSocketConstructor } from '../transport/w3c-websocket.js';

export interface BrowserConnectOptions extends Omit<ClientOptions, 'transport'> {
  /** A WebSocket constructor; defaults to `globalThis.WebSocket`. */
  WebSocket?: W3CWebSocketConstructor;
  /** ms to open the WebSocket. Default 10,000. */
  connectTimeout?: number;
  /**
   * Offer the `tjstp-batch` subprotocol too, so that a tjstp server sends
   * a tick's messages in one frame (one `message` event, not one each).
   * Default true.
   */
  webSocketBatching?: boolean;
}

export const connectBrowser = async <Api extends ApiSource = Untyped>(url: string, options: BrowserConnectOptions): Promise<Client<Api>> => {
  const { WebSocket, connectTimeout = 10_000, webSocketBatching: batching } = options;
  const client = new Client<Api>({
    ...options,
    transport: () => connectW3CWebSocket(url, { WebSocket, timeout: connectTimeout, batching }),
  });
  await client.open();
  return client;
};
