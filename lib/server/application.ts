/**
 * An application as the engine sees it: named, versioned interfaces of
 * methods. Methods get an explicit context and their arguments, never
 * ambient globals, and may return a value or a promise. A method is a plain
 * function or a {@link MethodDefinition} with access, timeout and JSON
 * Schemas. Loading applications from `applications/` is the loader's job
 * (`./loader`); this is the live object sessions hold, which a hot reload
 * updates in place ({@link Application.replace}).
 */
import semver from 'semver';
import { ErrorCode, RemoteError } from '../protocol/errors.js';
import type { AdminOptions } from './admin.js';
import { ApplicationFailure } from './failure.js';
import { FailureLog } from './failure-log.js';
import { BUILTIN_INTERFACE, compileApplication, type CompiledApplication } from './loader/compile.js';
import type { JsonSchema } from './loader/schema.js';
import { logError, withFields, type Logger } from './options.js';

export type { JsonSchema };

/** What the session gives a call: the engine builds it (`ServerSession.context`). */
export interface SessionContext {
  /** The session's public label (a hash prefix; never the session id). */
  readonly sessionLabel: string;
  /** Who logged in, or null for an anonymous session. */
  readonly user: string | null;
  /** Application state kept with the session across reconnects and restores. */
  readonly state: Record<string, unknown>;
  /** Sends an event to this session only (delivered once, in order). */
  emit(iface: string, name: string, ...args: unknown[]): void;
  /** Sends an event to every session of this application. */
  broadcast(iface: string, name: string, ...args: unknown[]): void;
  /** Adds this session to a channel (a room); it stays a member across reconnects. */
  join(channel: string): void;
  /** Removes this session from a channel. */
  leave(channel: string): void;
  /** Sends an event to every session in a channel of this application; returns how many. */
  publish(channel: string, iface: string, name: string, ...args: unknown[]): number;
  /** The channels this session is a member of. */
  readonly channels: readonly string[];
  /**
   * Logs the session in as `user` (after the application checked who it
   * is), or out with null. A session a tjstp client opened then gets a new
   * id and key (no session fixation); a sessions-per-login limit applies.
   */
  login(user: string | null): void;
  /**
   * Gives the session a new id and key now (see the README's rotation).
   * Returns false for a session opened without a key (a legacy client).
   */
  rotateSession(): boolean;
}

