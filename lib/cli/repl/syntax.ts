/**
 * The REPL's input language. One statement is one of
 *
 *   calc.add(1, 2)                     a call; arguments are literals
 *   chat.say({ room: 'x', text: 'hi' })
 *   calc.add?   calc?   calc.add       show signatures (no parentheses)
 *   .emit chat.typing(true)            an event to the server
 *   call calc add 1, 2                 the reference jstp-cli's forms
 *   event chat typing true
 *   .session  .drop 500  …             REPL commands (see `commandTable`)
 *
 * Arguments are read with the protocol's record parser (JSON plus single
 * quotes, bare keys, comments, `undefined`), never evaluated, so typing a
 * line cannot run code on this machine.
 */
import { parseRecord, RecordSyntaxError } from '../../protocol/record.js';

/** A statement the REPL understood. */
export type Command =
  | { kind: 'call'; iface: string; method: string; args: unknown[] }
  | { kind: 'emit'; iface: string; name: string; args: unknown[] }
  | { kind: 'describe'; iface?: string; method?: string }
  | { kind: 'events'; enable?: boolean; iface?: string }
  | { kind: 'session' }
  | { kind: 'stats' }
  | { kind: 'drop'; ms: number }
  | { kind: 'reconnect'; url?: string }
  | { kind: 'verbose'; level?: number }
  | { kind: 'wait'; ms: number }
  | { kind: 'help' }
  | { kind: 'exit' };

/** A line the REPL could not read. `column` indexes the statement's text. */
export class InputError extends Error {
  readonly column: number | undefined;

  constructor(message: string, column?: number) {
    super(message);
    this.name = 'InputError';
    this.column = column;
  }
}

/** One REPL command, for `.help` and completion. */
export interface CommandSpec {
  name: string;
  aliases: readonly string[];
  usage: string;
  summary: string;
}

/** Every dot command, in the order `.help` lists them. */
export const commandTable: readonly CommandSpec[] = [
  { name: '.help', aliases: [], usage: '.help', summary: 'this list' },
  { name: '.describe', aliases: ['.d'], usage: '.describe [iface[.method]]', summary: 'interfaces, methods and signatures' },
  { name: '.emit', aliases: [], usage: '.emit iface.event(args)', summary: 'send an event to the server' },
  { name: '.events', aliases: [], usage: '.events [on|off] [iface]', summary: 'show or hide incoming events, all or one interface' },
  { name: '.session', aliases: ['.status'], usage: '.session', summary: 'session id (masked), state, counters, resumes' },
  { name: '.stats', aliases: [], usage: '.stats', summary: "the server's sessions and memory (the application's admin users)" },
  { name: '.drop', aliases: [], usage: '.drop [ms]', summary: 'cut the connection like a network failure; stay down ms' },
  { name: '.reconnect', aliases: [], usage: '.reconnect [url]', summary: 'drop and resume at once, optionally over another URL' },
  { name: '.verbose', aliases: [], usage: '.verbose [off|on|all]', summary: 'packets on the wire (all: pings and pongs too)' },
  { name: '.wait', aliases: [], usage: '.wait ms', summary: 'pause (scripts: let events arrive)' },
  { name: '.exit', aliases: ['.close', '.quit'], usage: '.exit', summary: 'close the session and leave (also Ctrl+D)' },
];

/** Every spelling of every command, for completion. */
export const commandNames: readonly string[] = commandTable.flatMap((spec) => [spec.name, ...spec.aliases]);

const NAME = '[A-Za-z_$][\\w$-]*';
/** `iface.method` with interface names that may themselves contain dots. */
const TARGET = new RegExp(`^(${NAME}(?:\\.${NAME})*)`);

/** A statement and where it starts in its line. */
export interface Statement {
  text: string;
  offset: number;
}

/**
 * Splits a line at `;` outside strings, brackets and comments, so
 * `calc.add(1, 2); chat.say('a;b')` is two statements. Empty ones are
 * dropped; `//` after a space or `#` at the start of a statement comments
 * out the rest of the line.
 */
