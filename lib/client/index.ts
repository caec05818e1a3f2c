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
} from './client.js';
export { Backoff, defaultBackoff, type BackoffOptions } from './backoff.js';
export { EventsDroppedError } from './event-queue.js';
export type { ClientInterfaces, ClientMethod } from './api.js';
export type {
  ApiContract,
  ApiOf,
  ApiSource,
  ApplicationShape,
  ContractOf,
  EventArgs,
  EventName,
  InterfaceName,
  MethodArgs,
  MethodName,
  MethodResult,
  MethodsOf,
  RemoteApi,
  RemoteMethodOf,
  Untyped,
  UntypedEvents,
  UntypedMethods,
} from './contract.js';
export {
  connectBrowser,
  type BrowserConnectOptions,
  type PageEnvironment,
  type PageEventTarget,
  type PersistOptions,
  type TicketStorage,
} from './browser.js';
export type { ServerLimits } from './handshake.js';
export * from '../protocol/errors.js';
export type { Transport, TransportHandler, TransportKind } from '../transport/transport.js';
