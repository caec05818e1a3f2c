/**
 * JSON Schema to a TypeScript type, as text, for `tjstp types`. It covers
 * what method parameters and results use: `type` (string, number, integer,
 * boolean, null, array, object, or a list of them), `const` and `enum`
 * (literal unions), `items`/`prefixItems`/`additionalItems`/`minItems`
 * (arrays and tuples), `properties`/`required`/`additionalProperties`/
 * `patternProperties` (objects), `anyOf`/`oneOf` (unions), `allOf`
 * (intersections), `nullable`, and `$ref` to `#` or a JSON pointer inside
 * the same schema. A `type`-less schema with object (or array) keywords is
 * read as an object (array). Anything else is `unknown`: a type may be
 * wider than the schema, never narrower.
 *
 * Schemas come from application code and may be anything: this never
 * throws, and a cycle (a `$ref` loop, an object that contains itself) or
 * nesting past {@link MAX_DEPTH} becomes `unknown`.
 */

/** Deeper than this a schema becomes `unknown`: output stays readable and the stack safe. */
export const MAX_DEPTH = 32;

/** A type and how it binds, so it is parenthesised only where it must be. */
interface TsType {
  readonly text: string;
  readonly kind: 'atom' | 'union' | 'intersection';
}

interface Context {
  /** The whole schema, for `$ref`. */
  readonly root: unknown;
  /** Schema objects on the path here: meeting one again is a cycle. */
  readonly path: readonly object[];
  /** Indentation of the line the type starts on. */
  readonly indent: string;
}

const UNKNOWN: TsType = { text: 'unknown', kind: 'atom' };
const NEVER: TsType = { text: 'never', kind: 'atom' };
const atom = (text: string): TsType => ({ text, kind: 'atom' });

type JsonObject = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const own = (object: JsonObject, key: string): unknown => (Object.hasOwn(object, key) ? object[key] : undefined);

/** The TypeScript type of `schema`; `indent` is that of the line it is written on. */
export const schemaToType = (schema: unknown, indent = ''): string => convert(schema, { root: schema, path: [], indent }).text;

/** A name as a property key: bare when it is an identifier, else quoted. */
export const propertyKey = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

/**
 * A TSDoc comment from a description (and `@default`, `@deprecated`), one
 * line per line, ending with a newline; empty when there is nothing to say.
 */
export const docComment = (lines: readonly string[], indent: string): string => {
  const text = lines.flatMap((line) => line.split(/\r\n|\r|\n|\u2028|\u2029/)).map((line) => line.replace(/\*\//g, '*\\/').trimEnd());
  while (text.length > 0 && text[text.length - 1] === '') text.pop();
  if (text.length === 0) return '';
  if (text.length === 1) return `${indent}/** ${text[0]} */\n`;
  return `${indent}/**\n${text.map((line) => (line === '' ? `${indent} *\n` : `${indent} * ${line}\n`)).join('')}${indent} */\n`;
};

/** What a schema says about itself, for its doc comment. */
export const schemaDoc = (schema: unknown): string[] => {
  if (!isObject(schema)) return [];
  const lines: string[] = [];
  const description = own(schema, 'description');
  if (typeof description === 'string') lines.push(description);
  if (Object.hasOwn(schema, 'default')) {
    const text = safeJson(schema.default);
    if (text !== undefined && text.length <= 80) lines.push(`@default ${text}`);
  }
  if (own(schema, 'deprecated') === true) lines.push('@deprecated');
  return lines;
};

const safeJson = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value);
  } catch {
    // A cycle or a BigInt: the doc goes without it.
    return undefined;
  }
};

const convert = (schema: unknown, context: Context): TsType => {
  if (schema === true) return UNKNOWN;
  if (schema === false) return NEVER;
  if (!isObject(schema) || context.path.length >= MAX_DEPTH || context.path.includes(schema)) return UNKNOWN;
  const inner: Context = { ...context, path: [...context.path, schema] };
  const type = convertObject(schema, inner);
  return own(schema, 'nullable') === true ? union([type, atom('null')]) : type;
};

const convertObject = (schema: JsonObject, context: Context): TsType => {
  const ref = own(schema, '$ref');
  // In draft-07 a `$ref` hides its siblings.
  if (typeof ref === 'string') return convert(resolve(context.root, ref), context);
  if (Object.hasOwn(schema, 'const')) return literal(schema.const, context.path.length);
  const values = own(schema, 'enum');
  if (Array.isArray(values)) return union(values.map((value) => literal(value, context.path.length)));
  const parts = [byType(schema, context)];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const members = own(schema, key);
    if (Array.isArray(members) && members.length > 0) parts.push(union(members.map((member) => convert(member, context))));
  }
  const all = own(schema, 'allOf');
  if (Array.isArray(all)) parts.push(...all.map((member) => convert(member, context)));
  return intersection(parts);
};

/** `#`, `#/definitions/x`, `#/$defs/x/properties/y`…; undefined when it leads nowhere. */
const resolve = (root: unknown, ref: string): unknown => {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node = root;
  for (const raw of ref.slice(2).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (isObject(node)) node = own(node, segment);
    else return undefined;
  }
  return node;
};

const objectKeywords = ['properties', 'required', 'additionalProperties', 'patternProperties'];
const arrayKeywords = ['items', 'prefixItems', 'additionalItems'];

