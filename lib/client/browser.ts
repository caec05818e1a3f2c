/**
 * `connectBrowser()`: the client over the W3C WebSocket API (browsers,
 * React Native, Deno, or Node with a WebSocket class passed in).
 */
import { Client, type ClientOptions } from './client';
import { connectW3CWebSocket, type W3CWebSocketConstructor } from '../transport/w3c-websocket';

export interface BrowserConnectOptions extends Omit<ClientOptions, 'transport'> {
  /** A WebSocket constructor; defaults to `globalThis.WebSocket`. */
  WebSocket?: W3CWebSocketConstructor;
  /** ms to open the WebSocket. Default 10,000. */
  connectTimeout?: number;
}

export const connectBrowser = async (url: string, options: BrowserConnectOptions): Promise<Client> => {
  const { WebSocket, connectTimeout = 10_000 } = options;
  const client = new Client({
    ...options,
    transport: () => connectW3CWebSocket(url, { WebSocket, timeout: connectTimeout }),
  });
  await client.open();
  return client;
};
