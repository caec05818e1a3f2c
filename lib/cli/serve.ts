/**
 * `tjstp serve`: loads the applications directory, serves it on the
 * listeners asked for, reloads applications when their files change, and
 * shuts down gracefully on SIGTERM or SIGINT. With a session file (the
 * default) the sessions outlive the process: written on the way down,
 * revived by the next start before it listens.
 */
import fs from 'node:fs';
import { LoadError, loadApplications } from '../server/loader/index.js';
import { applicationsDirectoryHint } from '../server/loader/layout.js';
import { RedisSessionStore } from '../server/redis-store.js';
import { isWorker, reportListening, runPrimary } from './workers.js';
import { Server, type Logger } from '../server/server.js';
import { logError } from '../server/options.js';
import { SessionFileError, takeSessionFile, writeSessionFile, type TakenSessionFile } from '../server/session-file.js';
import type { ListenOptions } from '../server/listeners.js';
import { ConfigError, UsageError, readServeConfig, serveUsage, type ServeConfig } from './serve-config.js';
import { DEMO_APP, startDemo, type DemoServer } from './demo.js';
import { serveLogger, type ServeIo } from './log-format.js';
import { answerPrimary, startClusterMetricsEndpoint, startMetricsEndpoint, type MetricsEndpoint } from './metrics-endpoint.js';

export type { ServeIo };

const readPem = (file: string | undefined, flag: string): string => {
  try {
    return fs.readFileSync(file as string, 'utf8');
  } catch (error) {
    throw new ConfigError(`${flag} ${file}: ${(error as Error).message}`);
  }
};

const listenOptions = (config: ServeConfig): ListenOptions => {
  const options: ListenOptions = { host: config.host };
  if (config.backlog !== undefined) options.backlog = config.backlog;
  if (config.webSocketBatching !== undefined) options.webSocketBatching = config.webSocketBatching;
  if (config.tcp !== undefined) options.tcp = config.tcp;
  if (config.ws !== undefined) options.ws = config.ws;
  if (config.ipc !== undefined) options.ipc = config.ipc;
  if (config.tls !== undefined || config.wss !== undefined) {
    const tls = { cert: readPem(config.cert, '--cert'), key: readPem(config.key, '--key') };
    if (config.tls !== undefined) options.tls = { port: config.tls, tls };
    if (config.wss !== undefined) options.wss = { port: config.wss, tls };
  }
  return options;
};

export interface Serving {
  server: Server;
  /** Graceful stop: drain calls, close listeners, run stop hooks. */
  stop(): Promise<void>;
}

