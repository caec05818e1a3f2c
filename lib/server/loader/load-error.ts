/**
 * What a file of an application that failed to load reports: the file, the
 * line and column when the error shows them, and the reason, in one line.
 * A load error is the author's mistake in their own file, so the loader's
 * and Node's frames (a stack trace) would only hide it.
 */
import path from 'node:path';
import { describeFailure } from '../failure.js';

/** A place in a file, both counted from 1 as editors do. */
export interface Position {
  readonly line: number;
  readonly column?: number;
}

/**
 * A file of an application that could not be loaded. `file` is its
 * absolute path; `line`/`column` (from 1) where the error is, when known;
 * `reason` what went wrong, one line. The message is
 * `file:line:column: reason`.
 */
export class LoadError extends Error {
  readonly file: string;
  readonly reason: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(file: string, reason: string, options?: { cause?: unknown; position?: Position }) {
    const position = options?.position;
    super(`${file}${where(position)}: ${reason}`, options);
    this.file = file;
    this.reason = reason;
    this.line = position?.line;
    this.column = position?.column;
    this.name = 'LoadError';
  }

  /** The message with the file relative to `root` (the applications directory): what `tjstp serve` prints. */
  describe(root: string): string {
    const relative = path.relative(path.resolve(root), this.file);
    const file = relative === '' || relative.startsWith('..') ? this.file : relative;
    return `${file}${where(this)}: ${this.reason}`;
  }
}

const where = (position: Partial<Position> | undefined): string =>
  position?.line === undefined ? '' : `:${position.line}${position.column === undefined ? '' : `:${position.column}`}`;

/**
 * Why evaluating `filename` failed, in one line: `SyntaxError: …`,
 * `Error: Cannot find module 'x'`, `TypeError: …`, or `threw …` for what is
 * not an Error. Only the first line of a message: Node appends the require
 * stack to a missing module's.
 */
export const loadFailureReason = (error: unknown): string => {
  if (!(error instanceof Error)) return `threw ${describeFailure(error)}`;
  const [first = ''] = String(error.message).split('\n', 1);
  return `${error.name}: ${first}`;
};

/**
 * Where in `filename` (as evaluated) `error` happened: for a syntax error
 * V8 heads the stack with `file:line` and a caret under the column; for
 * anything thrown, the topmost frame in the file. Undefined when neither
 * is there (a thrown string, a frame elsewhere).
 */
export const evaluatedPosition = (error: unknown, filename: string): Position | undefined => {
  let stack: string;
  try {
    stack = error instanceof Error ? String(error.stack) : '';
  } catch {
    return undefined;
  }
  const prefix = `${filename}:`;
  if (error instanceof SyntaxError && stack.startsWith(prefix)) {
    const [head = '', , caret = ''] = stack.split('\n', 3);
    const line = Number(head.slice(filename.length + 1));
    const column = caret.indexOf('^');
    if (Number.isInteger(line) && line > 0) return { line, column: column >= 0 ? column + 1 : undefined };
  }
  for (const frame of stack.split('\n')) {
    const start = frame.indexOf(prefix);
    if (!frame.trimStart().startsWith('at ') || start < 0) continue;
    const match = /^(\d+):(\d+)\)?$/.exec(frame.slice(start + prefix.length));
    if (match) return { line: Number(match[1]), column: Number(match[2]) };
  }
  return undefined;
};
