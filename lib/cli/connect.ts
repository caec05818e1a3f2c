/**
 * `tjstp connect URL APP [INTERFACE ...] [options]`: a session from the
 * terminal. Interactive on a terminal (lib/cli/repl/interactive.ts); a
 * script runner when stdin is not a terminal or `--eval` is given
 * (lib/cli/repl/script.ts). `connectUsage` documents the flags.
 */
import fs from 'node:fs';
import os from 'node:os';
import readline from 'node:readline';
import type tls from 'node:tls';
import { Client } from '../client/client.js';
import { transportFor } from '../connect.js';
import { Catalog } from './repl/catalog.js';
import type { ReplContext } from './repl/commands.js';
import { EventFilter } from './repl/event-filter.js';
import { historyFile } from './repl/history.js';
import { runInteractive, type TerminalOutput } from './repl/interactive.js';
import { connectUsage, parseConnectArgs, UsageError, type ConnectCliOptions } from './repl/options.js';
import { askHidden, PromptCancelled, type TerminalInput } from './repl/password.js';
import { formatError, maskId, paint, type PrintOptions } from './repl/printer.js';
import { runScript } from './repl/script.js';
import { SessionStatus } from './repl/status.js';
import { WireTap } from './repl/wire-tap.js';

/** Where `connect` writes lines that are not part of the interactive screen. */
export interface ConnectIo {
  out(line: string): void;
  err(line: string): void;
}

/** The terminal (or pipes) the command runs on; the process's by default. */
export interface ConnectStreams {
  input: TerminalInput;
  output: TerminalOutput & { hasColors?(env?: object): boolean };
  /** Where the password prompt goes when `output` is not a terminal (stdout then carries results). */
  errorOutput: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  homedir: string;
}

/** Exit codes besides 0 (success) and 1 (a statement failed). */
const EXIT_USAGE = 2;
const EXIT_CONNECT = 3;
const EXIT_CANCELLED = 130;

const defaultStreams = (): ConnectStreams => ({
  input: process.stdin,
  output: process.stdout,
  errorOutput: process.stderr,
  env: process.env,
  homedir: os.homedir(),
});

/** Lines of stdin, read lazily and shared by the password and the script. */
class StdinLines {
  readonly #input: NodeJS.ReadableStream;
  #rl: readline.Interface | undefined;
  #iterator: AsyncIterator<string> | undefined;

  constructor(input: NodeJS.ReadableStream) {
    this.#input = input;
  }

  get iterator(): AsyncIterator<string> {
    if (!this.#iterator) {
      this.#rl = readline.createInterface({ input: this.#input, terminal: false, crlfDelay: Infinity });
      this.#iterator = this.#rl[Symbol.asyncIterator]();
    }
    return this.#iterator;
  }

  async first(): Promise<string | undefined> {
    const next = await this.iterator.next();
    return next.done === true ? undefined : next.value;
  }

  get all(): AsyncIterable<string> {
    return { [Symbol.asyncIterator]: () => this.iterator };
  }

  close(): void {
    this.#rl?.close();
  }
}

const readPassword = async (options: ConnectCliOptions, streams: ConnectStreams, stdin: StdinLines): Promise<string> => {
  if (options.passwordEnv !== undefined) {
    const password = streams.env[options.passwordEnv];
    if (password === undefined) throw new UsageError(`--password-env: ${options.passwordEnv} is not set`);
    return password;
  }
  if (streams.input.isTTY === true) {
    const prompt = streams.output.isTTY === true ? streams.output : streams.errorOutput;
    return askHidden(`Password for ${options.login}: `, streams.input, prompt);
  }
  const line = await stdin.first();
  if (line === undefined) throw new UsageError('--login: no password on stdin (or use --password-env)');
  return line;
};

