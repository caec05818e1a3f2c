/**
 * The client core, free of Node built-ins: usable in browsers and React
 * Native with the W3C WebSocket transport (`connectBrowser`).
 */
export {
  Client,
  type ClientEvents,
  type ClientOptions,
  type ClientState,
  type ReadyInfo,
  type RemoteEvent,
  type SessionTicket,
  type TransportFactory,
} from './client';
export { Backoff, defaultBackoff, type BackoffOptions } from './backoff';
export { EventsDroppedError } from './event-queue';
export type { ClientInterfaces, ClientMethod } from './api';
export { connectBrowser, type BrowserConnectOptions } from './browser';
export type { ServerLimits } from './handshake';
export * from '../protocol/errors';
export type { Transport, TransportHandler, TransportKind } from '../transport/transport';
