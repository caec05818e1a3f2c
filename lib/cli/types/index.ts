/**
 * `tjstp types`: loads the applications as `tjstp serve` does and writes
 * TypeScript declarations of their methods and events, for typed clients.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JsonSchema } from '../../server/application.js';
import { loadApplications } from '../../server/loader/index.js';
import { applicationsDirectoryHint, findApplications, readLayout, type ApplicationLayout } from '../../server/loader/layout.js';
import { SchemaCompiler } from '../../server/loader/schema.js';
import type { ServeIo } from '../serve.js';
import { declarations, type ApplicationTypes } from './declarations.js';

export const typesUsage = `Usage: tjstp types [--applications DIR] [--out FILE]

Writes TypeScript declarations of the applications' methods (from their
parameters, returns and description) and of the events they send (from
"emits" in application.json), one interface per application, for typed
clients: connect<ChatApi>(url, { app: 'chat' }).

  --applications DIR   applications to describe (default ./applications)
  --out FILE           write the declarations there (default: stdout)
  --help               this text
`;

/**
 * Whether the server takes a call without this (trailing) argument: it
 * asks the same schema check the server runs, so a default, or a schema
 * that accepts anything, counts; a schema ajv cannot compile does not.
 */
const omittable = (schema: JsonSchema): boolean => {
  try {
    new SchemaCompiler().arguments([schema])([]);
    return true;
  } catch {
    return false;
  }
};

/** What the server would serve from `dir`, with each application's `emits`. */
export const describeApplications = async (dir: string): Promise<ApplicationTypes[]> => {
  const loaded = await loadApplications(dir);
  const layouts = new Map<string, ApplicationLayout>();
  for (const appDir of await findApplications(path.resolve(dir))) {
    const layout = await readLayout(appDir);
    layouts.set(`${layout.name}@${layout.version}`, layout);
  }
  return loaded.applications.map((app) => ({
    name: app.name,
    version: app.version,
    description: app.description,
    methods: app.describe(),
    emits: layouts.get(`${app.name}@${app.version}`)?.emits,
  }));
};

/** The command: 0 when written, 1 when the applications do not load, 2 on bad usage. */
export const typesCommand = async (args: readonly string[], io: ServeIo): Promise<number> => {
  let values: { applications?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { applications: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    io.err(`tjstp types: ${(error as Error).message}\n\n${typesUsage}`);
    return 2;
  }
  if (values.help) {
    io.out(typesUsage);
    return 0;
  }
  const dir = values.applications ?? 'applications';
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    io.err(`tjstp types: --applications ${dir}: no such directory\n\n${typesUsage}`);
    return 2;
  }
  let apps: ApplicationTypes[];
  try {
    apps = await describeApplications(dir);
  } catch (error) {
    io.err(`tjstp types: ${(error as Error).message}`);
    return 1;
  }
  if (apps.length === 0) {
    io.err(`tjstp types: --applications ${dir}: no applications found${await applicationsDirectoryHint(dir)}`);
    return 1;
  }
  // The header names the directory as given, with / on every platform, so the output is the same everywhere.
  const text = declarations(apps, { source: dir.split(path.sep).join('/'), omittable });
  if (values.out === undefined) {
    io.out(text.trimEnd());
    return 0;
  }
  try {
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(values.out, text);
  } catch (error) {
    io.err(`tjstp types: --out ${values.out}: ${(error as Error).message}`);
    return 1;
  }
  io.err(`wrote ${values.out}: ${apps.map((app) => `${app.name}@${app.version}`).join(', ')}`);
  return 0;
};
