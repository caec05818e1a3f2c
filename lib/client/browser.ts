/**
 * `connectBrowser()`: the client over the W3C WebSocket API (browsers,
 * React Native, Deno, or Node with a WebSocket class passed in). In a page
 * it also listens to the page (see `page-watch.ts`) and can keep its
 * session ticket across reloads (see `ticket-store.ts`); where the page's
 * objects are absent it is the plain client.
 */
import { Client, type ClientOptions, type SessionTicket } from './client.js';
import type { ApiSource, Untyped } from './contract.js';
import { SessionLostError } from '../protocol/errors.js';
import { connectW3CWebSocket, type W3CWebSocketConstructor } from '../transport/w3c-websocket.js';
import { PageWatch, type PageEnvironment } from './page-watch.js';
import { TicketStore, type PersistOptions } from './ticket-store.js';

export type { PageEnvironment, PageEventTarget } from './page-watch.js';
export type { PersistOptions, TicketStorage } from './ticket-store.js';

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
  /**
   * Keep the session ticket in Web Storage so that a page reload reclaims
   * the session: `true` for `sessionStorage` under the default key, or
   * `{ storage, key }`. The ticket is written when a connection is ready,
   * on a rotation, and when the page may go away (`pagehide`, `freeze`, a
   * hidden tab); removed by `close()` and when the session is lost. A
   * stored ticket the server no longer has is dropped and a new session
   * starts. An explicit `session` wins over the stored one. Without
   * storage (React Native, Node) nothing is kept. Default false.
   */
  persist?: boolean | PersistOptions;
  /** The page objects watched; found on `globalThis` by default (see {@link PageEnvironment}). */
  environment?: PageEnvironment;
  /** ms between connection attempts while the page says it is offline. Default 30,000. */
  offlineRetryDelay?: number;
}

/** Saves the ticket whenever it changes and forgets it when the session does. */
const keepTicket = (client: Client, store: TicketStore): void => {
  client.on('ready', () => store.save(client.session));
  client.on('rotated', (ticket) => store.save(ticket));
  client.on('sessionLost', () => store.clear());
};

const start = async <Api extends ApiSource>(
  url: string,
  options: BrowserConnectOptions,
  store: TicketStore | undefined,
  session: SessionTicket | undefined,
): Promise<Client<Api>> => {
  const { WebSocket, connectTimeout = 10_000, webSocketBatching: batching, offlineRetryDelay } = options;
  const watch = new PageWatch(options.environment, {
    offlineRetryDelay,
    onLeave: () => {
      if (store && client.state !== 'closed') store.save(client.session);
    },
  });
  const client: Client<Api> = new Client<Api>({
    ...options,
    session,
    transport: watch.gate(() => connectW3CWebSocket(url, { WebSocket, timeout: connectTimeout, batching })),
  });
  watch.attach(client);
  if (store) keepTicket(client, store);
  try {
    await client.open();
  } catch (error) {
    watch.stop();
    throw error;
  }
  // Only now: a first connection that failed (the network, not the session) keeps the ticket for the next load.
  if (store) {
    client.on('state', (state) => {
      if (state === 'closed') store.clear();
    });
  }
  return client;
};

/**
 * Connects over the W3C WebSocket API and resolves once the first
 * handshake succeeds. In a page it reconnects at once when the page comes
 * back online or a hidden tab becomes visible, holds attempts while the
 * page is offline (see `offlineRetryDelay`), and with `persist` reclaims
 * its session after a reload. `close()` removes its page listeners. Do not
 * call `close()` when the page unloads: that ends the session the next
 * load would reclaim.
 */
export const connectBrowser = async <Api extends ApiSource = Untyped>(url: string, options: BrowserConnectOptions): Promise<Client<Api>> => {
  const store = options.persist ? TicketStore.open(options.persist, url, options.app) : undefined;
  let stored = options.session === undefined ? store?.load(options.app) : undefined;
  // A ticket of someone else than the login asked for is not this user's session.
  if (stored?.user !== undefined && options.login !== undefined && stored.user !== options.login.user) {
    store?.clear();
    stored = undefined;
  }
  try {
    return await start<Api>(url, options, store, options.session ?? stored);
  } catch (error) {
    if (stored === undefined || !(error instanceof SessionLostError)) throw error;
    store?.clear();
    return start<Api>(url, options, store, undefined);
  }
};
