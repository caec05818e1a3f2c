/**
 * The text `tjstp types` writes: per application an interface that a
 * typed client takes (`connect<ChatApi>(…)`, see lib/client/contract.ts),
 * its methods from their `parameters`, `returns` and `description`, and
 * the events it sends from `emits` in application.json. The output
 * depends only on the applications: everything is sorted.
 */
import semver from 'semver';
import type { EmittedEvent } from '../../server/loader/layout.js';
import type { JsonSchema, MethodDescription } from '../../server/application.js';
import { docComment, propertyKey, schemaDoc, schemaToType } from './schema-to-ts.js';

/** What is known of one application version. */
export interface ApplicationTypes {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** `describe()` of the loaded application: interface, then method. */
  readonly methods: Readonly<Record<string, Readonly<Record<string, MethodDescription>>>>;
  readonly emits?: Readonly<Record<string, Readonly<Record<string, EmittedEvent>>>>;
}

export interface DeclarationOptions {
  /** Where the applications came from, for the header (`applications`). */
  readonly source: string;
  /** Whether the server accepts a call that leaves this parameter out (it has a default, or accepts nothing). */
  readonly omittable: (schema: JsonSchema) => boolean;
}

const reserved = new Set(('break case catch class const continue debugger default delete do else enum export extends false finally for ' +
  'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
  'implements interface let package private protected public static yield await').split(' '));

/** An argument's name from its schema's `title`, made an identifier; `arg2` without one. */
const parameterName = (schema: JsonSchema, index: number, taken: Set<string>): string => {
  // `emits` comes from JSON nobody compiled: a "schema" may be null.
  const title = typeof schema === 'object' && schema !== null && typeof schema.title === 'string' ? schema.title : '';
  let name = title.replace(/[^\w$]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase());
  if (name === '') name = `arg${index + 1}`;
  if (/^\d/.test(name)) name = `_${name}`;
  if (reserved.has(name)) name = `${name}_`;
  const base = name;
  for (let suffix = 2; taken.has(name); suffix++) name = `${base}${suffix}`;
  taken.add(name);
  return name;
};

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortedKeys = (record: object): string[] => Object.keys(record).sort(compare);

/**
 * `name: Type` per parameter; `?` on those a call may leave out, which
 * must all come last (the server fills or accepts only trailing gaps).
 */
const parameterList = (parameters: readonly JsonSchema[], indent: string, options: DeclarationOptions): string[] => {
  const taken = new Set<string>();
  const names = parameters.map((schema, index) => parameterName(schema, index, taken));
  let firstOptional = parameters.length;
  while (firstOptional > 0 && options.omittable(parameters[firstOptional - 1] as JsonSchema)) firstOptional--;
  return parameters.map((schema, index) =>
    `${names[index]}${index >= firstOptional ? '?' : ''}: ${schemaToType(schema, indent)}`);
};

/** `@param` lines for the parameters whose schema says something (a description, a default). */
const parameterDocs = (parameters: readonly JsonSchema[], list: readonly string[]): string[] =>
  parameters.flatMap((schema, index) => {
    const said = schemaDoc(schema).map((line) => line.replace(/^@default /, 'Default: ')).join(' ');
    const name = /^[\w$]+/.exec(list[index] ?? '')?.[0];
    return said !== '' && name !== undefined ? [`@param ${name} ${said}`] : [];
  });

const methodLines = (name: string, method: MethodDescription, indent: string, options: DeclarationOptions): string => {
  const { parameters } = method;
  const list = parameters === undefined ? ['...args: unknown[]'] : parameterList(parameters, indent, options);
  const result = method.returns === undefined ? 'unknown' : schemaToType(method.returns, indent);
  const docs = [
    ...(method.description === undefined ? [] : [method.description]),
    ...(parameters === undefined ? ['Its arguments are not checked by the server.'] : parameterDocs(parameters, list)),
    ...(method.access === 'user' ? ['Only for a session that logged in.'] : []),
  ];
  return `${docComment(docs, indent)}${indent}${propertyKey(name)}(${list.join(', ')}): ${result};`;
};

