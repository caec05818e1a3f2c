/**
 * Loads applications from a directory and reloads them when their files
 * change.
 *
 * ## Layout
 *
 * ```
 * applications/
 *   chat/                  an application; or chat@2.0.0/ (the version in the name)
 *     application.json     optional: { "name"?, "version"?, "description"?, "config"?, "emits"?, "admin"? }
 *     api/
 *       rooms/             an interface
 *         join.ts          a method: rooms.join (.ts, .js or .cjs)
 *     events/              optional: events clients send
 *       rooms/
 *         typing.ts        handles the event rooms.typing: (context, ...args) => void
 *     start.ts, stop.ts    optional hooks: async (app: HookApi) => void
 *     resume.ts            optional: async (context, state) => void, rebuilds a
 *                          new session from what a client kept of a lost one
 *     lib/…                anything else: helpers, required relatively
 * ```
 *
 * - A directory is an application when it has `application.json` or `api/`.
 *   Its name is `application.json`'s `name`, else the directory name (without
 *   `@version`). Its version is the directory's `@version`, else
 *   `application.json`'s `version`, else 1.0.0; the two must agree when both
 *   are given. Several versions of one application live side by side
 *   (`chat@1.0.0/`, `chat@2.0.0/`); a handshake picks one (`'chat'`: the
 *   newest; `'chat@1.0.0'`; a range such as `^1.0.0`).
 * - `config` reaches methods and event handlers as `context.config`, and
 *   hooks as `app.config`.
 * - `emits` describes the events the application sends, one JSON Schema per
 *   argument: `{ "rooms": { "message": { "description"?, "parameters"? } } }`.
 *   Only `tjstp types` reads it, to type clients; events are not checked.
 * - `admin` (`{ "users": ["ops"], "stats": true }`) lets sessions logged in
 *   as one of `users` read the server's numbers with `$tjstp.stats()`
 *   (`tjstp stats`); without it nobody can (see ../admin.ts).
 * - Every file is a CommonJS module or TypeScript/ESM syntax (transpiled by
 *   sucrase, nothing to install). `tjstp` imported there is the copy of
 *   tjstp serving it. Its default export (or
 *   `module.exports`) is, for a method, a function `(context, ...args)` —
 *   public and unchecked — or a {@link MethodDefinition}:
 *
 *   ```ts
 *   import type { MethodDefinition } from 'tjstp';
 *   export default {
 *     access: 'user',                       // 'public' (default) or 'user': logged-in sessions only
 *     timeout: 5000,                        // ms; later answers [24]
 *     parameters: [                         // JSON Schema per positional argument
 *       { title: 'room', type: 'string', minLength: 1 },
 *       { title: 'limit', type: 'integer', default: 10 },   // `default`: optional
 *     ],
 *     returns: { type: 'integer' },
 *     description: 'Joins a room',
 *     handler: async (context, room: string, limit: number) => { … },
 *   } satisfies MethodDefinition;
 *   ```
 * - The interface `$tjstp` is reserved: `$tjstp.interfaces()` lists the
 *   interfaces and `$tjstp.describe(iface?)` their methods' contracts.
 * - Files are evaluated fresh on every load (Node's require cache is not
 *   used for files inside the application), so a reload runs new code.
 *   Loading is not a sandbox: application code has the server's rights.
 *
 * ## Hot reload
 *
 * {@link LoadedApplications.watch} watches the directory. When files of an
 * application version settle (100 ms), the whole version is loaded again
 * from disk — every file, fresh schemas — and, if it loads, swapped into
 * the live Application object, which sessions keep: new calls run the new
 * code, calls already running finish on the old. A method file deleted
 * disappears (answers 14); one added appears. If anything fails to load,
 * the failure is reported and the previous code keeps serving. A changed
 * `start`/`stop` file reruns the hooks (old stop, then new start). New
 * application directories, removed ones and changed names or versions need
 * a restart; they are reported as failures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Application, type ApplicationDefinition, type ApplicationHost, type Interface } from '../application.js';
import { DefinitionError } from './compile.js';
import { findApplications, isApplication, readLayout, type ApplicationLayout } from './layout.js';
import { LoadError, ModuleLoader } from './module.js';
import { loadTranspiler, type Transpiler } from './transpile.js';
import { DirectoryWatcher } from './watcher.js';

export { LoadError };

export interface LoadOptions {
  /** Failures no reply reports (see `ApplicationOptions.onError`): log them. */
  onError?(error: Error): void;
  /** Quiet time before a changed application reloads, ms. Default 100. */
  watchDelay?: number;
}

/** One reload, or one change that could not be applied. */
export interface WatchReport {
  app: string;
  version: string;
  ok: boolean;
  error?: Error;
  /** The file that failed to load; on success, the first changed file. */
  file?: string;
}

export interface LoadedApplications {
  /** Every application version found. */
  readonly applications: Application[];
  /** Starts hot reload; every reload attempt is reported. */
  watch(onReport: (report: WatchReport) => void): void;
  /** Runs the start hooks, in order. `host` (the Server) lets hooks broadcast and log. */
  start(host?: ApplicationHost): Promise<void>;
  /** Stops watching, waits for reloads under way, runs the stop hooks in reverse order. */
  stop(): Promise<void>;
}

interface Entry {
  readonly app: Application;
  readonly dir: string;
}