export const splitStatements = (line: string): Statement[] => {
  const statements: Statement[] = [];
  let start = 0;
  let depth = 0;
  let quote = '';
  const push = (end: number): void => {
    const raw = line.slice(start, end);
    const text = raw.trim();
    if (text !== '') {
      statements.push({ text, offset: start + raw.indexOf(text) });
    }
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    } else if (c === '/' && line[i + 1] === '*') {
      const end = line.indexOf('*/', i + 2);
      i = end === -1 ? line.length : end + 1;
    } else if (c === '/' && line[i + 1] === '/' && (i === start || /\s/.test(line[i - 1] ?? ''))) {
      // After a space only, so `.reconnect ws://host` keeps its URL. The
      // comment runs to the end of the line; push() drops an empty statement.
      push(i);
      return statements;
    } else if (c === '#' && line.slice(start, i).trim() === '') {
      start = line.length;
      break;
    } else if (c === ';' && depth === 0) {
      push(i);
      start = i + 1;
    }
  }
  push(line.length);
  return statements;
};

/**
 * Reads an argument list, the text between the parentheses, as the
 * elements of an array literal. `offset` is where that text starts in the
 * statement, so errors point at the right column.
 */
export const parseArguments = (text: string, offset = 0): unknown[] => {
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    // The newline ends a trailing `//` comment before the closing bracket.
    value = parseRecord(`[${text}\n]`);
  } catch (error) {
    if (!(error instanceof RecordSyntaxError)) throw error;
    const description = error.message.replace(/ at position \d+$/, '');
    const column = Math.min(Math.max(0, error.position - 1), text.length) + offset;
    throw new InputError(`${description} in the arguments`, column);
  }
  return value as unknown[];
};

/** Splits `a.b.c` into interface `a.b` and member `c`. */
const splitTarget = (target: string): { iface: string; member?: string } => {
  const dot = target.lastIndexOf('.');
  return dot === -1 ? { iface: target } : { iface: target.slice(0, dot), member: target.slice(dot + 1) };
};

/** `iface.member(args)` at the start of `text`; `offset` locates `text` in the statement. */
const parseInvocation = (text: string, offset: number, what: string): { iface: string; member: string; args: unknown[] } => {
  const match = TARGET.exec(text);
  const target = match?.[1];
  if (target === undefined) throw new InputError(`Expected ${what}`, offset);
  const { iface, member } = splitTarget(target);
  if (member === undefined) throw new InputError(`Expected ${what}: "${target}" has no ".name"`, offset);
  const rest = text.slice(target.length).trimStart();
  const restOffset = offset + text.length - rest.length;
  if (rest === '') return { iface, member, args: [] };
  if (!rest.startsWith('(')) throw new InputError(`Expected "(" after ${target}`, restOffset);
  const close = closingParenthesis(rest);
  if (close === -1) throw new InputError('Missing ")" at the end', offset + text.length);
  const after = rest.slice(close + 1);
  if (after.trim() !== '') throw new InputError('Unexpected text after the arguments', restOffset + close + 1 + after.length - after.trimStart().length);
  return { iface, member, args: parseArguments(rest.slice(1, close), restOffset + 1) };
};

/** Index of the `)` closing the `(` at 0, skipping strings and comments; -1 if none. */
const closingParenthesis = (text: string): number => {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) return -1;
      i = end + 1;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return c === ')' ? i : -1;
    }
  }
  return -1;
};

const parseNumber = (text: string | undefined, what: string, fallback?: number): number => {
  if (text === undefined || text === '') {
    if (fallback !== undefined) return fallback;
    throw new InputError(`${what} expects a number of milliseconds`);
  }
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new InputError(`${what} expects a number of milliseconds, not "${text}"`);
  return value;
};

const VERBOSE_LEVELS: Readonly<Record<string, number>> = { off: 0, '0': 0, on: 1, '1': 1, all: 2, '2': 2 };

