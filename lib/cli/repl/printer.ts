/**
 * How the REPL shows values, errors and events. Colours are decided once by
 * the caller (a terminal that supports them, no NO_COLOR); nothing here
 * looks at the environment.
 */
import { inspect } from 'node:util';
import { RemoteError, SessionLostError, TjstpError } from '../../protocol/errors.js';
import type { RemoteEvent } from '../../client/types.js';
import { InputError } from './syntax.js';

/** What every formatter needs to know about the output. */
export interface PrintOptions {
  colors: boolean;
  /** Terminal width; values wrap to it. */
  columns?: number;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
} as const;

export type Style = keyof typeof CODES;

/** Wraps `text` in an ANSI style when colours are on. */
export const paint = (options: PrintOptions, style: Style, text: string): string => {
  if (!options.colors) return text;
  const [open, close] = CODES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
};

/** A value as `util.inspect` shows it, wrapped to the terminal. */
export const formatValue = (value: unknown, options: PrintOptions): string =>
  inspect(value, { colors: options.colors, depth: 8, breakLength: options.columns ?? 80, compact: 3 });

/** Values on one line, comma-separated: event arguments, several results. */
export const formatInline = (values: readonly unknown[], options: PrintOptions): string =>
  values.map((value) => inspect(value, { colors: options.colors, depth: 4, breakLength: Infinity, compact: true })).join(', ');

/**
 * What a call resolved to; the reference allows several results. A method
 * that returns nothing shows `ok` (scripts print `{"ok":null}`): it
 * finished, and `undefined` would read like a fault.
 */
export const formatResults = (results: readonly unknown[], options: PrintOptions): string => {
  if (results.length === 0) return paint(options, 'dim', 'ok');
  return results.length === 1 ? formatValue(results[0], options) : formatInline(results, options);
};

/** An incoming event, written the way one would call it. */
export const formatEvent = (event: RemoteEvent, options: PrintOptions): string =>
  `${paint(options, 'magenta', 'event')} ${event.iface}.${event.name}(${formatInline(event.args, options)})`;

/** The JSON form of an error in script mode: `code` is a number for protocol errors. */
export interface ErrorJson {
  code: number | string;
  message: string;
  info?: unknown[];
  reason?: string;
}

/**
 * Reduces anything thrown to code, message and extras. Protocol errors keep
 * their numeric code; socket errors their `ECONNREFUSED`-style code; lines
 * the REPL could not read get `"syntax"`.
 */
export const errorJson = (error: unknown): ErrorJson => {
  if (error instanceof SessionLostError) return { code: error.code, message: error.message, reason: error.reason };
  if (error instanceof RemoteError) {
    return error.info.length > 0 ? { code: error.code, message: error.message, info: [...error.info] } : { code: error.code, message: error.message };
  }
  if (error instanceof TjstpError) return { code: error.code, message: error.message };
  if (error instanceof InputError) return { code: 'syntax', message: error.message };
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { code: typeof code === 'string' ? code : 'error', message: error.message };
  }
  return { code: 'error', message: String(error) };
};

/** An error for people: `Error 14: Method not found`, with info and reason if any. */
export const formatError = (error: unknown, options: PrintOptions): string => {
  const { code, message, info, reason } = errorJson(error);
  const head = typeof code === 'number' ? `Error ${code}` : code === 'syntax' ? 'Syntax error' : `Error ${code}`;
  let text = `${paint(options, 'red', head)}: ${message}`;
  if (reason !== undefined) text += ` (${reason})`;
  if (info !== undefined) text += ` ${paint(options, 'dim', formatInline(info, options))}`;
  return text;
};

/** First four characters and an ellipsis: enough to tell sessions apart, useless to steal one. */
export const maskId = (id: string): string => `${id.slice(0, 4)}…`;

/** `850 ms`, `3.2 s`, `4 min 10 s`. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
};

/** `4 MiB`, `512 KiB`, `100 B`. */
export const formatBytes = (bytes: number): string => {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
};