const byType = (schema: JsonObject, context: Context): TsType => {
  const type = own(schema, 'type');
  const names = typeof type === 'string' ? [type] : Array.isArray(type) ? type : undefined;
  if (names === undefined) {
    if (objectKeywords.some((key) => Object.hasOwn(schema, key))) return objectType(schema, context);
    if (arrayKeywords.some((key) => Object.hasOwn(schema, key))) return arrayType(schema, context);
    return UNKNOWN;
  }
  return union(names.map((name): TsType => {
    switch (name) {
      case 'string':
        return atom('string');
      case 'number':
      case 'integer':
        return atom('number');
      case 'boolean':
        return atom('boolean');
      case 'null':
        return atom('null');
      case 'array':
        return arrayType(schema, context);
      case 'object':
        return objectType(schema, context);
      default:
        return UNKNOWN;
    }
  }));
};

const arrayType = (schema: JsonObject, context: Context): TsType => {
  const prefix = own(schema, 'prefixItems');
  const items = own(schema, 'items');
  if (Array.isArray(prefix)) return tupleType(prefix, items, schema, context);
  if (Array.isArray(items)) return tupleType(items, own(schema, 'additionalItems'), schema, context);
  return atom(`${group(items === undefined ? UNKNOWN : convert(items, context))}[]`);
};

/** `[A, B?, ...C[]]`: elements past `minItems` are optional; `rest` false closes the tuple. */
const tupleType = (elements: readonly unknown[], rest: unknown, schema: JsonObject, context: Context): TsType => {
  const minItems = own(schema, 'minItems');
  const required = typeof minItems === 'number' && Number.isFinite(minItems) ? minItems : 0;
  const parts = elements.map((element, index) => {
    const type = convert(element, context);
    return index < required ? type.text : `${group(type)}?`;
  });
  if (rest !== false) parts.push(`...${group(rest === undefined ? UNKNOWN : convert(rest, context))}[]`);
  return atom(`[${parts.join(', ')}]`);
};

const objectType = (schema: JsonObject, context: Context): TsType => {
  const declared = own(schema, 'properties');
  const properties: JsonObject = isObject(declared) ? declared : {};
  const requiredList = own(schema, 'required');
  const required = new Set(Array.isArray(requiredList) ? requiredList.filter((name): name is string => typeof name === 'string') : []);
  const names = [...new Set([...Object.keys(properties), ...required])];
  const indent = `${context.indent}  `;
  const inner: Context = { ...context, indent };
  const lines: string[] = [];
  const propertyTypes: TsType[] = [];
  for (const name of names) {
    const property = Object.hasOwn(properties, name) ? own(properties, name) : true;
    const type = convert(property, inner);
    propertyTypes.push(type);
    const optional = !required.has(name);
    if (optional) propertyTypes.push(atom('undefined'));
    lines.push(`${docComment(schemaDoc(property), indent)}${indent}${propertyKey(name)}${optional ? '?' : ''}: ${type.text};`);
  }
  const index = indexType(schema, inner);
  if (index !== undefined) {
    // An index signature must admit every named property's type.
    const value = names.length > 0 && index.text !== 'unknown' ? union([index, ...propertyTypes]) : index;
    lines.push(`${indent}[key: string]: ${value.text};`);
  }
  if (lines.length === 0) return atom('Record<string, never>');
  if (names.length === 0) return atom(`{ ${lines[0]?.trim().slice(0, -1)} }`);
  return atom(`{\n${lines.join('\n')}\n${context.indent}}`);
};

/** The type of properties the schema does not name, or undefined when there may be none. */
const indexType = (schema: JsonObject, context: Context): TsType | undefined => {
  const additional = own(schema, 'additionalProperties');
  const patterns = own(schema, 'patternProperties');
  const types = isObject(patterns) ? Object.values(patterns).map((pattern) => convert(pattern, context)) : [];
  if (additional !== false) types.push(additional === undefined ? UNKNOWN : convert(additional, context));
  return types.length === 0 ? undefined : union(types);
};

/** A JSON value as a literal type; what JSON cannot hold is `unknown`. */
const literal = (value: unknown, depth: number, seen: readonly object[] = []): TsType => {
  if (value === null) return atom('null');
  switch (typeof value) {
    case 'string':
      return atom(JSON.stringify(value));
    case 'boolean':
      return atom(String(value));
    case 'number':
      return Number.isFinite(value) ? atom(Object.is(value, -0) ? '0' : String(value)) : atom('number');
    case 'object':
      break;
    default:
      return UNKNOWN;
  }
  if (depth + seen.length >= MAX_DEPTH || seen.includes(value)) return UNKNOWN;
  const next = [...seen, value];
  if (Array.isArray(value)) return atom(`[${value.map((item: unknown) => literal(item, depth, next).text).join(', ')}]`);
  const entries = Object.keys(value).map((key) => `${propertyKey(key)}: ${literal((value as JsonObject)[key], depth, next).text}`);
  return atom(entries.length === 0 ? 'Record<string, never>' : `{ ${entries.join('; ')} }`);
};

const group = (type: TsType): string => (type.kind === 'atom' ? type.text : `(${type.text})`);

const union = (types: readonly TsType[]): TsType => {
  const texts = new Set<string>();
  for (const type of types) {
    if (type.text === 'unknown') return UNKNOWN;
    if (type.text !== 'never') texts.add(type.text);
  }
  if (texts.size === 0) return NEVER;
  if (texts.size === 1) return types.find((type) => texts.has(type.text)) ?? NEVER;
  return { text: [...texts].join(' | '), kind: 'union' };
};

const intersection = (types: readonly TsType[]): TsType => {
  const parts = types.filter((type) => type.text !== 'unknown');
  if (parts.some((type) => type.text === 'never')) return NEVER;
  if (parts.length === 0) return UNKNOWN;
  if (parts.length === 1) return parts[0] as TsType;
  return { text: [...new Set(parts.map(group))].join(' & '), kind: 'intersection' };
};
