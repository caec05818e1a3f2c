/**
 * A failure of application code, named by where it happened, so that logs
 * say which method or event handler failed and repeated failures of one
 * source can be counted together (see `failure-log.ts`).
 */
import { inspect } from 'node:util';

/** Longest description of a cause kept in a message or a summary. */
const MAX_DESCRIPTION = 300;

/**
 * One line about anything thrown: `TypeError: x` for an Error, the text of a
 * string, a short inspection of anything else. Never throws.
 */
export const describeFailure = (value: unknown): string => {
  let text: string;
  try {
    if (value instanceof Error) text = `${value.name}: ${value.message}`;
    else if (typeof value === 'string') text = value;
    else text = inspect(value, { depth: 1, breakLength: Infinity });
  } catch {
    text = 'a value that cannot be printed';
  }
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length > MAX_DESCRIPTION ? `${line.slice(0, MAX_DESCRIPTION)}…` : line;
};

/**
 * What a method call or an event handler failed with, as the application
 * reports and logs it: `source` is `chat@1.0.0 rooms.say` or
 * `chat@1.0.0 event rooms.typing`. The message carries the cause's own
 * message too, for loggers that print only messages; `cause` is what was
 * thrown.
 */
export class ApplicationFailure extends Error {
  readonly source: string;

  /** `what` happened to `source`: `failed`, `timed out after 50 ms`, … */
  constructor(source: string, what: string, options?: { cause: unknown }) {
    super(options ? `${source} ${what}: ${describeFailure(options.cause)}` : `${source} ${what}`, options);
    this.source = source;
    this.name = 'ApplicationFailure';
  }
}
