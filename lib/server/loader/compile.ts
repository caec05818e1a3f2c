/**
 * Turns an application definition into the tables an Application serves
 * from: procedures by interface and name, event handlers, hooks. All of it
 * is built before anything is swapped in, so a definition that fails
 * anywhere changes nothing.
 */
import { adminOptionsProblem, type AdminOptions } from '../admin.js';
import type { ApplicationDefinition, EventHandler, Hook, ResumeHook } from '../application.js';
import { compileProcedure, type Procedure } from './procedure.js';
import { SchemaCompiler } from './schema.js';

/** The interface tjstp answers itself; applications cannot define it. */
export const BUILTIN_INTERFACE = '$tjstp';

/**
 * A definition that failed to compile. `member` says which part, so the
 * loader can name the file: `api/rooms.join`, `events/rooms.message`,
 * `start`, `stop`, or `application`.
 */
export class DefinitionError extends TypeError {
  readonly member: string;
  /** The message without the member. */
  readonly reason: string;

  constructor(member: string, reason: string, options?: { cause?: unknown }) {
    super(`${member}: ${reason}`, options);
    this.member = member;
    this.reason = reason;
    this.name = 'DefinitionError';
  }
}

export interface CompiledApplication {
  readonly api: ReadonlyMap<string, ReadonlyMap<string, Procedure>>;
  readonly events: ReadonlyMap<string, ReadonlyMap<string, EventHandler>>;
  readonly config: Readonly<Record<string, unknown>>;
  readonly description: string | undefined;
  readonly start: Hook | undefined;
  readonly stop: Hook | undefined;
  readonly resume: ResumeHook | undefined;
  readonly admin: AdminOptions | undefined;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const compileApplication = (
  definition: ApplicationDefinition,
  label: string,
  report: (error: Error) => void,
): CompiledApplication => {
  const schemas = new SchemaCompiler();
  if (!isRecord(definition.api)) throw new DefinitionError('application', 'api must be an object of interfaces');
  const api = new Map<string, Map<string, Procedure>>();
  for (const [iface, methods] of Object.entries(definition.api)) {
    if (iface === BUILTIN_INTERFACE) throw new DefinitionError(`api/${iface}`, 'this interface name is reserved');
    if (!isRecord(methods)) throw new DefinitionError(`api/${iface}`, 'an interface must be an object of methods');
    const table = new Map<string, Procedure>();
    for (const [method, value] of Object.entries(methods)) {
      const name = `${iface}.${method}`;
      try {
        table.set(method, compileProcedure(value, { label: `${label} ${name}`, name, schemas, report }));
      } catch (error) {
        throw new DefinitionError(`api/${name}`, (error as Error).message, { cause: error });
      }
    }
    api.set(iface, table);
  }
  const events = new Map<string, Map<string, EventHandler>>();
  for (const [iface, handlers] of Object.entries(definition.events ?? {})) {
    const table = new Map<string, EventHandler>();
    for (const [name, handler] of Object.entries(handlers as Record<string, unknown>)) {
      if (typeof handler !== 'function') throw new DefinitionError(`events/${iface}.${name}`, 'an event handler must be a function');
      table.set(name, handler as EventHandler);
    }
    events.set(iface, table);
  }
  for (const hook of ['start', 'stop', 'resume'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function') {
      throw new DefinitionError(hook, 'a hook must be a function');
    }
  }
  if (definition.config !== undefined && !isRecord(definition.config)) {
    throw new DefinitionError('application', 'config must be an object');
  }
  if (definition.description !== undefined && typeof definition.description !== 'string') {
    throw new DefinitionError('application', 'description must be a string');
  }
  const adminProblem = definition.admin === undefined ? undefined : adminOptionsProblem(definition.admin);
  if (adminProblem !== undefined) throw new DefinitionError('admin', adminProblem);
  return {
    api,
    events,
    config: Object.freeze({ ...definition.config }),
    admin: definition.admin === undefined ? undefined : Object.freeze({ ...definition.admin, users: Object.freeze([...definition.admin.users]) }),
    description: definition.description,
    start: definition.start,
    stop: definition.stop,
    resume: definition.resume,
  };
};
