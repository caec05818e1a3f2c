#!/usr/bin/env node
/**
 * The `tjstp` command. `tjstp serve` serves the bundled example application
 * (the full application loader and its flags come with the application
 * server); `tjstp help` lists commands.
 */
import { parseArgs } from 'node:util';
import { Server } from '../lib/index';
import example from '../applications/example/index';

const usage = `Usage: tjstp serve [--host H] [--tcp PORT] [--ws PORT]

  --host H     interface to listen on (default 127.0.0.1)
  --tcp PORT   TCP port (default 3000; 0 picks a free port)
  --ws PORT    WebSocket port (default 8000; 0 picks a free port)
`;

const serve = async (args: string[]): Promise<void> => {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      tcp: { type: 'string', default: '3000' },
      ws: { type: 'string', default: '8000' },
    },
  });
  const port = (text: string | undefined, flag: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`--${flag}: not a port: ${text}`);
    return value;
  };
  const server = new Server({ applications: [example] });
  const listeners = await server.listen({ host: values.host, tcp: port(values.tcp, 'tcp'), ws: port(values.ws, 'ws') });
  for (const listener of listeners) console.log(`listening ${listener.url}`);
  const stop = (): void => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

const main = async (): Promise<void> => {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      await serve(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(usage);
      return;
    default:
      process.stderr.write(`tjstp: unknown command "${command}"\n${usage}`);
      process.exitCode = 2;
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`tjstp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
