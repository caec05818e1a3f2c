/**
 * `tjstp serve` settings: defaults, then a JSON config file, then flags,
 * each layer overriding the one before. Everything is checked here, with
 * errors that name the flag or key, before anything starts listening.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_FORMATS, type LogFormat } from './log-format.js';

export interface ServeConfig {
  /** Directory holding the applications. */
  applications: string;
  host: string;
  tcp?: number;
  ws?: number;
  tls?: number;
  wss?: number;
  /** The demo page (browser chat) on this HTTP port; needs a ws or wss listener. */
  http?: number;
  /** Prometheus metrics at `GET /metrics` on this HTTP port. */
  metrics?: number;
  /** Where the metrics listen: loopback unless asked, whatever `host` the listeners have (they tell what runs here). */
  metricsHost: string;
  ipc?: string;
  /** PEM files for tls and wss. */
  cert?: string;
  key?: string;
  /** Reload applications when their files change. */
  watch: boolean;
  session: { maxBufferedBytes?: number; holdTime?: number };
  handshakeTimeout?: number;
  heartbeatInterval?: number;
  maxMessageSize?: number;
  drainTimeout?: number;
  /** Kernel accept queue per listener. */
  backlog?: number;
  /** WS/WSS select `tjstp-batch` for tjstp clients (default true). */
  webSocketBatching?: boolean;
  /** Memory budget and admission limits (see `limitSettings`); 0 means none. */
  limits: Partial<Record<LimitSetting, number>>;
  /** Accept id-only restores for sessions opened without a key (default true). */
  idOnlyRestore?: boolean;
  /** Restore only from the address that opened the session (default false). */
  bindAddress?: boolean;
  /**
   * Where sessions are written on a graceful stop and revived from on
   * start (default `.tjstp/sessions.json` in the working directory); false
   * for none: a restart then ends every session.
   */
  sessionFile: string | false;
  /** Sessions and events shared through this Redis (`redis://…`), for several processes or machines. */
  redis?: string;
  /** Worker processes sharing the listeners (needs `redis`). */
  workers?: number;
  /** `text` (default), or `json`: one JSON object a line on stderr. */
  logFormat: LogFormat;
}

/** Server options set by a whole number, with their flags. */
export const limitSettings = {
  maxSessionMemory: 'max-session-memory',
  maxSessionsPerAddress: 'max-sessions-per-address',
  maxSessionsPerLogin: 'max-sessions-per-login',
  newSessionsPerSecond: 'new-sessions-per-second',
  newSessionsBurst: 'new-sessions-burst',
  restoresPerMinute: 'restores-per-minute',
  maxCallsInFlight: 'max-calls-in-flight',
  outputBytesPerSecond: 'output-bytes-per-second',
  outputBurst: 'output-burst',
} as const;

export type LimitSetting = keyof typeof limitSettings;

