/**
 * `tjstp serve --workers N`: a primary process that forks N workers
 * (`node:cluster`), each a whole server on the same listeners, sessions
 * and events shared through Redis, so one machine uses all its cores. The
 * primary prints the listeners once, restarts a worker that dies, and on
 * SIGTERM or SIGINT stops every worker gracefully (each parks its sessions
 * in Redis) before it exits.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../server/options.js';

/** What a worker tells the primary. */
interface WorkerReport {
  tjstp: 'listening';
  urls: string[];
}

const isReport = (value: unknown): value is WorkerReport =>
  typeof value === 'object' && value !== null && (value as WorkerReport).tjstp === 'listening';

/** In a worker: the line goes to the primary, which prints listeners once. */
export const reportListening = (urls: readonly string[]): void => {
  process.send?.({ tjstp: 'listening', urls: [...urls] } satisfies WorkerReport);
};

export const isWorker = (): boolean => cluster.isWorker;

/** Runs the primary (its metrics endpoint, if any, at `metricsUrl`); resolves to the exit code once every worker has stopped. */
export const runPrimary = (args: readonly string[], count: number, logger: Logger, metricsUrl?: string): Promise<number> =>
  new Promise((resolve) => {
    // The workers run the same command without --workers.
    const workerArgs: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === '--workers') i++;
      else if (!arg.startsWith('--workers=')) workerArgs.push(arg);
    }
    cluster.setupPrimary({ args: ['serve', ...workerArgs] });
    let stopping = false;
    let printed = false;
    let failed = false;
    const fork = (): Worker => {
      const worker = cluster.fork();
      worker.on('message', (message: unknown) => {
        if (!isReport(message) || printed) return;
        printed = true;
        logger.info(`started ${count} worker(s), sessions shared through Redis`);
        for (const url of message.urls) logger.info(`listening ${url}`);
        if (metricsUrl !== undefined) logger.info(`listening ${metricsUrl}`);
      });
      return worker;
    };
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failed ? 1 : 0);
        return;
      }
      logger.warn(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
      if (!printed && code !== 0) {
        // It could not even start (a bad setting, Redis away): do not loop.
        stopping = true;
        failed = true;
        for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(1);
        return;
      }
      // Not at once: a worker that dies on start (Redis away) must not make the primary spin.
      setTimeout(() => {
        if (!stopping) fork();
      }, 1000);
    });
    for (let i = 0; i < count; i++) fork();
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping ${count} worker(s)`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      // None alive (one died and the next was not forked yet): no exit will come to end the wait.
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(failed ? 1 : 0);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