/** What a method (or event handler) can see: the session's context and the application's config. */
export interface MethodContext extends SessionContext {
  /** The application's `config` (from application.json). */
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * A method: the context first, then the call's arguments. `never[]` accepts
 * any declared parameter list; arity is never used to reject a call, unlike
 * the reference (declare `parameters` to check the arguments).
 */
export type Method = (context: MethodContext, ...args: never[]) => unknown;

/** `public`: any session; `user`: only sessions that logged in. */
export type Access = 'public' | 'user';

/** A method with its contract; the default export of a method file. */
export interface MethodDefinition {
  handler: Method;
  /** Default `public`. A `user` method called anonymously answers `[11, 'Log in to call iface.method']`. */
  access?: Access;
  /** ms. A call still running after it answers `[24, 'iface.method timed out after N ms']`; its late result is dropped. */
  timeout?: number;
  /**
   * One JSON Schema per positional argument. `title` names the argument in
   * errors; `default` makes it optional (the handler gets a copy of it).
   * Extra arguments are refused. Invalid ones answer 17, saying which and why.
   */
  parameters?: readonly JsonSchema[];
  /** The result's schema. An invalid result answers `[16]` and is logged. */
  returns?: JsonSchema;
  description?: string;
}

/** What `$tjstp.describe` tells clients about a method. */
export interface MethodDescription {
  access: Access;
  parameters?: readonly JsonSchema[];
  returns?: JsonSchema;
  description?: string;
}

export type Interface = Readonly<Record<string, Method | MethodDefinition>>;

/** Handles an event a client sent (`events/<iface>/<name>`). */
export type EventHandler = (context: MethodContext, ...args: never[]) => unknown;

/** What start and stop hooks receive. */
export interface HookApi {
  readonly name: string;
  readonly version: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Sends an event to every session of this application version's name. */
  broadcast(iface: string, name: string, ...args: unknown[]): void;
  readonly log: Logger;
}

export type Hook = (app: HookApi) => unknown;

/**
 * Rebuilds a new session from what a client kept of one the server lost
 * (its `resumeState` option): re-join channels, restore `context.state`.
 * `state` comes from the client: check it as you would a call's arguments.
 */
export type ResumeHook = (context: MethodContext, state: unknown) => unknown;

export interface ApplicationDefinition {
  name: string;
  /** Semver version; defaults to 1.0.0. */
  version?: string;
  description?: string;
  config?: Readonly<Record<string, unknown>>;
  api: Readonly<Record<string, Interface>>;
  events?: Readonly<Record<string, Readonly<Record<string, EventHandler>>>>;
  start?: Hook;
  stop?: Hook;
  /** Runs for a new session whose client sent the state of one it lost (see {@link ResumeHook}). */
  resume?: ResumeHook;
  /** Who may read the server's numbers (`$tjstp.stats`); nobody without it (see {@link AdminOptions}). */
  admin?: AdminOptions;
}

/**
 * Returns `definition` as it is: its type keeps each method's own
 * arguments and result, so that `Client<typeof app>` knows them (as
 * `satisfies ApplicationDefinition` does; an annotation would forget them).
 */
export const defineApplication = <const T extends ApplicationDefinition>(definition: T): T => definition;

/** What hooks need of the server: `Server` itself fits. */
export interface ApplicationHost {
  broadcast(app: string, iface: string, name: string, args: readonly unknown[]): number;
  readonly logger: Logger;
  /**
   * Counts failures, so that repeated ones are summarised rather than each
   * logged (the server's, per its `failureLog` option). Without a host that
   * has one, the application counts its own with the default limits.
   */
  readonly failures?: FailureLog;
}

export interface ApplicationOptions {
  /**
   * Failures no reply reports: event handlers that throw, calls failing or
   * timing out after their timeout answered. Default: the host's logger
   * once started, else `console.error`. Failures of one method or handler
   * past the failure log's burst are not passed on, only summarised.
   */
  onError?(error: Error): void;
}

export class Application {
  readonly name: string;
  readonly version: string;
  #compiled: CompiledApplication;
  readonly #onError: ((error: Error) => void) | undefined;
  /** Contexts with `config`, one per session context, made on first use. */
  #contexts = new WeakMap<SessionContext, MethodContext>();
  #host: ApplicationHost | undefined;
  /** Counts failures while no host does. */
  #ownFailures: FailureLog | undefined;
  #started = false;

  constructor(definition: ApplicationDefinition, options: ApplicationOptions = {}) {
    const version = definition.version ?? '1.0.0';
    if (!semver.valid(version)) {
      throw new TypeError(`Application ${definition.name}: invalid version "${version}"`);
    }
    this.name = definition.name;
    this.version = version;
    this.#onError = options.onError;
    this.#compiled = this.#compile(definition);
  }

  get config(): Readonly<Record<string, unknown>> {
    return this.#compiled.config;
  }

  get description(): string | undefined {
    return this.#compiled.description;
  }

  /** Its admin users and what they may read; undefined: none. */
  get admin(): AdminOptions | undefined {
    return this.#compiled.admin;
  }

  /** Method names of an interface, for `inspect`. */
  methods(iface: string): readonly string[] | undefined {
    if (iface === BUILTIN_INTERFACE) return [...builtins.keys()];
    const table = this.#compiled.api.get(iface);
    return table ? [...table.keys()] : undefined;
  }

  /** Whether a call of `iface.method` would find a method (`$tjstp` builtins included). */
  has(iface: string, method: string): boolean {
    if (iface === BUILTIN_INTERFACE) return builtins.has(method);
    return this.#compiled.api.get(iface)?.has(method) ?? false;
  }