export const serveUsage = `Usage: tjstp serve [options]

  --applications DIR        applications to serve (default ./applications)
  --host H                  interface to listen on (default 127.0.0.1)
  --tcp PORT --ws PORT      plain listeners (default: tcp 3000 and ws 8000
                            when no listener is given); 0 picks a free port
  --tls PORT --wss PORT     secure listeners, with --cert FILE --key FILE
  --ipc PATH                Unix socket (or Windows pipe) listener
  --http PORT               a demo page for the bundled chat on this port
                            (two tabs chat; needs --ws or --wss)
  --metrics PORT            Prometheus metrics at http://METRICS-HOST:PORT/metrics
  --metrics-host HOST       where the metrics listen (127.0.0.1, whatever --host is)
                            (with --workers: summed over the workers)
  --config FILE             JSON with any of these settings (flags win)
  --hold-time MS            how long a detached session is kept (120000)
  --max-buffered-bytes N    unacknowledged bytes kept per session (4194304)
  --max-message-size N      largest message accepted (1048576)
  --heartbeat-interval MS   ping when quiet; 0 disables (15000)
  --drain-timeout MS        on SIGTERM, wait this long for calls (10000)
  --session-file PATH       sessions kept across a graceful restart
                            (default .tjstp/sessions.json)
  --no-session-file         a restart ends every session
  --redis URL               share sessions and events with other processes
                            and machines through Redis (redis://host:port)
  --workers N               N worker processes share the listeners (needs
                            --redis); use the machine's cores
  --backlog N               connections queued before accept (4096)
  --max-session-memory N    bytes all sessions may hold (half the heap limit)
  --max-sessions-per-address N   live sessions per client address (1000)
  --max-sessions-per-login N     live sessions per user (100)
  --new-sessions-per-second N    per address, sustained (20)
  --new-sessions-burst N         per address, at once (200)
  --restores-per-minute N   restore attempts per address (1200)
  --max-calls-in-flight N   calls running at once per session (256)
  --output-bytes-per-second N    output per address before its calls wait (4194304)
  --output-burst N          output per address at once (33554432)
                            (0 turns any of these limits off)
  --no-id-only-restore      refuse restores by id alone (legacy clients)
  --bind-address            restore only from the address that opened it
  --no-watch                do not reload applications when files change
  --no-ws-batching          one message per WebSocket frame for every client
                            (default: tjstp clients get tjstp-batch frames)
  --log-format text|json    json: one JSON object a line, all on stderr (text)
`;