/** Starts serving; resolves once every listener is up and printed (by `logger`: the `--log-format` one by default). */
export const serve = async (config: ServeConfig, io: ServeIo, logger: Logger = serveLogger(config.logFormat, io)): Promise<Serving> => {
  if (!fs.existsSync(config.applications)) throw new ConfigError(`--applications ${config.applications}: no such directory`);
  const loaded = await loadApplications(config.applications, { onError: (error) => logError(logger, 'application error', error) });
  if (loaded.applications.length === 0) throw new ConfigError(`--applications ${config.applications}: no applications found${await applicationsDirectoryHint(config.applications)}`);
  // The page talks to the chat application only: without it every call would fail with error 10.
  if (config.http !== undefined && !loaded.applications.some((app) => app.name === DEMO_APP)) {
    throw new UsageError(`--http: the demo page needs the ${DEMO_APP} application; none in ${config.applications}`);
  }
  const server = new Server({
    applications: loaded.applications,
    logger,
    session: config.session,
    handshakeTimeout: config.handshakeTimeout,
    heartbeatInterval: config.heartbeatInterval,
    maxMessageSize: config.maxMessageSize,
    drainTimeout: config.drainTimeout,
    idOnlyRestore: config.idOnlyRestore,
    bindAddress: config.bindAddress,
    ...(config.redis !== undefined && { store: new RedisSessionStore({ url: config.redis, maxBufferedBytes: config.session.maxBufferedBytes }) }),
    ...config.limits,
    // 0 turns a limit off; for the budget that means no budget at all.
    ...(config.limits.maxSessionMemory === 0 && { maxSessionMemory: Number.MAX_SAFE_INTEGER }),
  });
  try {
    await server.openStore();
  } catch (error) {
    throw new ConfigError(`--redis ${config.redis}: cannot connect (${(error as Error).message}); is Redis running there?`);
  }
  await loaded.start(server);
  let wsUrl: string | undefined;
  const demo = config.http === undefined ? undefined : await startDemoPage(config, config.http, () => wsUrl);
  const metrics = config.metrics === undefined ? undefined : await startMetrics(server, config, config.metrics);
  const taken = config.sessionFile === false ? null : await reviveSessionFile(server, config.sessionFile, logger);
  let listeners;
  try {
    listeners = await server.listen(listenOptions(config));
  } catch (error) {
    // Not serving them after all: the file goes back for the next start.
    await taken?.abandon();
    await demo?.close();
    await metrics?.close();
    throw error;
  }
  await taken?.commit();
  wsUrl = (listeners.find((listener) => listener.kind === 'ws') ?? listeners.find((listener) => listener.kind === 'wss'))?.url;
  for (const app of loaded.applications) logger.info(`serving ${app.name}@${app.version}`);
  if (isWorker()) reportListening(listeners.map((listener) => listener.url));
  else for (const listener of listeners) logger.info(`listening ${listener.url}`);
  if (demo) {
    logger.info(`listening ${demo.url.slice(0, -1)}`);
    logger.info(`demo page: open ${demo.url} in two tabs`);
  }
  if (metrics?.url !== undefined) logger.info(`listening ${metrics.url}`);
  if (config.watch) {
    loaded.watch((report) => {
      if (report.ok) logger.info(`reloaded ${report.app}@${report.version}`);
      else if (report.error instanceof LoadError) logger.error(`reload of ${report.app}@${report.version} failed, the previous version keeps serving: ${report.error.describe(config.applications)}`);
      else logError(logger, `reload of ${report.app}@${report.version} failed, the previous version keeps serving`, report.error);
    });
  }
  let stopping: Promise<void> | undefined;
  return {
    server,
    stop: () => {
      stopping ??= (async () => {
        await demo?.close();
        if (config.sessionFile === false && config.redis === undefined) {
          await server.close();
          await loaded.stop();
          return;
        }
        await server.suspend();
        // Stop hooks may still send to sessions: that goes with them. A failing hook must not lose them.
        const hooksFailed = await loaded.stop().then(() => undefined, (error: unknown) => ({ error }));
        if (config.redis !== undefined) {
          const parked = await server.park();
          logger.info(`parked ${parked} session(s) in Redis for the other nodes`);
        } else if (config.sessionFile !== false) {
          try {
            await saveSessionFile(server, config.sessionFile, logger);
          } finally {
            await server.close();
          }
        }
        if (hooksFailed) throw hooksFailed.error;
        // The metrics stop with the server: a last scrape sees it draining.
      })().finally(() => metrics?.close());
      return stopping;
    },
  };
};

const startDemoPage = async (config: ServeConfig, port: number, wsUrl: () => string | undefined): Promise<DemoServer> => {
  try {
    return await startDemo({ host: config.host, port, wsUrl });
  } catch (error) {
    throw new ConfigError(`--http ${port}: ${(error as Error).message}`);
  }
};

const startMetrics = async (server: Server, config: ServeConfig, port: number): Promise<MetricsEndpoint> => {
  try {
    return await startMetricsEndpoint(server, config.metricsHost, port);
  } catch (error) {
    throw new ConfigError(`--metrics ${port}: ${(error as Error).message}`);
  }
};

