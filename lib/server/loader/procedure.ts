/**
 * A method made callable: its definition checked once, its schemas
 * compiled once, and the call pipeline — access, arguments, the handler
 * under its timeout, the result — fixed when it loads rather than decided
 * on every call.
 */
import { ErrorCode, RemoteError } from '../../protocol/errors.js';
import type { Access, Method, MethodContext, MethodDefinition, MethodDescription } from '../application.js';
import { ApplicationFailure } from '../failure.js';
import type { ResultCheck, SchemaCompiler } from './schema.js';

export interface Procedure {
  readonly description: MethodDescription;
  /**
   * Resolves to the results array, `[value]` or `[]`. Throws or rejects with
   * a RemoteError to answer, or with an {@link ApplicationFailure} that names
   * the method (its `cause` is what the handler threw).
   */
  call(context: MethodContext, args: unknown[]): unknown[] | Promise<unknown[]>;
}

export interface ProcedureOptions {
  /** `chat@1.0.0 rooms.join`, for error messages. */
  label: string;
  /** `rooms.join`, as clients see it. */
  name: string;
  schemas: SchemaCompiler;
  /** Failures no reply carries: a call timing out, a timed-out call's late failure. */
  report(error: ApplicationFailure): void;
}

const definitionKeys = new Set(['handler', 'access', 'timeout', 'parameters', 'returns', 'description']);
const accessLevels: ReadonlySet<string> = new Set<Access>(['public', 'user']);

/** Checks a definition's shape; names the first problem. */
const checkDefinition = (value: unknown): Method | MethodDefinition => {
  if (typeof value === 'function') return value as Method;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('expected a function or a method definition { handler, access?, timeout?, parameters?, returns?, description? }');
  }
  const definition = value as Record<string, unknown>;
  const unknown = Object.keys(definition).filter((key) => !definitionKeys.has(key));
  if (unknown.length > 0) throw new TypeError(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  if (typeof definition.handler !== 'function') throw new TypeError('handler must be a function');
  const { access, timeout, parameters, description } = definition;
  if (access !== undefined && !(typeof access === 'string' && accessLevels.has(access))) {
    throw new TypeError(`access must be 'public' or 'user'`);
  }
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= 2 ** 31 - 1)) {
    throw new TypeError('timeout must be a positive number of ms (up to 2^31-1)');
  }
  if (parameters !== undefined && !Array.isArray(parameters)) throw new TypeError('parameters must be an array of schemas');
  if (description !== undefined && typeof description !== 'string') throw new TypeError('description must be a string');
  return definition as unknown as MethodDefinition;
};

export const compileProcedure = (value: unknown, options: ProcedureOptions): Procedure => {
  const checked = checkDefinition(value);
  const definition: MethodDefinition = typeof checked === 'function' ? { handler: checked } : checked;
  const access = definition.access ?? 'public';
  const checkArgs = definition.parameters ? options.schemas.arguments(definition.parameters) : undefined;
  let checkResult: ResultCheck | undefined;
  if (definition.returns !== undefined) {
    try {
      checkResult = options.schemas.result(definition.returns);
    } catch (error) {
      throw new TypeError(`returns: ${(error as Error).message}`, { cause: error });
    }
  }
  const description: MethodDescription = {
    access,
    ...(definition.parameters && { parameters: definition.parameters }),
    ...(definition.returns !== undefined && { returns: definition.returns }),
    ...(definition.description !== undefined && { description: definition.description }),
  };
  const handler = definition.handler as (context: MethodContext, ...args: unknown[]) => unknown;
  const finish = (value: unknown): unknown[] => {
    const why = checkResult?.(value);
    // A bad result is the application's bug: the client gets [16], the log gets why.
    if (why !== undefined) throw new ApplicationFailure(options.label, `returned an invalid result: ${why}`);
    return value === undefined ? [] : [value];
  };
  // What the handler threw, named: the log says which method failed.
  const failed = (error: unknown): never => {
    throw RemoteError.is(error) ? error : new ApplicationFailure(options.label, 'failed', { cause: error });
  };
  const { timeout } = definition;
  return {
    description,
    call(context, args) {
      if (access === 'user' && context.user === null) {
        throw new RemoteError(ErrorCode.AUTH_FAILED, `Log in to call ${options.name}`);
      }
      const checked = checkArgs ? checkArgs(args) : args;
      let result: unknown;
      try {
        result = handler(context, ...checked);
      } catch (error) {
        return failed(error);
      }
      if (!isThenable(result)) return finish(result);
      const running = Promise.resolve(result);
      return (timeout === undefined ? running : withTimeout(running, timeout, options)).then(finish, failed);
    },
  };
};

const withTimeout = (promise: Promise<unknown>, ms: number, options: ProcedureOptions): Promise<unknown> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const expiry = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      options.report(new ApplicationFailure(options.label, `timed out after ${ms} ms`));
      reject(new RemoteError(ErrorCode.CALL_TIMEOUT, `${options.name} timed out after ${ms} ms`));
    }, ms);
  });
  const run = promise.then(
    (value) => {
      clearTimeout(timer);
      return value;
    },
    (error: unknown) => {
      clearTimeout(timer);
      // Answered already with 24: a late failure has no reply to ride on, so log it.
      if (timedOut && !RemoteError.is(error)) {
        options.report(new ApplicationFailure(options.label, 'failed after its timeout', { cause: error }));
      }
      throw error;
    },
  );
  // The loser of the race must not become an unhandled rejection.
  run.catch(() => {});
  return Promise.race([run, expiry]);
};

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null | undefined)?.then === 'function';