const flags = {
  applications: { type: 'string' },
  host: { type: 'string' },
  tcp: { type: 'string' },
  ws: { type: 'string' },
  tls: { type: 'string' },
  wss: { type: 'string' },
  http: { type: 'string' },
  metrics: { type: 'string' },
  'metrics-host': { type: 'string' },
  ipc: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  config: { type: 'string' },
  'hold-time': { type: 'string' },
  'max-buffered-bytes': { type: 'string' },
  'max-message-size': { type: 'string' },
  'heartbeat-interval': { type: 'string' },
  'drain-timeout': { type: 'string' },
  backlog: { type: 'string' },
  ...Object.fromEntries(Object.values(limitSettings).map((flag) => [flag, { type: 'string' }])) as Record<(typeof limitSettings)[LimitSetting], { type: 'string' }>,
  'session-file': { type: 'string' },
  redis: { type: 'string' },
  workers: { type: 'string' },
  'log-format': { type: 'string' },
  'no-session-file': { type: 'boolean' },
  'no-id-only-restore': { type: 'boolean' },
  'bind-address': { type: 'boolean' },
  'no-watch': { type: 'boolean' },
  'no-ws-batching': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export class ConfigError extends Error {}

/** Settings that cannot work together (exit 2, as for bad flags), found only once the applications are loaded. */
export class UsageError extends ConfigError {}

const integer = (value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number => {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > max) {
    throw new ConfigError(`${name}: expected a whole number from 0 to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
};

const port = (value: unknown, name: string): number => integer(value, name, 65535);

const redisUrl = (value: unknown, name: string): string => {
  const url = text(value, name);
  if (!/^rediss?:\/\/./.test(url)) throw new ConfigError(`${name}: expected redis://host:port (or rediss:// for TLS), got ${JSON.stringify(url)}`);
  return url;
};

/** A whole number from 1 to `max`. */
const positive = (value: unknown, name: string, max: number): number => {
  const number = integer(value, name, max);
  if (number === 0) throw new ConfigError(`${name}: expected a whole number from 1 to ${max}, got 0`);
  return number;
};

const workerCount = (value: unknown, name: string): number => positive(value, name, 256);

const backlog = (value: unknown, name: string): number => positive(value, name, 65535);

const text = (value: unknown, name: string): string => {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${name}: expected a non-empty string`);
  return value;
};

const logFormat = (value: unknown, name: string): LogFormat => {
  if (!LOG_FORMATS.includes(value as LogFormat)) throw new ConfigError(`${name}: expected ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(value)}`);
  return value as LogFormat;
};

const configKeys = new Set([
  'applications', 'host', 'tcp', 'ws', 'tls', 'wss', 'http', 'metrics', 'metricsHost', 'ipc', 'cert', 'key', 'watch', 'session',
  'handshakeTimeout', 'heartbeatInterval', 'maxMessageSize', 'drainTimeout', 'backlog', 'webSocketBatching',
  'idOnlyRestore', 'bindAddress', 'sessionFile', 'redis', 'workers', 'logFormat', ...Object.keys(limitSettings),
]);

/** Reads and checks a JSON config file; relative paths in it are relative to the file. */
export const readConfigFile = (file: string): Partial<ServeConfig> => {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`--config ${file}: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: expected a JSON object`);
  const entries = raw as Record<string, unknown>;
  const unknown = Object.keys(entries).filter((key) => !configKeys.has(key));
  if (unknown.length > 0) throw new ConfigError(`${file}: unknown setting ${unknown.map((k) => `"${k}"`).join(', ')}`);
  const at = (key: string): string => `${file}: ${key}`;
  const base = path.dirname(file);
  const config: Partial<ServeConfig> = {};
  for (const key of ['tcp', 'ws', 'tls', 'wss', 'http', 'metrics'] as const) if (entries[key] !== undefined) config[key] = port(entries[key], at(key));
  for (const key of ['applications', 'ipc', 'cert', 'key'] as const) {
    if (entries[key] !== undefined) config[key] = path.resolve(base, text(entries[key], at(key)));
  }
  if (entries.host !== undefined) config.host = text(entries.host, at('host'));
  if (entries.metricsHost !== undefined) config.metricsHost = text(entries.metricsHost, at('metricsHost'));
  if (entries.redis !== undefined) config.redis = redisUrl(entries.redis, at('redis'));
  if (entries.workers !== undefined) config.workers = workerCount(entries.workers, at('workers'));
  if (entries.logFormat !== undefined) config.logFormat = logFormat(entries.logFormat, at('logFormat'));
  if (entries.sessionFile !== undefined) {
    config.sessionFile = entries.sessionFile === false ? false : path.resolve(base, text(entries.sessionFile, `${at('sessionFile')} (a path, or false)`));
  }
  for (const key of ['watch', 'webSocketBatching', 'idOnlyRestore', 'bindAddress'] as const) {
    if (entries[key] === undefined) continue;
    if (typeof entries[key] !== 'boolean') throw new ConfigError(`${at(key)}: expected true or false`);
    config[key] = entries[key];
  }
  for (const key of ['handshakeTimeout', 'heartbeatInterval', 'maxMessageSize', 'drainTimeout'] as const) {
    if (entries[key] !== undefined) config[key] = integer(entries[key], at(key));
  }
  if (entries.backlog !== undefined) config.backlog = backlog(entries.backlog, at('backlog'));
  config.limits = {};
  for (const key of Object.keys(limitSettings) as LimitSetting[]) {
    if (entries[key] !== undefined) config.limits[key] = integer(entries[key], at(key));
  }
  if (entries.session !== undefined) {
    const session = entries.session as Record<string, unknown>;
    if (typeof session !== 'object' || session === null) throw new ConfigError(`${at('session')}: expected an object`);
    config.session = {};
    if (session.holdTime !== undefined) config.session.holdTime = integer(session.holdTime, at('session.holdTime'));
    if (session.maxBufferedBytes !== undefined) {
      config.session.maxBufferedBytes = integer(session.maxBufferedBytes, at('session.maxBufferedBytes'));
    }
  }
  return config;
};

/**
 * Settings from the command line (and the config file it names). Returns
 * `help` when usage was asked for.
 * @throws ConfigError with a message naming the bad flag or key.
 */
export const readServeConfig = (args: readonly string[], cwd = process.cwd()): ServeConfig | 'help' => {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: flags, allowPositionals: false, strict: true });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const file = values.config === undefined ? {} : readConfigFile(path.resolve(cwd, values.config));
  const config: ServeConfig = {
    applications: path.resolve(cwd, 'applications'),
    host: '127.0.0.1',
    metricsHost: '127.0.0.1',
    watch: true,
    sessionFile: path.resolve(cwd, '.tjstp', 'sessions.json'),
    logFormat: 'text',
    ...file,
    session: { ...file.session },
    limits: { ...file.limits },
  };
  for (const key of ['tcp', 'ws', 'tls', 'wss', 'http', 'metrics'] as const) if (values[key] !== undefined) config[key] = port(values[key], `--${key}`);
  if (values.applications !== undefined) config.applications = path.resolve(cwd, values.applications);
  if (values.host !== undefined) config.host = values.host;
  if (values['metrics-host'] !== undefined) config.metricsHost = values['metrics-host'];
  if (values.ipc !== undefined) config.ipc = path.resolve(cwd, values.ipc);
  if (values.cert !== undefined) config.cert = path.resolve(cwd, values.cert);
  if (values.key !== undefined) config.key = path.resolve(cwd, values.key);
  if (values['no-watch']) config.watch = false;
  if (values['no-ws-batching']) config.webSocketBatching = false;
  if (values['no-id-only-restore']) config.idOnlyRestore = false;
  if (values['bind-address']) config.bindAddress = true;
  if (values['session-file'] !== undefined) config.sessionFile = path.resolve(cwd, text(values['session-file'], '--session-file'));
  if (values['no-session-file']) {
    if (values['session-file'] !== undefined) throw new ConfigError('--session-file and --no-session-file: choose one');
    config.sessionFile = false;
  }
  if (values.redis !== undefined) config.redis = redisUrl(values.redis, '--redis');
  if (values.workers !== undefined) config.workers = workerCount(values.workers, '--workers');
  if (values['log-format'] !== undefined) config.logFormat = logFormat(values['log-format'], '--log-format');
  if (config.workers !== undefined && config.workers > 1 && config.redis === undefined) {
    throw new ConfigError('--workers needs --redis URL: workers share sessions and events through Redis (a session opened on one worker must resume on any other)');
  }
  if (config.redis !== undefined) {
    // Sessions outlive the process in Redis; a file would hold a second copy.
    if (values['session-file'] !== undefined || file.sessionFile) throw new ConfigError('--redis and --session-file: choose one (with Redis, sessions survive a restart there)');
    config.sessionFile = false;
  }
  for (const [key, flag] of Object.entries(limitSettings) as [LimitSetting, string][]) {
    const value = values[flag as keyof typeof values];
    if (value !== undefined) config.limits[key] = integer(value, `--${flag}`);
  }
  if (values['hold-time'] !== undefined) config.session.holdTime = integer(values['hold-time'], '--hold-time');
  if (values['max-buffered-bytes'] !== undefined) {
    config.session.maxBufferedBytes = integer(values['max-buffered-bytes'], '--max-buffered-bytes');
  }
  if (values['max-message-size'] !== undefined) config.maxMessageSize = integer(values['max-message-size'], '--max-message-size');
  if (values['heartbeat-interval'] !== undefined) config.heartbeatInterval = integer(values['heartbeat-interval'], '--heartbeat-interval');
  if (values['drain-timeout'] !== undefined) config.drainTimeout = integer(values['drain-timeout'], '--drain-timeout');
  if (values.backlog !== undefined) config.backlog = backlog(values.backlog, '--backlog');
  const listening = [config.tcp, config.ws, config.tls, config.wss, config.ipc].some((value) => value !== undefined);
  if (!listening) {
    config.tcp = 3000;
    config.ws = 8000;
  }
  if (config.http !== undefined && config.ws === undefined && config.wss === undefined) {
    throw new ConfigError('--http serves a page that connects over WebSocket: add --ws PORT (or --wss PORT)');
  }
  if (config.http !== undefined && config.workers !== undefined && config.workers > 1) {
    throw new ConfigError('--http and --workers: the demo page is served by one process; run it without --workers');
  }
  if ((config.tls !== undefined || config.wss !== undefined) && (config.cert === undefined || config.key === undefined)) {
    throw new ConfigError('--tls and --wss need --cert FILE and --key FILE');
  }
  return config;
};