const tlsOptions = (options: ConnectCliOptions): tls.ConnectionOptions => {
  const result: tls.ConnectionOptions = {};
  if (options.ca !== undefined) {
    try {
      result.ca = fs.readFileSync(options.ca, 'utf8');
    } catch (error) {
      throw new UsageError(`--ca ${options.ca}: ${(error as Error).message}`);
    }
  }
  if (options.insecure) result.rejectUnauthorized = false;
  return result;
};

const banner = (url: string, client: Client, print: PrintOptions): string => {
  const ticket = client.session;
  const server = ticket?.legacy === true ? ' (a reference JSTP server)' : '';
  const id = ticket ? `session ${maskId(ticket.id)}` : 'no session';
  return `${paint(print, 'green', 'Connected')} to ${url}${server} (${id}). ${paint(print, 'dim', 'Tab completes, .help lists commands, .exit leaves.')}`;
};

/**
 * Runs `tjstp connect` with the arguments after `connect`.
 * @param io - lines outside the interactive screen: script results (out), errors and status (err)
 * @param terminal - the terminal, or parts of it; the process's by default
 * @returns the exit code: 0 success, 1 a statement failed, 2 bad usage, 3 could not connect or log in, 130 cancelled
 */
export const connectCommand = async (args: readonly string[], io: ConnectIo, terminal: Partial<ConnectStreams> = {}): Promise<number> => {
  const streams: ConnectStreams = { ...defaultStreams(), ...terminal };
  const stdin = new StdinLines(streams.input);
  try {
    return await run(args, io, streams, stdin);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`tjstp connect: ${error.message} (tjstp connect --help shows the usage)`);
      return EXIT_USAGE;
    }
    if (error instanceof PromptCancelled) return EXIT_CANCELLED;
    throw error;
  } finally {
    stdin.close();
  }
};

const run = async (args: readonly string[], io: ConnectIo, streams: ConnectStreams, stdin: StdinLines): Promise<number> => {
  const options = parseConnectArgs(args);
  if (options.help) {
    io.out(connectUsage);
    return 0;
  }
  const { input, output, env } = streams;
  const interactive = options.eval.length === 0 && input.isTTY === true;
  const colors = options.color ?? (interactive && output.isTTY === true && output.hasColors?.(env) === true);
  const print: PrintOptions = { colors, columns: output.columns };
  const say = interactive
    ? (line: string): void => {
        output.write(`${line}\n`);
      }
    : io.err;

  const login = options.login === undefined ? undefined : { user: options.login, password: await readPassword(options, streams, stdin) };
  const tap = new WireTap();
  const tls = tlsOptions(options);
  const factoryFor = (url: string): ReturnType<typeof transportFor> => {
    try {
      return tap.wrap(transportFor(url, { tls }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const client = new Client({
    app: options.app,
    login,
    transport: factoryFor(options.url),
    reconnect: options.reconnect ? undefined : false,
    heartbeatInterval: options.heartbeat,
    callTimeout: options.callTimeout,
  });
  const status = new SessionStatus(client, tap, { url: options.url, app: options.app }, (line) => say(`tjstp: ${line.text}`));
  tap.verbose = options.verbose;
  tap.onPacket = (line) => say(paint(print, 'dim', line));
  try {
    await client.open();
  } catch (error) {
    io.err(`tjstp connect: cannot connect to ${options.url} (${options.app}): ${formatError(error, { colors: false })}`);
    return EXIT_CONNECT;
  }

  const context: ReplContext = {
    client,
    tap,
    status,
    catalog: new Catalog(client, options.interfaces),
    events: new EventFilter(options.events ?? interactive),
    transportFor: factoryFor,
    awaitResume: !interactive,
    print,
  };
  try {
    if (interactive) {
      context.catalog.load().catch(() => undefined);
      return await runInteractive(context, {
        input,
        output,
        history: historyFile(env, streams.homedir),
        banner: banner(options.url, client, print),
      });
    }
    const lines = options.eval.length > 0 ? options.eval.flatMap((code) => code.split(/\r?\n/)) : stdin.all;
    return await runScript(lines, context, io);
  } finally {
    status.markClosing();
    client.close();
  }
};