  interfaces(): readonly string[] {
    return [...this.#compiled.api.keys()];
  }

  /** Every interface's methods with their contracts, or one interface's. */
  describe(iface?: string): Record<string, Record<string, MethodDescription>> {
    const names = iface === undefined ? this.interfaces() : [iface];
    // fromEntries defines own properties: an interface named `__proto__` stays one.
    return Object.fromEntries(names.map((name) => {
      const table = this.#compiled.api.get(name);
      if (!table) throw new RemoteError(ErrorCode.INTERFACE_NOT_FOUND);
      return [name, Object.fromEntries([...table].map(([method, procedure]) => [method, procedure.description]))];
    }));
  }

  /**
   * Runs a method. Resolves to the results array (`[value]`, or `[]` for
   * undefined); rejects with a RemoteError for unknown names, refused access
   * or invalid arguments, with the RemoteError the method threw, or with an
   * {@link ApplicationFailure} naming the method (its `cause`: what it threw).
   */
  invoke(context: SessionContext, iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]> {
    if (iface === BUILTIN_INTERFACE) return this.#builtin(method, args);
    const table = this.#compiled.api.get(iface);
    if (!table) throw new RemoteError(ErrorCode.INTERFACE_NOT_FOUND);
    const procedure = table.get(method);
    if (!procedure) throw new RemoteError(ErrorCode.METHOD_NOT_FOUND);
    return procedure.call(this.#context(context), args);
  }

  /**
   * Hands an event a client sent to its handler, if the application has
   * one (returns whether it did). Failures are reported, never thrown.
   */
  event(context: SessionContext, iface: string, name: string, args: unknown[]): boolean {
    const handler = this.#compiled.events.get(iface)?.get(name);
    if (!handler) return false;
    const fail = (error: unknown): void =>
      this.#report(new ApplicationFailure(`${this.label} event ${iface}.${name}`, 'failed', { cause: error }));
    try {
      const result = (handler as (context: MethodContext, ...args: unknown[]) => unknown)(this.#context(context), ...args);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
    return true;
  }

  /**
   * Runs the resume hook for a new session, if the application has one;
   * resolves once it has finished. A failure is reported, never thrown:
   * the session starts with what the hook did before it failed.
   */
  async resume(context: SessionContext, state: unknown): Promise<boolean> {
    const hook = this.#compiled.resume;
    if (!hook) return false;
    try {
      await hook(this.#context(context), state);
    } catch (error) {
      this.#report(new ApplicationFailure(`${this.label} resume hook`, 'failed', { cause: error }));
    }
    return true;
  }

  /**
   * Swaps in a new definition of this same application version, in place:
   * sessions holding this object are served by the new methods at once,
   * while calls already running finish on the old ones. The definition is
   * compiled first; if it fails, nothing changes. With `restartHooks` a
   * started application runs its old stop hook and the new start hook.
   */
  async replace(definition: ApplicationDefinition, options: { restartHooks?: boolean } = {}): Promise<void> {
    if (definition.name !== this.name || (definition.version ?? '1.0.0') !== this.version) {
      throw new TypeError(`${this.label}: a reload cannot change the name or version (restart the server)`);
    }
    const compiled = this.#compile(definition);
    const restart = options.restartHooks === true && this.#started;
    if (restart) {
      // A failing old stop hook is reported; it must not keep the new code out.
      await this.stop().catch((error: unknown) => this.#report(error instanceof Error ? error : new Error(String(error))));
    }
    this.#compiled = compiled;
    if (restart) await this.start(this.#host);
  }

  /** Runs the start hook (once). `host` lets hooks broadcast and log. */
  async start(host?: ApplicationHost): Promise<void> {
    if (this.#started) return;
    this.#host = host ?? this.#host;
    this.#started = true;
    await this.#runHook('start');
  }

  /** Runs the stop hook, if started. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#runHook('stop');
  }

  /** `name@version`, as logs and failures name the application. */
  get label(): string {
    return `${this.name}@${this.version}`;
  }

  #compile(definition: ApplicationDefinition): CompiledApplication {
    return compileApplication(definition, this.label, (error) => this.#report(error));
  }

  #report(error: Error): void {
    try {
      if (error instanceof ApplicationFailure && !this.#failures.admit(error.source, error.cause ?? error)) return;
      if (this.#onError) this.#onError(error);
      else if (this.#host) logError(withFields(this.#host.logger, { app: this.label }), error.message, error);
      else console.error(error);
    } catch (failure) {
      // A failing logger must not turn one failure into an unhandled rejection.
      console.error(error, failure);
    }
  }

  get #failures(): FailureLog {
    return this.#host?.failures ?? (this.#ownFailures ??= new FailureLog({}, (line) => {
      if (this.#onError) this.#onError(new Error(line));
      else (this.#host?.logger ?? console).error(line);
    }));
  }

  #context(base: SessionContext): MethodContext {
    // A server session's own context already reads this application's config.
    if ('config' in base) return base as MethodContext;
    let context = this.#contexts.get(base);
    if (!context) {
      const app = this;
      context = Object.create(Object.getPrototypeOf(base) as object, {
        ...Object.getOwnPropertyDescriptors(base),
        // A getter, so a reloaded application.json reaches live sessions.
        config: { get: () => app.config, enumerable: true },
      }) as MethodContext;
      this.#contexts.set(base, context);
    }
    return context;
  }

  async #runHook(hook: 'start' | 'stop'): Promise<void> {
    const run = this.#compiled[hook];
    if (!run) return;
    const app = this;
    const host = this.#host;
    const api: HookApi = {
      name: this.name,
      version: this.version,
      get config() {
        return app.config;
      },
      broadcast(iface, name, ...args) {
        if (!host) throw new Error(`${app.label}: broadcast needs a server (pass it to start())`);
        host.broadcast(app.name, iface, name, args);
      },
      log: host?.logger ?? console,
    };
    try {
      await run(api);
    } catch (error) {
      throw new Error(`${this.label} ${hook} hook failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }

  #builtin(method: string, args: unknown[]): unknown[] {
    const run = builtins.get(method);
    if (!run) throw new RemoteError(ErrorCode.METHOD_NOT_FOUND);
    return [run(this, args)];
  }
}

type Builtin = (app: Application, args: unknown[]) => unknown;

/**
 * `$tjstp`: what a client needs to build a proxy, a REPL to complete and show
 * signatures. A Map, as every table a name from the wire is looked up in:
 * on a plain object `$tjstp.constructor` or `$tjstp.toString` would answer.
 */
const builtins: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['interfaces', (app, args) => {
    if (args.length > 0) throw new RemoteError(ErrorCode.INVALID_SIGNATURE, 'Too many arguments: expected at most 0');
    return app.interfaces();
  }],
  ['describe', (app, args) => {
    const [iface] = args;
    if (args.length > 1) throw new RemoteError(ErrorCode.INVALID_SIGNATURE, `Too many arguments: expected at most 1, got ${args.length}`);
    if (iface !== undefined && iface !== null && typeof iface !== 'string') {
      throw new RemoteError(ErrorCode.INVALID_SIGNATURE, 'Invalid argument 1 (iface): must be string');
    }
    return app.describe(iface ?? undefined);
  }],
]);

/** Applications by name and version; resolves the handshake's request. */
export class ApplicationRegistry {
  readonly #byName = new Map<string, Application[]>();

  constructor(applications: Iterable<Application | ApplicationDefinition>) {
    for (const entry of applications) {
      const app = entry instanceof Application ? entry : new Application(entry);
      const versions = this.#byName.get(app.name) ?? [];
      if (versions.some((other) => other.version === app.version)) {
        throw new Error(`Application ${app.name}@${app.version} is registered twice`);
      }
      versions.push(app);
      versions.sort((a, b) => semver.rcompare(a.version, b.version));
      this.#byName.set(app.name, versions);
    }
  }

  /**
   * The application a handshake asks for: the newest version when none is
   * given, the exact version, or the newest in a semver range (`^1.0.0`).
   * `name@range` in the name is accepted too (split at the last `@`).
   */
  resolve(name: string, requested?: string): Application | undefined {
    let appName = name;
    let range = requested;
    const at = name.lastIndexOf('@');
    if (range === undefined && at > 0) {
      appName = name.slice(0, at);
      range = name.slice(at + 1);
    }
    const versions = this.#byName.get(appName);
    if (!versions) return undefined;
    if (range === undefined || range === '') return versions[0];
    if (semver.valid(range)) return versions.find((app) => app.version === range);
    if (!semver.validRange(range)) return undefined;
    return versions.find((app) => semver.satisfies(app.version, range));
  }

  all(): readonly Application[] {
    return [...this.#byName.values()].flat();
  }
}
