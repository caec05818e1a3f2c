#!/usr/bin/env node
/**
 * The `tjstp` command: `serve` runs the application server, `connect` opens
 * an interactive (or scripted) session, `types` writes declarations for
 * typed clients, `stats` prints what a server reports of its sessions;
 * `help` and `--version` say what this is. Exit code 2 (bad usage) for no
 * command or an unknown one.
 */
import { connectCommand } from '../lib/cli/connect';
import { serveCommand } from '../lib/cli/serve';
import { statsCommand } from '../lib/cli/stats';
import { typesCommand } from '../lib/cli/types';

const usage = `Usage: tjstp <command> [options]

Commands:
  serve      serve the applications in a directory (tjstp serve --help)
  connect    open a session from the terminal or a script (tjstp connect --help)
  types      write TypeScript declarations for typed clients (tjstp types --help)
  stats      what a server reports of its sessions (tjstp stats --help)
  help       this text

Options:
  --version  print the version
`;

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

const main = async (): Promise<number> => {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      return serveCommand(rest, io);
    case 'connect':
      return connectCommand(rest, io);
    case 'types':
      return typesCommand(rest, io);
    case 'stats':
      return statsCommand(rest, io);
    case '--version':
    case '-v':
      io.out((require('../../package.json') as { version: string }).version);
      return 0;
    case undefined:
      // No command is a mistake (as an unknown one is): scripts must not take it for success.
      io.err(usage);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.out(usage);
      return 0;
    default:
      io.err(`tjstp: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
};

main().then(
  (code) => {
    process.exitCode = code;
    // A stopped server is done even if a method it gave up on still has a
    // timer running, and `types` even if application code it loaded started
    // one; output gets a moment to flush first.
    if (process.argv[2] === 'serve' || process.argv[2] === 'types') setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    io.err(`tjstp: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
