/**
 * The JSON-Schema-to-TypeScript converter of `tjstp types`: what it makes
 * of each keyword; that it never throws and always writes a type that
 * parses, whatever it is given (fuzzed); and that values a schema accepts
 * (ajv decides) type-check against what it wrote: a type may be wider than
 * its schema, never narrower.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import fc from 'fast-check';
import ts from 'typescript';
import { MAX_DEPTH, docComment, schemaToType } from '../../lib/cli/types/schema-to-ts';
import { declarations, type ApplicationTypes } from '../../lib/cli/types/declarations';

/** TypeScript's syntax errors in `source`, as text. */
const syntaxErrors = (source: string): string[] =>
  (ts.transpileModule(source, { reportDiagnostics: true }).diagnostics ?? []).map((diagnostic) =>
    ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));

/** tsc's errors for one in-memory file (strict, no libraries beyond ES2022). */
const typeErrors = (source: string): string[] => {
  const name = '/virtual/check.ts';
  const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) =>
    file === name ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === name || fileExists(file);
  const program = ts.createProgram([name], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0;
    return `line ${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
};

const describedBy = (schema: unknown): string => {
  const description = typeof schema === 'object' && schema !== null ? (schema as { description?: unknown }).description : undefined;
  return typeof description === 'string' ? description : '';
};

describe('JSON Schema to TypeScript', () => {
  it('types, literals, arrays, tuples, objects, unions, intersections, nullable and $ref', () => {
    const cases: [unknown, string][] = [
      [true, 'unknown'],
      [false, 'never'],
      [{}, 'unknown'],
      [{ type: 'string', minLength: 1 }, 'string'],
      [{ type: 'integer' }, 'number'],
      [{ type: ['string', 'null'] }, 'string | null'],
      [{ type: 'boolean', nullable: true }, 'boolean | null'],
      [{ enum: ['a', 1, true, null] }, '"a" | 1 | true | null'],
      [{ const: 'it\'s "quoted"' }, '"it\'s \\"quoted\\""'],
      [{ const: { a: [1, -2.5] } }, '{ a: [1, -2.5] }'],
      [{ enum: [] }, 'never'],
      [{ type: 'array', items: { type: ['string', 'number'] } }, '(string | number)[]'],
      [{ type: 'array' }, 'unknown[]'],
      [{ type: 'array', items: [{ type: 'string' }, { type: 'integer' }], minItems: 1, additionalItems: false }, '[string, number?]'],
      [{ prefixItems: [{ type: 'string' }], items: { type: 'boolean' } }, '[string?, ...boolean[]]'],
      [{ type: 'object', additionalProperties: { type: 'number' } }, '{ [key: string]: number }'],
      [{ type: 'object' }, '{ [key: string]: unknown }'],
      [{ type: 'object', additionalProperties: false }, 'Record<string, never>'],
      [{ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }, 'string | string[]'],
      [{ oneOf: [{ type: 'string' }, {}] }, 'unknown'],
      [{ allOf: [{ type: 'string' }, { enum: ['a', 'b'] }] }, 'string & ("a" | "b")'],
      [{ type: 'number', anyOf: [{ minimum: 1 }, { maximum: 0 }] }, 'number'],
      [{ $ref: '#/definitions/id', definitions: { id: { type: 'integer' } } }, 'number'],
      [{ $ref: '#/$defs/a~1b', $defs: { 'a/b': { type: 'boolean' } } }, 'boolean'],
      [{ $ref: 'https://example.com/other.json' }, 'unknown'],
      [{ $ref: '#/nowhere' }, 'unknown'],
      [{ type: 'strin' }, 'unknown'],
      [{ type: 7 }, 'unknown'],
      [{ const: Number.NaN }, 'number'],
    ];
    for (const [schema, expected] of cases) assert.equal(schemaToType(schema), expected, JSON.stringify(schema));
  });

  it('objects: required and optional properties, quoted keys, documented, and index signatures that admit every property', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'integer', description: 'Unique; never */ reused' },
        'display-name': { type: 'string', default: 'anonymous' },
        tags: { type: 'array', items: { type: 'string' }, deprecated: true },
      },
      required: ['id', 'owner'],
      additionalProperties: { type: 'boolean' },
    };
    assert.equal(schemaToType(schema, '  '), [
      '{',
      '    /** Unique; never *\\/ reused */',
      '    id: number;',
      '    /** @default "anonymous" */',
      '    "display-name"?: string;',
      '    /** @deprecated */',
      '    tags?: string[];',
      '    owner: unknown;',
      '    [key: string]: unknown;',
      '  }',
    ].join('\n'), 'owner is unknown, so any value may be under any key');
    assert.equal(
      schemaToType({ properties: { a: { type: 'string' } }, additionalProperties: { type: 'number' } }),
      '{\n  a?: string;\n  [key: string]: number | string | undefined;\n}',
    );
    const closed = schemaToType({ properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false });
    assert.equal(closed, '{\n  a: string;\n}');
    assert.equal(docComment(['one', '', 'two'], ''), '/**\n * one\n *\n * two\n */\n');
    assert.equal(docComment([], ''), '');
  });

  it('a cycle, a $ref loop or nesting past the limit is unknown there, not a crash', () => {
    const cyclic: Record<string, unknown> = { type: 'object', properties: {} };
    (cyclic.properties as Record<string, unknown>).self = cyclic;
    assert.equal(schemaToType(cyclic), '{\n  self?: unknown;\n  [key: string]: unknown;\n}');
    assert.equal(schemaToType({ $ref: '#' }), 'unknown');
    assert.equal(schemaToType({ $ref: '#/definitions/a', definitions: { a: { $ref: '#/definitions/a' } } }), 'unknown');
    const tree = { type: 'array', items: { $ref: '#' } };
    assert.equal(schemaToType(tree), 'unknown[]');
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < MAX_DEPTH * 3; i++) deep = { type: 'array', items: deep };
    const type = schemaToType(deep);
    assert.ok(type.startsWith('unknown[]') && type.endsWith('[]'), type.slice(0, 40));
    const constant: Record<string, unknown> = {};
    constant.again = constant;
    assert.equal(schemaToType({ const: constant }), '{ again: unknown }');
  });

  it('fuzz: anything at all, and schema-shaped junk, gives a type that parses', () => {
    const junk = fc.letrec((tie) => ({
      schema: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.anything({ maxDepth: 2 }),
        fc.dictionary(
          fc.constantFrom('type', 'properties', 'required', 'additionalProperties', 'patternProperties', 'items', 'prefixItems',
            'additionalItems', 'minItems', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', '$ref', 'definitions', 'nullable',
            'description', 'default', 'deprecated', 'title', '__proto__', 'constructor'),
          fc.oneof(
            tie('schema'),
            fc.array(tie('schema'), { maxLength: 3 }),
            fc.dictionary(fc.string({ maxLength: 6 }), tie('schema'), { maxKeys: 3 }),
            fc.constantFrom('string', 'number', 'integer', 'boolean', 'null', 'array', 'object', 'nope', '#', '#/definitions/a', '#/properties/x', '#/items/0', '*/', '\u2028'),
            fc.array(fc.constantFrom('string', 'object', 'array', 'null', 3), { maxLength: 3 }),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          { maxKeys: 5 },
        ),
      ),
    })).schema;
    fc.assert(
      fc.property(junk, fc.constantFrom('', '  ', '      '), (schema, indent) => {
        const type = schemaToType(schema, indent);
        assert.equal(typeof type, 'string');
        const source = `type T =\n${indent}${type};\ninterface I {\n${docComment([describedBy(schema)], '  ')}  m(a: ${type}): void;\n}\n`;
        assert.deepEqual(syntaxErrors(source), [], source);
      }),
      { numRuns: 400 },
    );
  });

  it('fuzz: values a schema accepts type-check against its type', () => {
    interface Case {
      schema: unknown;
      value: unknown;
    }
    const key = fc.string({ minLength: 1, maxLength: 5 }).filter((name) => name !== '__proto__');
    const leaf: fc.Arbitrary<Case> = fc.oneof(
      fc.string({ maxLength: 5 }).map((value) => ({ schema: { type: 'string' }, value })),
      fc.integer().map((value) => ({ schema: { type: 'integer' }, value })),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => ({ schema: { type: 'number' }, value })),
      fc.boolean().map((value) => ({ schema: { type: ['boolean', 'null'] }, value })),
      fc.constant({ schema: { type: 'null' }, value: null }),
      fc.jsonValue({ maxDepth: 2 }).map((value) => ({ schema: { const: value }, value })),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean(), fc.constant(null)), { minLength: 1, maxLength: 4 })
        .chain((values) => fc.constantFrom(...values).map((value) => ({ schema: { enum: values }, value }))),
      fc.jsonValue({ maxDepth: 2 }).map((value) => ({ schema: {}, value })),
    );
    const cases = fc.letrec<{ node: Case }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 3 }).map((items) => ({
          schema: { type: 'array', items: items.length > 0 ? { anyOf: items.map((item) => item.schema) } : {} },
          value: items.map((item) => item.value),
        })),
        fc.array(tie('node'), { minLength: 1, maxLength: 3 }).chain((items) => fc.boolean().map((closed) => ({
          schema: { type: 'array', items: items.map((item) => item.schema), minItems: items.length, ...(closed && { additionalItems: false }) },
          value: items.map((item) => item.value),
        }))),
        fc.dictionary(key, tie('node'), { maxKeys: 3 }).chain((fields) =>
          fc.tuple(fc.subarray(Object.keys(fields)), fc.constantFrom<unknown>(false, true, undefined, { type: 'string' })).map(([required, additional]) => ({
            schema: {
              type: 'object',
              properties: Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.schema])),
              required,
              ...(additional !== undefined && { additionalProperties: additional }),
            },
            value: Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.value])),
          }))),
        fc.array(tie('node'), { minLength: 1, maxLength: 3 }).chain((members) => fc.nat({ max: members.length - 1 }).map((pick) => ({
          schema: { anyOf: members.map((member) => member.schema) },
          value: members[pick]?.value,
        }))),
      ),
    })).node;
    const ajv = new Ajv({ strict: false });
    const accepted = fc.sample(cases, { numRuns: 300, seed: 13 }).filter(({ schema, value }) => {
      try {
        return ajv.validate(schema as object, value);
      } catch {
        return false;
      }
    });
    assert.ok(accepted.length >= 200, `enough cases ajv accepts (${accepted.length})`);
    const source = accepted
      .map(({ schema, value }, index) => `// ${JSON.stringify(schema).replace(/[\u2028\u2029]/g, ' ')}\nexport const v${index}: ${schemaToType(schema)} = ${JSON.stringify(value)};\n`)
      .join('');
    assert.deepEqual(typeErrors(source), [], source.slice(0, 4000));
  });
});

