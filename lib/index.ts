/**
 * tjstp for Node: server, client and transports. Browser and React Native
 * code should import `tjstp/client` instead, which carries no Node built-ins.
 */
export * from './client/index';
export { connect, transportFor, type ConnectOptions } from './connect';
export {
  Server,
  consoleLogger,
  silentLogger,
  type Authenticate,
  type AuthenticationRequest,
  type Logger,
  type ServerEvents,
  type ServerOptions,
} from './server/server';
export {
  Application,
  ApplicationRegistry,
  type ApplicationDefinition,
  type Interface,
  type Method,
  type MethodContext,
} from './server/application';
export type { Listener, ListenOptions, SecureListenOptions } from './server/listeners';
export { ServerSession, defaultSessionLimits, type SessionLimits } from './server/session';
export { MemorySessionStore, type SessionStore, type ServerSessionRecord } from './server/session-store';