/** Takes up the sessions a previous process saved, if any; a bad file is reported and set aside. */
const reviveSessionFile = async (server: Server, file: string, logger: Logger): Promise<TakenSessionFile | null> => {
  let taken;
  try {
    taken = await takeSessionFile(file);
  } catch (error) {
    if (!(error instanceof SessionFileError)) throw error;
    logger.error(error.message);
    return null;
  }
  if (taken === null) return null;
  const report = server.importSessions(taken.sessions);
  const age = ((Date.now() - taken.savedAt) / 1000).toFixed(1);
  const inDoubt = report.inDoubt > 0 ? `; ${report.inDoubt} call(s) that were running answered 29 (outcome unknown)` : '';
  logger.info(`revived ${report.revived} session(s) from ${file}, saved ${age} s ago${inDoubt}`);
  if (report.skipped.length > 0) {
    const why = new Map<string, number>();
    for (const { app, why: reason } of report.skipped) why.set(`${app}: ${reason}`, (why.get(`${app}: ${reason}`) ?? 0) + 1);
    logger.warn(`${report.skipped.length} saved session(s) not revived (${[...why].map(([reason, count]) => `${count} ${reason}`).join(', ')})`);
  }
  return taken;
};

/** Writes the suspended server's sessions for the next process. */
const saveSessionFile = async (server: Server, file: string, logger: Logger): Promise<void> => {
  const saved = server.exportSessions();
  const report = await writeSessionFile(file, saved);
  logger.info(`saved ${report.written} session(s) to ${file} (${(report.bytes / 1024).toFixed(1)} KiB)`);
  if (report.unserializable > 0) logger.warn(`${report.unserializable} session(s) not saved: their application state is not JSON`);
};

/** The primary of `--workers`, with the workers' metrics summed when asked for. */
const runWorkers = async (args: readonly string[], config: ServeConfig, count: number, io: ServeIo): Promise<number> => {
  const logger = serveLogger(config.logFormat, io);
  let metrics;
  try {
    metrics = config.metrics === undefined ? undefined : await startClusterMetricsEndpoint(config.metricsHost, config.metrics);
  } catch (error) {
    if (config.logFormat === 'text') io.err(`tjstp serve: --metrics ${config.metrics}: ${(error as Error).message}`);
    else logger.error(`--metrics ${config.metrics}: ${(error as Error).message}`);
    return 1;
  }
  try {
    return await runPrimary(args, count, logger, metrics?.url);
  } finally {
    await metrics?.close();
  }
};

/** The command: exit code 0 on a clean stop, 1 on a failed start, 2 on bad usage (flags, or `--http` without the chat application). */
export const serveCommand = async (args: readonly string[], io: ServeIo): Promise<number> => {
  let config: ServeConfig | 'help';
  try {
    config = readServeConfig(args);
  } catch (error) {
    io.err(`tjstp serve: ${(error as Error).message}\n\n${serveUsage}`);
    return 2;
  }
  if (config === 'help') {
    io.out(serveUsage);
    return 0;
  }
  if (config.workers !== undefined && config.workers > 1 && !isWorker()) return runWorkers(args, config, config.workers, io);
  if (isWorker() && config.logFormat === 'text') {
    const tag = `worker ${process.pid}:`;
    const { out, err } = io;
    io = { out: (line) => out(`${tag} ${line}`), err: (line) => err(`${tag} ${line}`) };
  }
  if (isWorker() && config.metrics !== undefined) await answerPrimary();
  // A JSON line says its worker in a field: a prefix would make it no longer JSON.
  const logger = serveLogger(config.logFormat, io, isWorker() ? { worker: process.pid } : {});
  // In text, a failed start or stop says `tjstp serve:` as every usage error does.
  const fatal = (text: string): void => (config.logFormat === 'text' ? io.err(`tjstp serve: ${text}`) : logger.error(text));
  let serving: Serving;
  try {
    serving = await serve(config, io, logger);
  } catch (error) {
    // A mistake in a file of the application: where and what, in one line; a stack would show only the loader.
    const text = error instanceof ConfigError ? error.message : error instanceof LoadError ? error.describe(config.applications) : (error as Error).stack ?? String(error);
    fatal(text);
    return error instanceof UsageError ? 2 : 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal}: finishing calls in flight, then stopping`);
      serving.stop().then(() => resolve(0), (error: unknown) => {
        fatal(`stopping failed: ${String(error)}`);
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
};
