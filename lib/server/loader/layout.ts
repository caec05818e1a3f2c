/**
 * Finds applications and their files on disk, without running any of
 * them. The layout itself is documented in `./index.ts`.
 */
import { adminOptionsProblem, type AdminOptions } from '../admin.js';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import type { JsonSchema } from './schema.js';
import { isRecord } from './compile.js';
import { LoadError } from './module.js';

export interface SourceFile {
  /** Interface (or event interface) name, from the directory. */
  readonly iface: string;
  /** Method (or event) name, from the file name. */
  readonly name: string;
  readonly file: string;
}

/**
 * An event the application sends, as `emits` in application.json describes
 * it: `{ "rooms": { "message": { "description": "…", "parameters": [schema, …] } } }`.
 * Only `tjstp types` reads it, to type clients; the server does not check events against it.
 */
export interface EmittedEvent {
  readonly description?: string;
  /** One JSON Schema per argument, as a method's `parameters`. */
  readonly parameters?: readonly JsonSchema[];
}

export interface ApplicationLayout {
  /** Absolute path of the application directory. */
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly description: string | undefined;
  readonly config: Readonly<Record<string, unknown>>;
  /** `emits` of application.json: interface, then event name. */
  readonly emits: Readonly<Record<string, Readonly<Record<string, EmittedEvent>>>> | undefined;
  /** `admin` of application.json: who may read the server's numbers. */
  readonly admin: AdminOptions | undefined;
  readonly methods: readonly SourceFile[];
  readonly events: readonly SourceFile[];
  readonly start: string | undefined;
  readonly stop: string | undefined;
  /** `resume.ts`: rebuilds a new session from the state a client kept of a lost one. */
  readonly resume: string | undefined;
}

const MANIFEST = 'application.json';
const manifestKeys = new Set(['name', 'version', 'description', 'config', 'emits', 'admin']);
const sourceExtensions = ['.ts', '.js', '.cjs'];
/** Names that make sense as JSTP keys and proxy properties. */
const identifier = /^[A-Za-z_$][\w$-]*$/;

/**
 * The directories under `root` that are applications: those with an
 * `application.json` or an `api/` directory. Hidden directories and
 * `node_modules` are skipped.
 */
export const findApplications = async (root: string): Promise<string[]> => {
  const entries = await fs.readdir(root, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(root, entry.name);
    if (await isApplication(dir)) found.push(dir);
  }
  return found.sort();
};

/** Whether `dir` is an application directory (see {@link findApplications}). */
export const isApplication = async (dir: string): Promise<boolean> => {
  const name = path.basename(dir);
  if (name.startsWith('.') || name === 'node_modules') return false;
  return (await exists(path.join(dir, MANIFEST))) || (await exists(path.join(dir, 'api')));
};

/**
 * Why a directory held no applications, when it is one itself (a common
 * slip: `--applications ./chat` for `--applications .`); '' otherwise.
 */
export const applicationsDirectoryHint = async (dir: string): Promise<string> => {
  if (!(await isApplication(path.resolve(dir)))) return '';
  return `: ${dir} is an application itself; pass the directory that holds it (${path.dirname(dir)})`;
};

/** Reads one application directory: identity, config and the files to load. */
export const readLayout = async (dir: string): Promise<ApplicationLayout> => {
  const base = path.basename(dir);
  const at = base.lastIndexOf('@');
  const dirName = at > 0 ? base.slice(0, at) : base;
  const dirVersion = at > 0 ? base.slice(at + 1) : undefined;
  if (dirVersion !== undefined && !semver.valid(dirVersion)) {
    throw new LoadError(dir, `"${dirVersion}" is not a semver version (expected e.g. chat@1.2.0)`);
  }
  const manifest = await readManifest(path.join(dir, MANIFEST));
  if (dirVersion !== undefined && manifest.version !== undefined && manifest.version !== dirVersion) {
    throw new LoadError(path.join(dir, MANIFEST), `version ${manifest.version} differs from the directory's ${dirVersion}`);
  }
  const hooks = await listSources(dir, (name) => name === 'start' || name === 'stop' || name === 'resume');
  return {
    dir,
    name: manifest.name ?? dirName,
    version: dirVersion ?? manifest.version ?? '1.0.0',
    description: manifest.description,
    config: manifest.config ?? {},
    emits: manifest.emits,
    admin: manifest.admin,
    methods: await listTree(path.join(dir, 'api')),
    events: await listTree(path.join(dir, 'events')),
    start: hooks.get('start'),
    stop: hooks.get('stop'),
    resume: hooks.get('resume'),
  };
};

