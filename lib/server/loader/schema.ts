/**
 * JSON Schema checks for method arguments and results, compiled with ajv
 * once when a method loads. One Ajv instance serves one load of one
 * application (a hot reload makes a new one), so a reload never meets the
 * previous load's `$id`s and the old validators are freed with the old
 * method table instead of piling up in a long-lived ajv cache.
 *
 * Error messages say which argument and why, never what was sent: ajv's
 * messages name only schema facts, and the instance path is rebuilt from
 * names the schema declares (a key the client invented shows as `*`).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ErrorCode, RemoteError } from '../../protocol/errors.js';

/** A JSON Schema (draft-07, as ajv's default export speaks it). */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** Checks and completes a call's arguments; throws RemoteError 17. */
export type ArgumentsCheck = (args: readonly unknown[]) => unknown[];

/** Checks a method's result; returns why it is invalid, or undefined. */
export type ResultCheck = (value: unknown) => string | undefined;

/** Compiles the schemas of one load of one application. */
export class SchemaCompiler {
  #ajv: Ajv | undefined;

  /** Ajv is created on first use: an application without schemas never pays for it. */
  #compile(schema: JsonSchema): ValidateFunction {
    if (typeof schema === 'object' && schema !== null && schema.$async === true) {
      throw new TypeError('asynchronous schemas ($async) are not supported');
    }
    this.#ajv ??= new Ajv({
      strict: true,
      allErrors: false,
      useDefaults: false,
      removeAdditional: false,
      coerceTypes: false,
    });
    return this.#ajv.compile(schema as boolean | Record<string, unknown>);
  }

  /**
   * One validator per positional parameter. A missing trailing argument is
   * `undefined`; it takes its schema's `default` (a copy) when there is one,
   * passes if the schema accepts `undefined` (only `{}`/`true` do), and is
   * otherwise reported missing. More arguments than parameters are refused.
   */
  arguments(parameters: readonly JsonSchema[]): ArgumentsCheck {
    const checks = parameters.map((schema, index) => this.#parameter(schema, index));
    const count = checks.length;
    return (args) => {
      if (args.length > count) {
        throw new RemoteError(
          ErrorCode.INVALID_SIGNATURE,
          `Too many arguments: expected at most ${count}, got ${args.length}`,
        );
      }
      const checked = args.slice();
      for (let index = 0; index < count; index++) {
        checked[index] = (checks[index] as ParameterCheck)(checked[index], index < args.length);
      }
      // Trailing undefineds of absent, unconstrained parameters are not sent on.
      while (checked.length > args.length && checked[checked.length - 1] === undefined) checked.pop();
      return checked;
    };
  }

  result(returns: JsonSchema): ResultCheck {
    const validate = this.#compile(returns);
    const names = declaredNames(returns);
    return (value) => (validate(value) ? undefined : describeError(validate.errors, names));
  }

  #parameter(schema: JsonSchema, index: number): ParameterCheck {
    let validate: ValidateFunction;
    try {
      validate = this.#compile(schema);
    } catch (error) {
      throw new TypeError(`parameter ${index + 1}: ${(error as Error).message}`, { cause: error });
    }
    const names = declaredNames(schema);
    const label = argumentLabel(schema, index);
    const hasDefault = typeof schema === 'object' && Object.hasOwn(schema, 'default');
    const fallback = hasDefault ? (schema as { default: unknown }).default : undefined;
    if (hasDefault && !validate(fallback)) {
      throw new TypeError(`parameter ${index + 1}: its default does not match its schema (${describeError(validate.errors, names)})`);
    }
    return (value, present) => {
      if (!present && hasDefault) return structuredClone(fallback);
      if (validate(value)) return value;
      const why = present ? describeError(validate.errors, names) : undefined;
      throw new RemoteError(
        ErrorCode.INVALID_SIGNATURE,
        why === undefined ? `Missing argument ${label}` : `Invalid argument ${label}: ${why}`,
      );
    };
  }
}

type ParameterCheck = (value: unknown, present: boolean) => unknown;

/** `2 (limit)` when the schema has a `title`, else `2`. */
const argumentLabel = (schema: JsonSchema, index: number): string => {
  const title = typeof schema === 'object' ? schema.title : undefined;
  return typeof title === 'string' && title !== '' ? `${index + 1} (${title})` : String(index + 1);
};

/** `/age must be integer`, with only schema-declared names in the path. */
const describeError = (errors: ErrorObject[] | null | undefined, names: ReadonlySet<string>): string => {
  const error = errors?.[0];
  if (!error) return 'is invalid';
  const message = error.message ?? `fails "${error.keyword}"`;
  if (error.instancePath === '') return message;
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => {
      const name = segment.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(name) || names.has(name) ? segment : '*';
    });
  return `/${path.join('/')} ${message}`;
};

/** Every property name a schema declares anywhere (`properties` keys). */
const declaredNames = (schema: JsonSchema): ReadonlySet<string> => {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties' && typeof value === 'object' && value !== null) {
        for (const name of Object.keys(value)) names.add(name);
      }
      visit(value);
    }
  };
  visit(schema);
  return names;
};
