/**
 * `tjstp serve` as users run it: a child process, its output collected,
 * resolved once it has printed a line for each listener it was asked for.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './fixtures';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const BIN = path.join(__dirname, '..', '..', 'bin', 'tjstp.js');

/** A line's message: the line itself, or `msg` of a JSON line (`--log-format json`). */
const logMessage = (line: string): string => {
  if (!line.startsWith('{')) return line;
  try {
    const { msg } = JSON.parse(line) as { msg?: unknown };
    return typeof msg === 'string' ? msg : line;
  } catch {
    return line;
  }
};

export interface ServeChild {
  child: ChildProcessWithoutNullStreams;
  /** The listeners' URLs, in the order printed. */
  urls: string[];
  /** stdout and stderr so far, interleaved as they came. */
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves once the output matches `pattern`. */
  printed: (pattern: RegExp, ms?: number) => Promise<void>;
}

/**
 * Starts `tjstp serve …args` in the repository. Without a `--session-file`
 * among the arguments it gets `--no-session-file`, so tests never share
 * the default file in the working directory.
 */
export const startServe = (args: readonly string[], listeners: number): Promise<ServeChild> =>
  new Promise((resolve, reject) => {
    const sessionFile = args.some((arg) => arg.startsWith('--session-file') || arg === '--no-session-file');
    const child = spawn(process.execPath, [BIN, 'serve', ...(sessionFile ? [] : ['--no-session-file']), ...args], { cwd: ROOT });
    let output = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const started: ServeChild = {
      child,
      urls: [],
      output: () => output,
      exited,
      printed: (pattern, ms = 10_000) => waitFor(() => pattern.test(output), ms, `output matching ${pattern}: ${output}`),
    };
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      started.urls = output.split('\n').map(logMessage).filter((line) => line.startsWith('listening ')).map((line) => line.slice(10));
      if (started.urls.length === listeners) resolve(started);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
