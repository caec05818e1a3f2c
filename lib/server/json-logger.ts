/**
 * A {@link Logger} writing one JSON object a line, for log collectors
 * (`tjstp serve --log-format json`; embedders may pass it as `logger`):
 *
 *   {"level":"error","time":"2026-01-02T03:04:05.678Z","msg":"s:Qx3…: app@1.0.0 a.b failed: …",
 *    "app":"app@1.0.0","session":"s:Qx3…","error":{"message":"…","stack":"…"}}
 *
 * `level` is `info`, `warn` or `error`; `time` ISO 8601 UTC; `msg` the
 * same words a text log prints; then the line's {@link LogFields} (through
 * `child`, as pino has them) and `error`, what was thrown with the line:
 * `message`, `name`, `stack` and `code` when it has one.
 */
import { inspect } from 'node:util';
import { readErrorArguments, type LogFields, type Logger } from './options.js';

export type LogLevel = 'info' | 'warn' | 'error';

/** What was thrown, as JSON can carry it: an Error's message, name, stack and code; anything else described. */
export interface LoggedError {
  message: string;
  name?: string;
  stack?: string;
  code?: string | number;
}

const describeThrown = (thrown: unknown): LoggedError => {
  if (!(thrown instanceof Error)) return { message: typeof thrown === 'string' ? thrown : inspect(thrown, { depth: 2, breakLength: Infinity }) };
  const logged: LoggedError = { message: thrown.message, name: thrown.name };
  if (thrown.stack !== undefined) logged.stack = thrown.stack;
  const { code } = thrown as { code?: unknown };
  if (typeof code === 'string' || typeof code === 'number') logged.code = code;
  return logged;
};

/** A {@link Logger} that also takes a fields object first, as pino does. */
export interface JsonLogger extends Logger {
  info(message: string): void;
  info(fields: object, message: string): void;
  warn(message: string): void;
  warn(fields: object, message: string): void;
  child(fields: LogFields): JsonLogger;
}

/** An object's own entries that are not an Error's `err` (which is `error` here), as fields. */
const objectFields = (value: object): Record<string, unknown> => {
  const fields: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (key !== 'err') fields[key] = field;
  return fields;
};

/**
 * A JSON-lines logger; `write` gets each line without its newline (e.g.
 * `(line) => process.stderr.write(line + '\n')`). `fields` go on every line.
 * Like pino it also takes a fields object first (`info({ user }, 'msg')`),
 * for hooks that log through `app.log` the pino way.
 */
export const jsonLogger = (write: (line: string) => void, fields: Readonly<Record<string, unknown>> = {}): JsonLogger => {
  const line = (level: LogLevel, msg: string, extra: Record<string, unknown>, thrown?: unknown): void => {
    // level, time and msg first for a reader, and never overwritten by a field of the same name.
    const entry: Record<string, unknown> = { level, time: new Date().toISOString(), msg, ...fields, ...extra };
    Object.assign(entry, { level, time: entry.time, msg });
    if (thrown !== undefined) entry.error = describeThrown(thrown);
    let text: string;
    try {
      text = JSON.stringify(entry);
    } catch {
      // A field that is not JSON (a cycle, a BigInt) must not lose the line.
      text = JSON.stringify({ level, time: entry.time, msg, ...(thrown !== undefined && { error: entry.error }) });
    }
    write(text);
  };
  const plain = (level: LogLevel) => (first: string | object, second?: string): void => {
    if (typeof first === 'object' && first !== null && typeof second === 'string') line(level, second, objectFields(first));
    else line(level, String(first), {});
  };
  return {
    info: plain('info'),
    warn: plain('warn'),
    error: (first: string | object, second?: string): void => {
      // pino's way: a fields object, what was thrown as its `err`.
      if (second !== undefined && typeof first === 'object' && first !== null && !(first instanceof Error)) {
        line('error', second, objectFields(first), 'err' in first ? (first as { err: unknown }).err : undefined);
        return;
      }
      const { message, thrown } = readErrorArguments(first, second);
      line('error', message, {}, thrown);
    },
    child: (more: LogFields) => jsonLogger(write, { ...fields, ...more }),
  };
};
