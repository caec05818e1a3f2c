/**
 * How `tjstp serve` writes its log: `text` (the default) prints info on
 * stdout and warnings and errors on stderr, prefixed `warning:` and
 * `error:`; `json` writes every line, whatever its level, to stderr as one
 * JSON object (see `jsonLogger`), for a log collector. Both get the same
 * events: everything serve reports goes through the one logger.
 */
import { jsonLogger } from '../server/json-logger.js';
import { errorText, type Logger } from '../server/options.js';

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** Where serve's lines go: the process's stdout and stderr, or a test's buffers. */
export interface ServeIo {
  out(line: string): void;
  err(line: string): void;
}

/** The text log, as `tjstp serve` has always printed it; fields are only in the words. */
export const textLogger = (io: ServeIo): Logger => ({
  info: (message) => io.out(message),
  warn: (message) => io.err(`warning: ${message}`),
  error: (first: string | object, second?: string) => io.err(`error: ${errorText(first, second)}`),
});

/** The logger for `--log-format`; `fields` (a worker's pid) go on every JSON line. */
export const serveLogger = (format: LogFormat, io: ServeIo, fields: Readonly<Record<string, unknown>> = {}): Logger =>
  format === 'json' ? jsonLogger((line) => io.err(line), fields) : textLogger(io);
