/**
 * Running `tjstp connect` as a child process: through pipes (script mode)
 * or inside a tmux pane (a real terminal).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Authenticate } from '../../lib/index';

/** The command's entry point: `tjstp connect URL APP …`. */
export const CLI = path.join(__dirname, '..', '..', 'bin', 'tjstp.js');

/** The tests' login rule: any user whose password is `secret`. */
export const secretPassword: Authenticate = ({ credentials }) => {
  const [user, password] = credentials as [string, string];
  return password === 'secret' ? user : null;
};

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, one JSON value per line (`connect` only). */
  json: unknown[];
}

/** Runs `connect …args` (or another `command`), feeding `input` on stdin; resolves when it exits. */
export const runCli = (args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number; command?: string } = {}): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, options.command ?? 'connect', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TJSTP_HISTORY: '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.command ?? 'connect'} ${args.join(' ')} did not exit\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeout ?? 8000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      // Script mode prints JSON lines; other commands print text, read by the test itself.
      const lines = (options.command ?? 'connect') === 'connect' ? stdout.split('\n').filter((line) => line !== '') : [];
      const json = lines.map((line) => JSON.parse(line) as unknown);
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(options.input ?? '');
  });

const exec = promisify(execFile);

/** True when a tmux executable is on the PATH. */
export const tmuxAvailable = (): boolean =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, 'tmux'), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A shell word, single-quoted. */
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * One tmux pane running a command, on a private tmux server (its own
 * socket, no user configuration), so nothing else on the machine is touched.
 */
export class Pane {
  readonly #dir: string;
  readonly #socket: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#socket = path.join(dir, 'tmux.sock');
  }

  /** Starts `argv` in a width × height terminal; `[exited N]` is printed when it ends. */
  static async start(argv: readonly string[], env: Record<string, string>, size = { width: 120, height: 40 }): Promise<Pane> {
    const pane = new Pane(fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-tmux-')));
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`);
    const command = `env ${assignments.join(' ')} ${argv.map(quote).join(' ')}; echo "[exited $?]"; sleep 60`;
    await pane.#tmux('-f', '/dev/null', 'new-session', '-d', '-x', String(size.width), '-y', String(size.height), command);
    return pane;
  }

  /** A scratch directory that goes away with the pane. */
  get dir(): string {
    return this.#dir;
  }

  /** Types text literally (no key names). */
  async type(text: string): Promise<void> {
    await this.#tmux('send-keys', '-l', text);
  }

  /** Types a line and presses Enter. */
  async enter(line: string): Promise<void> {
    await this.type(line);
    await this.press('Enter');
  }

  /** Presses keys by tmux name: Enter, Tab, C-u, … */
  async press(...keys: string[]): Promise<void> {
    await this.#tmux('send-keys', ...keys);
  }

  /** The screen's text, trailing blank lines removed. */
  async screen(): Promise<string> {
    const { stdout } = await this.#tmux('capture-pane', '-p', '-J', '-S', '-200');
    return stdout.replace(/\s+$/, '');
  }

  /** Waits until the last non-blank line (the prompt and what is typed) is `line` or matches it. */
  async waitForLastLine(line: string | RegExp): Promise<void> {
    const matches = (last: string): boolean => (typeof line === 'string' ? last === line : line.test(last));
    await this.waitFor((screen) => matches((screen.split('\n').pop() ?? '').trimEnd()), `the prompt line ${String(line)}`);
  }

  /** Polls the screen until `test` passes; fails with the screen after `ms`, or at once if the command ended. */
  async waitFor(test: RegExp | ((screen: string) => boolean), what: string, ms = 5000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const screen = await this.screen();
      if (typeof test === 'function' ? test(screen) : test.test(screen)) return screen;
      if (Date.now() - start > ms || /^\[exited \d+\]$/m.test(screen)) throw new Error(`timed out waiting for ${what}; the screen:\n${screen}`);
      await delay(20);
    }
  }

  /** Stops this pane's tmux server and removes the scratch directory. */
  async close(): Promise<void> {
    await this.#tmux('kill-server').catch(() => undefined);
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }

  #tmux(...args: string[]): Promise<{ stdout: string }> {
    return exec('tmux', ['-S', this.#socket, ...args], { encoding: 'utf8' });
  }
}