describe('tjstp types declarations', () => {
  it('fuzz: any names, titles, parameters and events give a file that parses, the same for the same input', () => {
    const name = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('default', 'class', '__proto__', 'then', '1st', 'a b', 'a-b', ''));
    const schema = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ title: name, type: fc.constantFrom('string', 'integer', 'object'), default: fc.jsonValue({ maxDepth: 1 }), description: fc.string({ maxLength: 10 }) }, { requiredKeys: [] }),
    );
    const method = fc.record({
      access: fc.constantFrom<'public' | 'user'>('public', 'user'),
      parameters: fc.option(fc.array(schema, { maxLength: 4 }), { nil: undefined }),
      returns: fc.option(schema, { nil: undefined }),
      description: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    }, { requiredKeys: ['access'] });
    const table = <T>(value: fc.Arbitrary<T>) => fc.dictionary(name, fc.dictionary(name, value, { maxKeys: 3 }), { maxKeys: 3 });
    const app = fc.record({
      name,
      version: fc.constantFrom('1.0.0', '2.0.0', 'x'),
      description: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      methods: table(method),
      emits: fc.option(table(fc.record({ description: fc.string({ maxLength: 10 }), parameters: fc.array(schema, { maxLength: 3 }) }, { requiredKeys: [] })), { nil: undefined }),
    }, { requiredKeys: ['name', 'version', 'methods'] });
    const omittable = (value: unknown): boolean => typeof value === 'object' && value !== null && 'default' in value;
    fc.assert(
      // The loader never gives two applications one name and version.
      fc.property(fc.uniqueArray(app, { maxLength: 3, selector: (entry) => `${entry.name}@${entry.version}` }), (apps) => {
        const text = declarations(apps as ApplicationTypes[], { source: 'apps', omittable });
        assert.deepEqual(syntaxErrors(text), [], text);
        assert.equal(declarations([...apps].reverse() as ApplicationTypes[], { source: 'apps', omittable }), text, 'sorted: order in, same out');
      }),
      { numRuns: 150 },
    );
  });
});
