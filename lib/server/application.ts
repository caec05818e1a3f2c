/**
 * An application as the engine sees it: named, versioned interfaces of
 * methods. Methods get an explicit context and their arguments, never
 * ambient globals, and may return a value or a promise. (Loading
 * applications from `applications/` is the loader's job; this is the shape
 * it produces.)
 */
import semver from 'semver';
import { ErrorCode, RemoteError } from '../protocol/errors';

/** What a method can see of the session that called it. */
export interface MethodContext {
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
}

/**
 * A method: the context first, then the call's arguments. `never[]` accepts
 * any declared parameter list; the caller's arguments are not checked here
 * (per-method schemas are the loader's), and arity is never used to reject
 * a call, unlike the reference.
 */
export type Method = (context: MethodContext, ...args: never[]) => unknown;

export type Interface = Readonly<Record<string, Method>>;

export interface ApplicationDefinition {
  name: string;
  /** Semver version; defaults to 1.0.0. */
  version?: string;
  api: Readonly<Record<string, Interface>>;
}

export class Application {
  readonly name: string;
  readonly version: string;
  readonly #api: ReadonlyMap<string, ReadonlyMap<string, Method>>;

  constructor(definition: ApplicationDefinition) {
    const version = definition.version ?? '1.0.0';
    if (!semver.valid(version)) {
      throw new TypeError(`Application ${definition.name}: invalid version "${version}"`);
    }
    this.name = definition.name;
    this.version = version;
    const api = new Map<string, Map<string, Method>>();
    for (const [iface, methods] of Object.entries(definition.api)) {
      const table = new Map<string, Method>();
      for (const [name, method] of Object.entries(methods)) {
        if (typeof method === 'function') table.set(name, method);
      }
      api.set(iface, table);
    }
    this.#api = api;
  }

  /** Method names of an interface, for `inspect`. */
  methods(iface: string): readonly string[] | undefined {
    const table = this.#api.get(iface);
    return table ? [...table.keys()] : undefined;
  }

  interfaces(): readonly string[] {
    return [...this.#api.keys()];
  }

  /**
   * Runs a method. Resolves to the results array (`[value]`, or `[]` for
   * undefined); rejects with a RemoteError for unknown names, or with
   * whatever the method threw.
   */
  invoke(context: MethodContext, iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]> {
    const table = this.#api.get(iface);
    if (!table) throw new RemoteError(ErrorCode.INTERFACE_NOT_FOUND);
    const fn = table.get(method);
    if (!fn) throw new RemoteError(ErrorCode.METHOD_NOT_FOUND);
    const result = (fn as (context: MethodContext, ...args: unknown[]) => unknown)(context, ...args);
    if (result instanceof Promise) return result.then(toResults);
    return toResults(result);
  }
}

const toResults = (value: unknown): unknown[] => (value === undefined ? [] : [value]);

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
