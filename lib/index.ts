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
  type Refusal,
  type ServerEvents,
  type ServerOptions,
  type ServerStats,
} from './server/server';
export { defaultAdmissionLimits, type AdmissionLimits } from './server/admission';
export { defaultRestoreOptions, type RestoreOptions } from './server/restore';
export {
  Application,
  ApplicationRegistry,
  type Access,
  type ApplicationDefinition,
  type ApplicationHost,
  type ApplicationOptions,
  type EventHandler,
  type Hook,
  type HookApi,
  type Interface,
  type JsonSchema,
  type Method,
  type MethodContext,
  type MethodDefinition,
  type MethodDescription,
  type SessionContext,
} from './server/application';
export {
  LoadError,
  loadApplications,
  type LoadOptions,
  type LoadedApplications,
  type WatchReport,
} from './server/loader/index';
export { Channels } from './server/channels';
export { ApplicationFailure } from './server/failure';
export { FailureLog, defaultFailureLog, type FailureLogOptions } from './server/failure-log';
export type { Listener, ListenOptions, SecureListenOptions } from './server/listeners';
export { ServerSession, defaultSessionLimits, type SessionLimits } from './server/session';
export { MemorySessionIndex, type SessionIndex } from './server/session-index';
export { RedisSessionStore, type RedisSessionStoreOptions } from './server/redis-store';
export type { Claim, HandoverReply, HandoverRequest, SavedSession, SessionStore, ServerSessionRecord, SharedEvent, StoreHandlers } from './server/session-store';
