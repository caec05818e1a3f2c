/**
 * Helpers for the loader tests: application directories written at test
 * time into a temp dir, a server serving them, and gates that fixture
 * methods wait on (fixtures require this very file by absolute path, so
 * they share these objects with the test).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, connect, silentLogger, type Client, type ConnectOptions, type Logger, type ServerOptions } from '../../lib/index';
import { readErrorArguments } from '../../lib/server/options';
import { loadApplications, type LoadOptions, type LoadedApplications, type WatchReport } from '../../lib/server/loader/index';
import { fastReconnect } from '../helpers/fixtures';

/** Absolute paths fixtures can require. */
export const paths = {
  lib: JSON.stringify(path.resolve(__dirname, '../../lib/index')),
  fixtures: JSON.stringify(__filename),
};

/** Writes `files` (relative path → content) under `root`. */
export const writeFiles = (root: string, files: Record<string, string>): void => {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
};

/** A fresh temp directory holding `files`. */
export const makeApps = (files: Record<string, string>): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-apps-'));
  writeFiles(root, files);
  return root;
};

/** Promises fixture methods wait on, released by the test. */
const gates = new Map<string, { promise: Promise<void>; open(): void }>();

export const gate = (name: string): { promise: Promise<void>; open(): void } => {
  let entry = gates.get(name);
  if (!entry) {
    let open = (): void => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    entry = { promise, open };
    gates.set(name, entry);
  }
  return entry;
};

/** Counts and remembers what fixtures tell the test. */
export const record: string[] = [];

/** A logger that keeps what it is given. */
export const capturingLogger = (): Logger & { errors: { message: string; error: unknown }[] } => {
  const errors: { message: string; error: unknown }[] = [];
  const error = (first: string | object, second?: string): void => {
    const { message, thrown } = readErrorArguments(first, second);
    errors.push({ message, error: thrown });
  };
  return { info() {}, warn() {}, error, errors };
};

export interface Served {
  loaded: LoadedApplications;
  server: Server;
  url: string;
  reports: WatchReport[];
  errors: Error[];
  /** A client of `app`; `url` defaults to the server's. */
  connect(options: Partial<ConnectOptions> & { app: string; url?: string }): Promise<Client>;
  /** Resolves with the next report that `match` accepts (for hot reload: no blind sleeps). */
  nextReport(match?: (report: WatchReport) => boolean): Promise<WatchReport>;
  close(): Promise<void>;
}

/** Loads `root`, serves it over TCP, optionally watching it. */
export const serve = async (
  root: string,
  options: { watch?: boolean; server?: Partial<ServerOptions>; load?: LoadOptions } = {},
): Promise<Served> => {
  const errors: Error[] = [];
  const loaded = await loadApplications(root, { onError: (error) => errors.push(error), watchDelay: 30, ...options.load });
  const server = new Server({ applications: loaded.applications, logger: silentLogger, ...options.server });
  const [listener] = await server.listen({ tcp: 0 });
  const reports: WatchReport[] = [];
  const waiting = new Set<(report: WatchReport) => void>();
  if (options.watch) {
    loaded.watch((report) => {
      reports.push(report);
      for (const waiter of [...waiting]) waiter(report);
    });
  }
  const clients: Client[] = [];
  return {
    loaded,
    server,
    url: (listener as { url: string }).url,
    reports,
    errors,
    async connect({ url = (listener as { url: string }).url, ...connectOptions }) {
      const client = await connect(url, { reconnect: fastReconnect, ...connectOptions });
      clients.push(client);
      return client;
    },
    nextReport: (match = () => true) =>
      new Promise((resolve, reject) => {
        const waiter = (report: WatchReport): void => {
          if (!match(report)) return;
          clearTimeout(timer);
          waiting.delete(waiter);
          resolve(report);
        };
        const timer = setTimeout(() => {
          waiting.delete(waiter);
          reject(new Error('timed out waiting for a reload report'));
        }, 5000);
        waiting.add(waiter);
      }),
    async close() {
      for (const client of clients) client.close();
      await loaded.stop();
      await server.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
};