const parseDotCommand = (text: string): Command => {
  const [word = '', ...words] = text.split(/\s+/);
  const spec = commandTable.find((c) => c.name === word || c.aliases.includes(word));
  const rest = text.slice(word.length).trim();
  switch (spec?.name) {
    case '.help':
      return { kind: 'help' };
    case '.describe': {
      if (rest === '') return { kind: 'describe' };
      const { iface, member } = splitTarget(rest.replace(/\?$/, ''));
      return member === undefined ? { kind: 'describe', iface } : { kind: 'describe', iface, method: member };
    }
    case '.emit': {
      const { iface, member, args } = parseInvocation(rest, text.length - rest.length, 'iface.event(args)');
      return { kind: 'emit', iface, name: member, args };
    }
    case '.events': {
      const [first, second] = words;
      if (first === undefined) return { kind: 'events' };
      if (first !== 'on' && first !== 'off') throw new InputError('Usage: .events [on|off] [iface]');
      return second === undefined ? { kind: 'events', enable: first === 'on' } : { kind: 'events', enable: first === 'on', iface: second };
    }
    case '.session':
      return { kind: 'session' };
    case '.stats':
      return { kind: 'stats' };
    case '.drop':
      return { kind: 'drop', ms: parseNumber(words[0], '.drop', 0) };
    case '.reconnect':
      return rest === '' ? { kind: 'reconnect' } : { kind: 'reconnect', url: rest };
    case '.verbose': {
      if (words[0] === undefined) return { kind: 'verbose' };
      const level = VERBOSE_LEVELS[words[0]];
      if (level === undefined) throw new InputError('Usage: .verbose [off|on|all]');
      return { kind: 'verbose', level };
    }
    case '.wait':
      return { kind: 'wait', ms: parseNumber(words[0], '.wait') };
    case '.exit':
      return { kind: 'exit' };
    default:
      throw new InputError(`Unknown command ${word} (.help lists them)`, 0);
  }
};

/** The reference CLI's `call iface method 1, 2` and `event iface name 1, 2`. */
const parseReferenceForm = (text: string): Command | undefined => {
  const match = /^(call|event)\s+(\S+)\s+([^\s(]+)\s*/.exec(text);
  if (!match) return undefined;
  const [head, verb, iface, member] = match as unknown as [string, string, string, string];
  const args = parseArguments(text.slice(head.length), head.length);
  return verb === 'call' ? { kind: 'call', iface, method: member, args } : { kind: 'emit', iface, name: member, args };
};

/**
 * Reads one statement (see `splitStatements`).
 * @throws {@link InputError} with the column of the mistake when it can tell
 */
export const parseStatement = (text: string): Command => {
  if (text.startsWith('.')) return parseDotCommand(text);
  const reference = parseReferenceForm(text);
  if (reference) return reference;
  const question = /^(\S+)\s*\?$/.exec(text);
  const bare = question?.[1] ?? (/^[\w$.-]+$/.test(text) ? text : undefined);
  if (bare !== undefined) {
    if (!TARGET.test(bare) || TARGET.exec(bare)?.[1] !== bare) throw new InputError(`"${bare}" is not an interface or method name`, 0);
    const { iface, member } = splitTarget(bare);
    return member === undefined ? { kind: 'describe', iface } : { kind: 'describe', iface, method: member };
  }
  const target = TARGET.exec(text)?.[1];
  if (target === undefined || !target.includes('.') || !text.slice(target.length).trimStart().startsWith('(')) {
    throw new InputError('Expected iface.method(args), iface.method? or a .command (.help lists them)', 0);
  }
  const { iface, member, args } = parseInvocation(text, 0, 'iface.method(args)');
  return { kind: 'call', iface, method: member, args };
};

/** A statement with what it says, or why it could not be read. */
export type ReadStatement = { statement: Statement; command: Command } | { statement: Statement; error: InputError };

/**
 * Splits and parses a whole line. Each statement is read on its own, so
 * one mistake does not hide the others; error columns index the line.
 */
export const readStatements = (line: string): ReadStatement[] =>
  splitStatements(line).map((statement) => {
    try {
      return { statement, command: parseStatement(statement.text) };
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      const column = error.column === undefined ? undefined : error.column + statement.offset;
      return { statement, error: new InputError(error.message, column) };
    }
  });