/** Loads every application under `dir`; rejects with a LoadError naming the first file that fails. */
export const loadApplications = async (dir: string, options: LoadOptions = {}): Promise<LoadedApplications> => {
  const root = path.resolve(dir);
  const transpiler = await loadTranspiler();
  const entries = new Map<string, Entry>();
  const seen = new Map<string, string>();
  for (const appDir of await findApplications(root)) {
    const layout = await readLayout(appDir);
    const key = `${layout.name}@${layout.version}`;
    const other = seen.get(key);
    if (other !== undefined) throw new LoadError(appDir, `${key} is also in ${other}`);
    seen.set(key, appDir);
    const app = withFileNames(layout, () => new Application(readDefinition(layout, transpiler), { onError: options.onError }));
    entries.set(path.basename(appDir), { app, dir: appDir });
  }
  const applications = [...entries.values()].map((entry) => entry.app);
  const reloads = new Map<string, Promise<void>>();
  let watcher: DirectoryWatcher | undefined;

  const reload = async (name: string, files: readonly string[], onReport: (report: WatchReport) => void): Promise<void> => {
    const entry = entries.get(name);
    if (!entry) {
      await reportNewDirectory(path.join(root, name), onReport);
      return;
    }
    const { app } = entry;
    let report: WatchReport = { app: app.name, version: app.version, ok: true, file: files[0] };
    try {
      if (!fs.existsSync(entry.dir)) throw new LoadError(entry.dir, 'the directory is gone; the application serves on until a restart');
      const layout = await readLayout(entry.dir);
      const restartHooks = files.some((file) => path.dirname(file) === entry.dir && /^(start|stop)\.[^.]+$/.test(path.basename(file)));
      await withFileNames(layout, () => app.replace(readDefinition(layout, transpiler), { restartHooks }));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      report = { ...report, ok: false, error: failure, file: error instanceof LoadError ? error.file : undefined };
    }
    onReport(report);
  };

  return {
    applications,
    watch(onReport) {
      if (watcher) throw new Error('Already watching');
      watcher = new DirectoryWatcher(root, {
        delay: options.watchDelay,
        onChange: (name, files) => {
          // One reload at a time per application, in the order changes settled.
          const next = (reloads.get(name) ?? Promise.resolve())
            .then(() => reload(name, files, onReport))
            // Only a throwing onReport gets here; the next change must still reload.
            .catch((error: unknown) => console.error(error));
          reloads.set(name, next);
        },
        onError: (error) => onReport({ app: '', version: '', ok: false, error, file: root }),
      });
    },
    async start(host) {
      for (const app of applications) await app.start(host);
    },
    async stop() {
      watcher?.close();
      watcher = undefined;
      await Promise.all(reloads.values());
      const failures: unknown[] = [];
      for (const app of [...applications].reverse()) {
        await app.stop().catch((error: unknown) => failures.push(error));
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, 'Stop hooks failed');
    },
  };
};

/**
 * An object without a prototype: a directory or file named `__proto__` (a
 * valid name) must become an interface or method, not reach Object.prototype.
 */
const table = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** Evaluates an application's files (fresh) into a definition; compiling it is the Application's job. */
const readDefinition = (layout: ApplicationLayout, transpiler: Transpiler): ApplicationDefinition => {
  const modules = new ModuleLoader(layout.dir, transpiler);
  const api = table<Record<string, unknown>>();
  for (const { iface, name, file } of layout.methods) (api[iface] ??= table())[name] = modules.loadDefault(file);
  const events = table<Record<string, unknown>>();
  for (const { iface, name, file } of layout.events) (events[iface] ??= table())[name] = modules.loadDefault(file);
  return {
    name: layout.name,
    version: layout.version,
    description: layout.description,
    config: layout.config,
    admin: layout.admin,
    // Shapes are checked when the Application compiles them, which names the member.
    api: api as Record<string, Interface>,
    events: events as ApplicationDefinition['events'],
    start: layout.start === undefined ? undefined : (modules.loadDefault(layout.start) as ApplicationDefinition['start']),
    stop: layout.stop === undefined ? undefined : (modules.loadDefault(layout.stop) as ApplicationDefinition['stop']),
    resume: layout.resume === undefined ? undefined : (modules.loadDefault(layout.resume) as ApplicationDefinition['resume']),
  };
};

/** Turns a DefinitionError (which names a member such as `api/rooms.join`) into a LoadError naming its file. */
const withFileNames = <T>(layout: ApplicationLayout, run: () => T): T => {
  const rethrow = (error: unknown): never => {
    if (!(error instanceof DefinitionError)) throw error;
    throw new LoadError(memberFile(layout, error.member), error.reason, { cause: error });
  };
  try {
    const result = run();
    return (result instanceof Promise ? result.catch(rethrow) : result) as T;
  } catch (error) {
    return rethrow(error);
  }
};

const memberFile = (layout: ApplicationLayout, member: string): string => {
  const [kind, name] = member.split('/') as [string, string | undefined];
  const sources = kind === 'api' ? layout.methods : kind === 'events' ? layout.events : [];
  const source = sources.find((file) => `${file.iface}.${file.name}` === name);
  if (source) return source.file;
  if (kind === 'start' || kind === 'stop' || kind === 'resume') return layout[kind] ?? layout.dir;
  return layout.dir;
};

const reportNewDirectory = async (dir: string, onReport: (report: WatchReport) => void): Promise<void> => {
  if (!(await isApplication(dir))) return;
  let report: WatchReport;
  try {
    const { name, version } = await readLayout(dir);
    const error = new Error(`${name}@${version} is new in ${dir}: restart the server to serve it`);
    report = { app: name, version, ok: false, error, file: dir };
  } catch (error) {
    report = { app: path.basename(dir), version: '', ok: false, error: error as Error, file: dir };
  }
  onReport(report);
};
