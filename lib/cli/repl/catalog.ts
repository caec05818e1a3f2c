/**
 * What the REPL knows about the server's interfaces, for completion and
 * `.describe`. A tjstp server answers the reserved interface `$tjstp`
 * (`interfaces()`, `describe(iface?)`) with names and signatures. Other
 * servers (the reference, or a tjstp server without it) answer error 12;
 * then names come from `inspect`, which needs the interface's name first:
 * from the command line, or learned from calls and events as they happen.
 */
import { ErrorCode, RemoteError } from '../../protocol/errors.js';

/** What `$tjstp.describe` says about one method; every field optional. */
export interface MethodInfo {
  parameters?: unknown;
  returns?: unknown;
  description?: string;
  access?: string;
}

/** `{ iface: { method: info } }`, as `$tjstp.describe()` answers. */
export type Description = Record<string, Record<string, MethodInfo>>;

/** The part of the client the catalog uses. */
export interface CatalogClient {
  callResults(iface: string, method: string, args: readonly unknown[]): Promise<unknown[]>;
  inspect(iface: string): Promise<string[]>;
}

/** The reserved interface through which a tjstp server describes itself. */
export const META_INTERFACE = '$tjstp';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keeps what looks like a description and drops the rest: the server is not trusted to be well-formed. */
const readDescription = (value: unknown): Description => {
  const description: Description = Object.create(null) as Description;
  if (!isRecord(value)) return description;
  for (const [iface, methods] of Object.entries(value)) {
    const entry: Record<string, MethodInfo> = Object.create(null) as Record<string, MethodInfo>;
    if (isRecord(methods)) {
      for (const [method, info] of Object.entries(methods)) entry[method] = isRecord(info) ? (info as MethodInfo) : {};
    } else if (Array.isArray(methods)) {
      for (const method of methods) if (typeof method === 'string') entry[method] = {};
    }
    description[iface] = entry;
  }
  return description;
};

export class Catalog {
  readonly #client: CatalogClient;
  /** Methods by interface; `undefined` while an interface's methods are unknown. */
  readonly #interfaces = new Map<string, Map<string, MethodInfo> | undefined>();
  #loading: Promise<void> | undefined;
  #meta: boolean | undefined;

  /** @param seed - interface names known up front (the command line's) */
  constructor(client: CatalogClient, seed: readonly string[] = []) {
    this.#client = client;
    for (const iface of seed) this.learn(iface);
  }

  /** True once `$tjstp` answered; false when the server lacks it; undefined before `load`. */
  get described(): boolean | undefined {
    return this.#meta;
  }

  /** Known interface names, sorted. */
  get interfaces(): string[] {
    return [...this.#interfaces.keys()].sort();
  }

  /**
   * Asks `$tjstp` for everything once; when the server lacks it, inspects
   * the interfaces already known. Never rejects: a catalog that stays
   * empty only means less completion.
   */
  load(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<void> {
    try {
      const [names] = await this.#client.callResults(META_INTERFACE, 'interfaces', []);
      this.#meta = true;
      if (Array.isArray(names)) for (const name of names) if (typeof name === 'string') this.learn(name);
    } catch (error) {
      this.#meta = false;
      if (!(error instanceof RemoteError) || (error.code !== ErrorCode.INTERFACE_NOT_FOUND && error.code !== ErrorCode.METHOD_NOT_FOUND)) return;
      await Promise.all(this.interfaces.map((iface) => this.#fetch(iface).catch(() => undefined)));
      return;
    }
    try {
      const [description] = await this.#client.callResults(META_INTERFACE, 'describe', []);
      this.#merge(readDescription(description));
    } catch {
      // Names without signatures still complete; describe(iface) is retried per interface.
    }
  }

  /** Remembers that an interface exists (a call or an event named it). */
  learn(iface: string): void {
    if (iface !== META_INTERFACE && !this.#interfaces.has(iface)) this.#interfaces.set(iface, undefined);
  }

  /** Method names of an interface if known, else undefined. */
  methodsOf(iface: string): string[] | undefined {
    const methods = this.#interfaces.get(iface);
    return methods && [...methods.keys()].sort();
  }

  /** What is known about one method. */
  info(iface: string, method: string): MethodInfo | undefined {
    return this.#interfaces.get(iface)?.get(method);
  }

  /**
   * Method names of an interface, asking the server when unknown.
   * @throws RemoteError 12 when the server has no such interface
   */
  async fetchMethods(iface: string): Promise<string[]> {
    await this.load();
    return this.#fetch(iface);
  }

  async #fetch(iface: string): Promise<string[]> {
    const known = this.methodsOf(iface);
    if (known) return known;
    if (this.#meta) {
      const [description] = await this.#client.callResults(META_INTERFACE, 'describe', [iface]);
      this.#merge(readDescription(description));
      const described = this.methodsOf(iface);
      if (described) return described;
    }
    const names = await this.#client.inspect(iface);
    this.#interfaces.set(iface, new Map(names.map((name) => [name, {}])));
    return [...names].sort();
  }

  /**
   * Everything known about one interface, or all of them.
   * @throws RemoteError 12 for an unknown interface
   */
  async describe(iface?: string): Promise<Description> {
    await this.load();
    const names = iface === undefined ? this.interfaces : [iface];
    const result: Description = Object.create(null) as Description;
    for (const name of names) {
      await this.fetchMethods(name);
      result[name] = Object.fromEntries(this.#interfaces.get(name) ?? []);
    }
    return result;
  }

  #merge(description: Description): void {
    for (const [iface, methods] of Object.entries(description)) {
      if (iface === META_INTERFACE) continue;
      this.#interfaces.set(iface, new Map(Object.entries(methods)));
    }
  }
}