interface Manifest {
  name?: string;
  version?: string;
  description?: string;
  config?: Record<string, unknown>;
  emits?: Record<string, Record<string, EmittedEvent>>;
  admin?: AdminOptions;
}

const readManifest = async (file: string): Promise<Manifest> => {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LoadError(file, `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LoadError(file, 'expected an object');
  const manifest = value as Record<string, unknown>;
  const unknown = Object.keys(manifest).filter((key) => !manifestKeys.has(key));
  if (unknown.length > 0) throw new LoadError(file, `unknown key(s) ${unknown.join(', ')} (allowed: name, version, description, config, emits, admin)`);
  const { name, version, description, config, emits, admin } = manifest;
  if (name !== undefined && (typeof name !== 'string' || name === '' || name.includes('@'))) {
    throw new LoadError(file, 'name must be a non-empty string without "@"');
  }
  if (version !== undefined && (typeof version !== 'string' || !semver.valid(version))) {
    throw new LoadError(file, 'version must be a semver version, e.g. "1.0.0"');
  }
  if (description !== undefined && typeof description !== 'string') throw new LoadError(file, 'description must be a string');
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
    throw new LoadError(file, 'config must be an object');
  }
  if (emits !== undefined) checkEmits(file, emits);
  const adminProblem = admin === undefined ? undefined : adminOptionsProblem(admin);
  if (adminProblem !== undefined) throw new LoadError(file, `admin ${adminProblem}`);
  return manifest as Manifest;
};

/** `emits`: `{ iface: { event: { description?, parameters? } } }`, naming the first entry that is not. */
const checkEmits = (file: string, emits: unknown): void => {
  const fail = (where: string, what: string): never => {
    throw new LoadError(file, `emits${where} must be ${what}`);
  };
  if (!isRecord(emits)) fail('', 'an object: { "iface": { "event": { "description"?, "parameters"? } } }');
  for (const [iface, events] of Object.entries(emits as object)) {
    if (!isRecord(events)) fail(`.${iface}`, 'an object of events');
    for (const [name, event] of Object.entries(events as object)) {
      const where = `.${iface}.${name}`;
      if (!isRecord(event)) fail(where, 'an object { "description"?, "parameters"? }');
      const { description, parameters, ...rest } = event as Record<string, unknown>;
      if (Object.keys(rest).length > 0) fail(where, `{ "description"?, "parameters"? }, not ${Object.keys(rest).join(', ')}`);
      if (description !== undefined && typeof description !== 'string') fail(`${where}.description`, 'a string');
      if (parameters !== undefined && !Array.isArray(parameters)) fail(`${where}.parameters`, 'an array of JSON Schemas, one per argument');
    }
  }
};

/** `<dir>/<iface>/<name>.ts|.js|.cjs`; a missing `dir` is an empty list. */
const listTree = async (dir: string): Promise<SourceFile[]> => {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: SourceFile[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const ifaceDir = path.join(dir, entry.name);
    if (!entry.isDirectory()) {
      if (!isSource(entry)) continue;
      throw new LoadError(ifaceDir, `expected a directory per interface: ${path.basename(dir)}/<interface>/<name>.ts`);
    }
    if (!identifier.test(entry.name)) throw new LoadError(ifaceDir, `"${entry.name}" is not a valid interface name`);
    for (const [name, file] of await listSources(ifaceDir, (name) => identifier.test(name) || invalidName(ifaceDir, name))) {
      found.push({ iface: entry.name, name, file });
    }
  }
  return found;
};

const isSource = (entry: Dirent): boolean =>
  entry.isFile() && !entry.name.startsWith('.') && !entry.name.endsWith('.d.ts') &&
  sourceExtensions.includes(path.extname(entry.name));

const invalidName = (dir: string, name: string): never => {
  throw new LoadError(path.join(dir, name), `"${name}" is not a valid name`);
};

/**
 * The source files of a directory that `wanted` accepts, by name without
 * extension; two files for one name (`join.ts` and `join.js`) is an error.
 */
const listSources = async (dir: string, wanted: (name: string) => boolean): Promise<Map<string, string>> => {
  const sources = new Map<string, string>();
  for (const entry of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!isSource(entry)) continue;
    const name = entry.name.slice(0, -path.extname(entry.name).length);
    if (!wanted(name)) continue;
    const file = path.join(dir, entry.name);
    const other = sources.get(name);
    if (other !== undefined) throw new LoadError(file, `${path.basename(other)} defines "${name}" too; keep one`);
    sources.set(name, file);
  }
  return sources;
};

const exists = async (file: string): Promise<boolean> => {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
};
