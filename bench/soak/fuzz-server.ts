/**
 * The fuzz part's server: `node dist/bench/soak/fuzz-server.js` serves the
 * tests' application (`test/helpers/app.ts`) over TCP and WS on 127.0.0.1,
 * port 0, and prints `listening <url>` per listener. Options are the
 * defaults except the per-address rates, which the fuzzer (one address,
 * thousands of connections a second) would otherwise spend in its first
 * second: the fuzz is about what arrives, the rates are tried elsewhere.
 *
 * Logs go to stderr as `tjstp serve` writes them (errors with their stack),
 * so the run can count their volume: a stranger must not be able to fill
 * the disk. A `stats` line on stdin is answered
 * with a `stats {json}` line on stdout; SIGTERM closes gracefully, exit 0.
 */
import readline from 'node:readline';
import { Server, type Logger } from '../../lib/index';
import { errorText } from '../../lib/server/options';
import { createTestApp } from '../../test/helpers/app';

const logger: Logger = {
  info: (message) => process.stderr.write(`info: ${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
  // As `tjstp serve` logs: with the stack, so the volume a stranger can provoke is what an operator would get.
  error: (first: string | object, second?: string) => {
    process.stderr.write(`error: ${errorText(first, second)}\n`);
  },
};

const main = async (): Promise<void> => {
  const server = new Server({
    applications: [createTestApp().definition],
    logger,
    newSessionsPerSecond: 0,
    restoresPerMinute: 0,
    maxSessionsPerAddress: 0,
    outputBytesPerSecond: 0,
  });
  const listeners = await server.listen({ tcp: 0, ws: 0 });
  for (const listener of listeners) process.stdout.write(`listening ${listener.url}\n`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'stats') return;
    const memory = process.memoryUsage();
    process.stdout.write(`stats ${JSON.stringify({ ...server.stats(), rss: memory.rss, heapUsed: memory.heapUsed })}\n`);
  });
  process.once('SIGTERM', () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  });
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
