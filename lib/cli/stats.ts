/**
 * `tjstp stats URL APP [--login USER] [--json]`: what a server reports of
 * its sessions, asked once through an application that lets its admin
 * users read it (application.json `"admin": { "users": […], "stats": true }`,
 * see lib/server/admin.ts), printed as a table or as JSON.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type tls from 'node:tls';
import { parseArgs } from 'node:util';
import { Client } from '../client/client.js';
import { transportFor } from '../connect.js';
import { askHidden, PromptCancelled, type TerminalInput } from './repl/password.js';
import { formatError } from './repl/printer.js';
import { fetchStats, formatStats } from './repl/stats-view.js';

export interface StatsIo {
  out(line: string): void;
  err(line: string): void;
}

/** Exit codes, as `tjstp connect` has them: 1 the server refused or failed, 2 bad usage, 3 could not connect or log in. */
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;
const EXIT_CONNECT = 3;
const EXIT_CANCELLED = 130;

export const statsUsage = `Usage: tjstp stats URL APP[@VERSION] [options]

Prints what the server reports of its sessions: counts, connections,
memory, refusals, evictions, and APP's sessions by version. The
application must allow it to its admin users in application.json:
  "admin": { "users": ["ops"], "stats": true }

Options:
  --login USER         log in as USER; the password comes from
                       --password-env, else the first line of stdin, else
                       a prompt on the terminal
  --password-env VAR   read the password from environment variable VAR
  --login-method IFACE.METHOD
                       log in by calling the application's own method with
                       USER and the password, instead of at the handshake
                       (for a server without an authenticate hook, as
                       tjstp serve: the method calls context.login(user))
  --json               print the report as one JSON object
  --ca FILE            trust this CA (PEM) for tls:// and wss://
  --insecure           do not verify the server's certificate
  -h, --help           this text

Exit codes: 0 printed, 1 refused by the server, 2 bad usage,
3 could not connect or log in.
`;

class UsageError extends Error {}

interface StatsOptions {
  url: string;
  app: string;
  login?: string;
  passwordEnv?: string;
  /** `[iface, method]` that logs in, called after an anonymous handshake. */
  loginMethod?: [string, string];
  json: boolean;
  tls: tls.ConnectionOptions;
}

const readOptions = (args: readonly string[]): StatsOptions | 'help' => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        login: { type: 'string' },
        'password-env': { type: 'string' },
        'login-method': { type: 'string' },
        json: { type: 'boolean' },
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [url, app, ...extra] = positionals;
  if (url === undefined || app === undefined) throw new UsageError('expected URL and APP');
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.map((word) => JSON.stringify(word)).join(', ')}`);
  if (values['password-env'] !== undefined && values.login === undefined) throw new UsageError('--password-env needs --login');
  const options: StatsOptions = { url, app, json: values.json === true, tls: {} };
  if (values.login !== undefined) options.login = values.login;
  if (values['password-env'] !== undefined) options.passwordEnv = values['password-env'];
  if (values['login-method'] !== undefined) {
    const match = /^([^.\s]+)\.([^.\s]+)$/.exec(values['login-method']);
    if (!match || values.login === undefined) throw new UsageError('--login-method IFACE.METHOD needs --login USER (e.g. --login ops --login-method auth.login)');
    options.loginMethod = [match[1] as string, match[2] as string];
  }
  if (values.ca !== undefined) {
    try {
      options.tls.ca = fs.readFileSync(values.ca, 'utf8');
    } catch (error) {
      throw new UsageError(`--ca ${values.ca}: ${(error as Error).message}`);
    }
  }
  if (values.insecure) options.tls.rejectUnauthorized = false;
  return options;
};

const firstLine = async (input: NodeJS.ReadableStream): Promise<string | undefined> => {
  const lines = readline.createInterface({ input, terminal: false, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
};

const readPassword = async (options: StatsOptions, input: TerminalInput, env: NodeJS.ProcessEnv): Promise<string> => {
  if (options.passwordEnv !== undefined) {
    const password = env[options.passwordEnv];
    if (password === undefined) throw new UsageError(`--password-env: ${options.passwordEnv} is not set`);
    return password;
  }
  // stdout carries the report: the prompt goes to stderr.
  if (input.isTTY === true) return askHidden(`Password for ${options.login}: `, input, process.stderr);
  const line = await firstLine(input);
  if (line === undefined) throw new UsageError('--login: no password on stdin (or use --password-env)');
  return line;
};

/**
 * Runs `tjstp stats` with the arguments after `stats`.
 * @returns the exit code: 0 printed, 1 refused, 2 bad usage, 3 could not connect or log in, 130 cancelled
 */
export const statsCommand = async (
  args: readonly string[],
  io: StatsIo,
  terminal: { input?: TerminalInput; env?: NodeJS.ProcessEnv } = {},
): Promise<number> => {
  let options: StatsOptions | 'help';
  let client: Client | undefined;
  try {
    options = readOptions(args);
    if (options === 'help') {
      io.out(statsUsage);
      return 0;
    }
    const credentials = options.login === undefined ? undefined : { user: options.login, password: await readPassword(options, terminal.input ?? process.stdin, terminal.env ?? process.env) };
    const login = options.loginMethod === undefined ? credentials : undefined;
    let transport;
    try {
      transport = transportFor(options.url, { tls: options.tls });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    client = new Client({ app: options.app, login, transport, reconnect: false });
    try {
      await client.open();
    } catch (error) {
      io.err(`tjstp stats: cannot connect to ${options.url} (${options.app}): ${formatError(error, { colors: false })}`);
      return EXIT_CONNECT;
    }
    if (options.loginMethod !== undefined && credentials !== undefined) {
      try {
        await client.call(...options.loginMethod, credentials.user, credentials.password);
      } catch (error) {
        io.err(`tjstp stats: cannot log in to ${options.url} (${options.app}) with ${options.loginMethod.join('.')}: ${formatError(error, { colors: false })}`);
        return EXIT_CONNECT;
      }
    }
    try {
      const stats = await fetchStats(client);
      io.out(options.json ? JSON.stringify(stats) : formatStats(stats, { colors: false }));
      return 0;
    } catch (error) {
      io.err(`tjstp stats: ${options.url} (${options.app}): ${formatError(error, { colors: false })}`);
      return EXIT_REFUSED;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`tjstp stats: ${error.message}\n\n${statsUsage}`);
      return EXIT_USAGE;
    }
    if (error instanceof PromptCancelled) return EXIT_CANCELLED;
    throw error;
  } finally {
    client?.close();
  }
};
