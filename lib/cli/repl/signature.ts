/**
 * Signatures for `.describe`: `calc.add(a: number, b: number) → number`.
 * tjstp's `$tjstp.describe` gives one JSON Schema per argument (`title`
 * names it, `default` makes it optional) and a `returns` schema. Other
 * forms are read too: names (`['a', 'b']`), `{ name, type | schema,
 * optional }` entries, an array schema with `prefixItems`/`items`, or a
 * `{ name: schema }` map. Anything else is shown as it is.
 */
import { inspect } from 'node:util';
import type { Description, MethodInfo } from './catalog.js';
import { paint, type PrintOptions } from './printer.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON Schema (or a plain type name) as a short TypeScript-like type. */
export const schemaType = (schema: unknown, depth = 0): string => {
  if (typeof schema === 'string') return schema;
  if (!isRecord(schema) || depth > 3) return 'unknown';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const union = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(union)) return union.map((member) => schemaType(member, depth + 1)).join(' | ');
  const type = schema.type;
  if (Array.isArray(type)) return type.map((member) => schemaType({ ...schema, type: member }, depth + 1)).join(' | ');
  if (type === 'array') {
    const items = schema.items;
    return isRecord(items) || typeof items === 'string' ? `${schemaType(items, depth + 1)}[]` : 'array';
  }
  if (type === 'object' && isRecord(schema.properties)) {
    const required = Array.isArray(schema.required) ? schema.required : [];
    const fields = Object.entries(schema.properties).map(
      ([key, value]) => `${key}${required.includes(key) ? '' : '?'}: ${schemaType(value, depth + 1)}`,
    );
    return `{ ${fields.join(', ')} }`;
  }
  return typeof type === 'string' ? type : 'unknown';
};

/** One parameter entry in any of the accepted forms. */
const formatParameter = (entry: unknown, index: number): string => {
  if (typeof entry === 'string') return entry;
  if (!isRecord(entry)) return `arg${index + 1}`;
  const name = typeof entry.name === 'string' ? entry.name : typeof entry.title === 'string' ? entry.title : undefined;
  // tjstp's schemas: `default` makes an argument optional.
  const optional = entry.optional === true || entry.required === false || 'default' in entry ? '?' : '';
  const type = schemaType(entry.schema ?? entry);
  return name === undefined ? `${type}${optional ? ' (optional)' : ''}` : `${name}${optional}: ${type}`;
};

/** The text between the parentheses. */
export const formatParameters = (parameters: unknown): string => {
  if (parameters === undefined) return '…';
  if (Array.isArray(parameters)) return parameters.map(formatParameter).join(', ');
  if (isRecord(parameters)) {
    const tuple = parameters.prefixItems ?? (Array.isArray(parameters.items) ? parameters.items : undefined);
    if (parameters.type === 'array' && Array.isArray(tuple)) return tuple.map(formatParameter).join(', ');
    return Object.entries(parameters).map(([name, schema]) => `${name}: ${schemaType(schema)}`).join(', ');
  }
  return inspect(parameters, { breakLength: Infinity });
};

/** `calc.add(a: number, b: number) → number  [log in]`, then the description. */
export const formatSignature = (iface: string, method: string, info: MethodInfo, options: PrintOptions): string => {
  let text = `${paint(options, 'cyan', `${iface}.${method}`)}(${formatParameters(info.parameters)})`;
  if (info.returns !== undefined) text += ` → ${schemaType(info.returns)}`;
  // Public is the default; only a restriction is worth a word.
  if (info.access === 'user') text += `  ${paint(options, 'yellow', '[log in]')}`;
  else if (typeof info.access === 'string' && info.access !== 'public') text += `  ${paint(options, 'yellow', `[${info.access}]`)}`;
  if (typeof info.description === 'string' && info.description !== '') text += `\n    ${paint(options, 'dim', info.description)}`;
  return text;
};

/**
 * Interfaces with their methods' signatures. `described` says the server
 * published signatures; without them the list says so once.
 */
export const formatDescription = (description: Description, described: boolean, options: PrintOptions): string => {
  const ifaces = Object.keys(description).sort();
  if (ifaces.length === 0) {
    return described ? 'The server lists no interfaces.' : 'No interfaces known yet: this server does not list them. Name one (calc?) or pass names after APP.';
  }
  const lines: string[] = [];
  for (const iface of ifaces) {
    const methods = description[iface] ?? {};
    lines.push(`${paint(options, 'bold', iface)}`);
    for (const method of Object.keys(methods).sort()) lines.push(`  ${formatSignature(iface, method, methods[method] ?? {}, options)}`);
  }
  if (!described) lines.push(paint(options, 'dim', '(this server publishes names only, no signatures)'));
  return lines.join('\n');
};