const eventLines = (name: string, event: EmittedEvent, indent: string, options: DeclarationOptions): string => {
  const parameters = Array.isArray(event.parameters) ? event.parameters : [];
  const list = parameterList(parameters, indent, options);
  const docs = [...(typeof event.description === 'string' ? [event.description] : []), ...parameterDocs(parameters, list)];
  return `${docComment(docs, indent)}${indent}${propertyKey(name)}: [${list.join(', ')}];`;
};

/** `{ iface: { member } }` with `line` writing each member, at `indent`. */
const nested = <T>(table: Readonly<Record<string, Readonly<Record<string, T>>>>, indent: string,
  line: (name: string, value: T, indent: string) => string): string => {
  const inner = `${indent}  `;
  const blocks = sortedKeys(table).map((iface) => {
    const members = table[iface] as Readonly<Record<string, T>>;
    const lines = sortedKeys(members).map((name) => line(name, members[name] as T, `${inner}  `));
    return `${inner}${propertyKey(iface)}: {\n${lines.join('\n')}\n${inner}};`;
  });
  return blocks.length === 0 ? '{}' : `{\n${blocks.join('\n')}\n${indent}}`;
};

/** `chat` → `ChatApi`; `my-app@2.0.0` among several versions → `MyAppApiV2_0_0`. */
const interfaceNames = (apps: readonly ApplicationTypes[]): Map<ApplicationTypes, string> => {
  const names = new Map<ApplicationTypes, string>();
  const taken = new Set<string>();
  for (const app of apps) {
    let base = app.name.split(/[^A-Za-z0-9]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
    if (!/^[A-Za-z]/.test(base)) base = `App${base}`;
    base += 'Api';
    if (apps.filter((other) => other.name === app.name).length > 1) base += `V${app.version.replace(/[^A-Za-z0-9]/g, '_')}`;
    let name = base;
    for (let suffix = 2; taken.has(name); suffix++) name = `${base}${suffix}`;
    taken.add(name);
    names.set(app, name);
  }
  return names;
};

const byNameAndVersion = (a: ApplicationTypes, b: ApplicationTypes): number =>
  compare(a.name, b.name) || (semver.valid(a.version) && semver.valid(b.version) ? semver.compare(a.version, b.version) : compare(a.version, b.version));

/** The declarations file for `apps`. */
export const declarations = (apps: readonly ApplicationTypes[], options: DeclarationOptions): string => {
  const sorted = [...apps].sort(byNameAndVersion);
  const names = interfaceNames(sorted);
  const list = sorted.map((app) => `${app.name}@${app.version}`).join(', ');
  const header = [
    `// Generated by \`tjstp types\` from ${options.source} (${list}).`,
    '// Do not edit: change the applications and run `tjstp types` again.',
    '// Use: `const client = await connect<ChatApi>(url, { app: \'chat\' })`, then',
    '// `await client.api.rooms.say(room, text)` and `client.onEvent(\'rooms.message\', (message) => …)`.',
  ].join('\n');
  const blocks = sorted.map((app) => {
    const doc = docComment([`${app.description ?? app.name} (${app.name}@${app.version})`], '');
    const methods = nested(app.methods, '  ', (name, method, indent) => methodLines(name, method, indent, options));
    const events = app.emits === undefined
      ? '{\n    // No `emits` in application.json: any event, arguments unknown.\n    [iface: string]: { [name: string]: unknown[] };\n  }'
      : nested(app.emits, '  ', (name, event, indent) => eventLines(name, event, indent, options));
    return `${doc}export interface ${names.get(app)} {\n  methods: ${methods};\n  events: ${events};\n}\n`;
  });
  return `${header}\n\n${blocks.join('\n')}`;
};
