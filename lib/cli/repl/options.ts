/**
 * The command line of `tjstp connect`, read with `node:util` `parseArgs`
 * as `tjstp serve`'s is.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Everything `tjstp connect` was asked to do. */
export interface ConnectCliOptions {
  url: string;
  /** Application name, optionally `name@range`. */
  app: string;
  /** Interfaces to complete from the start (servers without `$tjstp` cannot list them). */
  interfaces: string[];
  login?: string;
  passwordEnv?: string;
  /** Statements of `--eval`, in order; non-empty means script mode. */
  eval: string[];
  /** Show events; undefined: the mode's default (interactive on, scripts off). */
  events?: boolean;
  verbose: number;
  reconnect: boolean;
  heartbeat?: number;
  callTimeout?: number;
  ca?: string;
  insecure: boolean;
  /** Force colours on or off; undefined: on a terminal that has them. */
  color?: boolean;
  help: boolean;
}

/** A command line that cannot be obeyed; exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const connectUsage = `Usage: tjstp connect URL APP[@VERSION] [INTERFACE ...] [options]

Opens a session and reads calls: interactively on a terminal, else as a
script from stdin or --eval (one JSON line per statement on stdout).

  URL                  tcp://host:port, tls://host:port, ws://host:port/path,
                       wss://…, ipc:///path.sock or a socket path
  APP[@VERSION]        application name, optionally a version or range
  INTERFACE ...        interfaces to complete when the server cannot list them

Options:
  --login USER         log in; the password comes from --password-env, else is
                       asked without echo on a terminal, else is the first line
                       of stdin
  --password-env VAR   read the password from environment variable VAR
  -e, --eval CODE      run CODE and exit (repeatable; ';' separates statements)
  --events             scripts: print incoming events as JSON lines too
  --no-events          interactive: start with events hidden
  -v, --verbose        print packets on the wire; -vv adds pings and pongs
  -R, --no-reconnect   stay disconnected when the connection drops
  --heartbeat MS       client heartbeat interval (default 10000, 0 disables)
  --call-timeout MS    fail calls not answered in time (default: wait)
  --ca FILE            trust this CA for tls:// and wss://
  --insecure           do not verify the server's certificate
  --color, --no-color  force colours on or off (default: on a terminal)
  -h, --help           this text

Environment: TJSTP_HISTORY (history file, default ~/.tjstp_history; empty
disables), TJSTP_HISTORY_SIZE (default 1000), NO_COLOR.

Script output: {"ok":VALUE} or {"error":{"code":14,"message":"Method not found"}}
per statement, {"event":{"iface":…,"name":…,"args":[…]}} with --events.
Exit code: 0 all succeeded, 1 a statement failed, 2 bad usage, 3 could not
connect or log in.`;

const number = (flag: string, text: string | undefined): number => {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${flag} expects a number of milliseconds${text === undefined ? '' : `, not "${text}"`}`);
  }
  return value;
};

/** The flags, as `node:util` `parseArgs` takes them; `no-…` are flags of their own (Node 20 has no negation). */
const flags = {
  login: { type: 'string' },
  'password-env': { type: 'string' },
  eval: { type: 'string', short: 'e', multiple: true },
  events: { type: 'boolean' },
  'no-events': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  'no-reconnect': { type: 'boolean', short: 'R' },
  heartbeat: { type: 'string' },
  'call-timeout': { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Flag = keyof typeof flags;

/** parseArgs' own wording is long and suggests `--`; say what matters. */
const usageError = (error: unknown): UsageError => {
  const { code, message } = error as { code?: string; message: string };
  const named = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && named !== undefined) return new UsageError(`unknown option ${named}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && named !== undefined && message.endsWith('argument missing')) {
    return new UsageError(`${named} needs a value`);
  }
  return new UsageError(message.replace(/\s*\n\s*/g, ' '));
};

/**
 * Reads the arguments after `connect`: positionals and flags in any order,
 * `--flag value` or `--flag=value`, `-vv`; a later flag wins over an
 * earlier one (`--color --no-color`).
 * @throws {@link UsageError} for anything it cannot use
 */
export const parseConnectArgs = (args: readonly string[]): ConnectCliOptions => {
  let tokens;
  try {
    ({ tokens } = parseArgs({ args: [...args], options: flags, allowPositionals: true, strict: true, tokens: true }));
  } catch (error) {
    throw usageError(error);
  }
  const positional: string[] = [];
  const options: Omit<ConnectCliOptions, 'url' | 'app' | 'interfaces'> = { eval: [], verbose: 0, reconnect: true, insecure: false, help: false };
  for (const token of tokens) {
    if (token.kind === 'positional') positional.push(token.value);
    if (token.kind !== 'option') continue;
    const value = token.value ?? '';
    const flag = `--${token.name}`;
    switch (token.name as Flag) {
      case 'login':
        options.login = value;
        break;
      case 'password-env':
        options.passwordEnv = value;
        break;
      case 'eval':
        options.eval.push(value);
        break;
      case 'events':
      case 'no-events':
        options.events = token.name === 'events';
        break;
      case 'verbose':
        options.verbose = Math.min(2, options.verbose + 1);
        break;
      case 'no-reconnect':
        options.reconnect = false;
        break;
      case 'heartbeat':
        options.heartbeat = number(flag, value);
        break;
      case 'call-timeout':
        options.callTimeout = number(flag, value);
        break;
      case 'ca':
        options.ca = value;
        break;
      case 'insecure':
        options.insecure = true;
        break;
      case 'color':
      case 'no-color':
        options.color = token.name === 'color';
        break;
      case 'help':
        options.help = true;
        break;
    }
  }
  const [url, app, ...interfaces] = positional;
  if (options.help) return { url: url ?? '', app: app ?? '', interfaces, ...options };
  if (url === undefined || app === undefined) throw new UsageError('expected URL and APP');
  if (options.passwordEnv !== undefined && options.login === undefined) throw new UsageError('--password-env needs --login');
  return { url, app, interfaces, ...options };
};
