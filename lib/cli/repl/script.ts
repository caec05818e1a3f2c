/**
 * Script mode: statements from stdin or `--eval`, run one after another,
 * exactly one JSON line on stdout per statement:
 *
 *   {"ok":3}
 *   {"ok":1,"results":[1,2]}                        several results
 *   {"error":{"code":14,"message":"Method not found"}}
 *   {"error":{"code":"syntax","message":"Unexpected character \"2\" in the arguments"}}
 *
 * and, with `--events` (or `.events on`), one line per incoming event:
 *
 *   {"event":{"iface":"chat","name":"message","args":["hi"]}}
 *
 * Status (disconnects, resumes) and `--verbose` packets go to stderr, so
 * stdout stays machine-readable. The exit code is 1 if any statement failed.
 */
import type { RemoteEvent } from '../../client/types.js';
import { execute, type ReplContext } from './commands.js';
import { errorJson } from './printer.js';
import { readStatements } from './syntax.js';

/** Where script mode writes. */
export interface ScriptIo {
  out(line: string): void;
  err(line: string): void;
}

/** JSON that cannot fail: values from the wire are JSON already, but be sure. */
const json = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_key, item: unknown) => (item === undefined ? null : item)) ?? 'null';
  } catch (error) {
    return JSON.stringify({ error: errorJson(error) });
  }
};

/**
 * Runs every statement of `lines` in order.
 * @returns the exit code: 0 when all succeeded, 1 otherwise
 */
export const runScript = async (lines: AsyncIterable<string> | Iterable<string>, context: ReplContext, io: ScriptIo): Promise<number> => {
  let failed = false;
  const onEvent = (event: RemoteEvent): void => {
    if (context.events.shows(event.iface)) io.out(json({ event }));
  };
  context.client.on('event', onEvent);
  context.status.notify = (line) => io.err(`tjstp: ${line.text}`);
  context.tap.onPacket = io.err;
  try {
    for await (const line of lines) {
      for (const read of readStatements(line)) {
        if ('error' in read) {
          failed = true;
          io.out(json({ error: errorJson(read.error) }));
          continue;
        }
        try {
          const outcome = await execute(read.command, context);
          io.out(json(outcome.results ? { ok: outcome.value, results: outcome.results } : { ok: outcome.value }));
          if (outcome.exit) return failed ? 1 : 0;
        } catch (error) {
          failed = true;
          io.out(json({ error: errorJson(error) }));
        }
      }
    }
  } finally {
    context.client.off('event', onEvent);
    context.tap.onPacket = undefined;
  }
  return failed ? 1 : 0;
};
