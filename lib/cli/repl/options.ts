/**
 * The command line of `tjstp connect`.
 */

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

/**
 * Reads the arguments after `connect`.
 * @throws {@link UsageError} for anything it cannot use
 */
export const parseConnectArgs = (args: readonly string[]): ConnectCliOptions => {
  const positional: string[] = [];
  const options: Omit<ConnectCliOptions, 'url' | 'app' | 'interfaces'> = { eval: [], verbose: 0, reconnect: true, insecure: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      i += 1;
      return next;
    };
    switch (flag) {
      case '--login':
        options.login = value();
        break;
      case '--password-env':
        options.passwordEnv = value();
        break;
      case '-e':
      case '--eval':
        options.eval.push(value());
        break;
      case '--events':
        options.events = true;
        break;
      case '--no-events':
        options.events = false;
        break;
      case '-v':
      case '--verbose':
        options.verbose = Math.min(2, options.verbose + 1);
        break;
      case '-vv':
        options.verbose = 2;
        break;
      case '-R':
      case '--no-reconnect':
        options.reconnect = false;
        break;
      case '--heartbeat':
        options.heartbeat = number(flag, value());
        break;
      case '--call-timeout':
        options.callTimeout = number(flag, value());
        break;
      case '--ca':
        options.ca = value();
        break;
      case '--insecure':
        options.insecure = true;
        break;
      case '--color':
        options.color = true;
        break;
      case '--no-color':
        options.color = false;
        break;
      case '-h':
      case '--help':
        options.help = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  const [url, app, ...interfaces] = positional;
  if (options.help) return { url: url ?? '', app: app ?? '', interfaces, ...options };
  if (url === undefined || app === undefined) throw new UsageError('expected URL and APP');
  if (options.passwordEnv !== undefined && options.login === undefined) throw new UsageError('--password-env needs --login');
  return { url, app, interfaces, ...options };
};
