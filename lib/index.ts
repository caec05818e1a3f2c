/**
 * tjstp for Node: server, client and transports. Browser and React Native
 * code should import `tjstp/client` instead, which carries no Node built-ins.
 */
export * from './client/index.js';
export { connect, transportFor, type ConnectOptions } from './connect.js';
export {
  Server,
  consoleLogger,
  silentLogger,
  type Authenticate,
  type AuthenticationRequest,
  type LogFields,
  type Logger,
  type Refusal,
  type ServerEvents,
  type ServerOptions,
  type ServerStats,
} from './server/server.js';
export { jsonLogger, type JsonLogger, type LogLevel, type LoggedError } from './server/json-logger.js';
export { defaultAdmissionLimits, type AdmissionLimits } from './server/admission.js';
export { defaultRestoreOptions, type RestoreOptions } from './server/restore.js';
export {
  Application,
  ApplicationRegistry,
  defineApplication,
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
} from './server/application.js';
export {
  LoadError,
  loadApplications,
  type LoadOptions,
  type LoadedApplications,
  type WatchReport,
} from './server/loader/index.js';
export { Channels } from './server/channels.js';
export type { AdminOptions, AdminStats, VersionSessions } from './server/admin.js';
export { ApplicationFailure } from './server/failure.js';
export { FailureLog, defaultFailureLog, type FailureLogOptions } from './server/failure-log.js';
export type { Listener, ListenOptions, SecureListenOptions } from './server/listeners.js';
export { ServerSession, defaultSessionLimits, type SessionLimits } from './server/session.js';
export { MemorySessionIndex, type SessionIndex } from './server/session-index.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './server/redis-store.js';
export type { Claim, HandoverReply, HandoverRequest, SavedSession, SessionStore, ServerSessionRecord, SharedEvent, StoreHandlers } from './server/session-store.js';
export {
  DiagnosticsChannel,
  type CallContext,
  type ConnectionMessage,
  type DiagnosticsSource,
  type MalformedKind,
  type MalformedMessage,
  type RefusedMessage,
  type ResumeMessage,
  type ResumeRefusalReason,
  type SessionEndMessage,
  type SessionMessage,
} from './server/diagnostics.js';
export { ServerMetrics, codeLabel, serverMetrics, type MetricsOptions } from './server/metrics.js';
