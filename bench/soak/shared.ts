/**
 * What the soak's parts share: a server child process watched from
 * outside (its exit, its stderr, its RSS and CPU from /proc), the checks
 * each part reports, percentiles, the tests' seedable PRNG. Nothing here
 * attacks or measures by itself.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export { prng } from '../../test/helpers/prng';

export const MiB = 1024 * 1024;

/** The repository root, seen from dist/bench/soak/. */
export const ROOT = path.join(__dirname, '../../..');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One thing a part verified. `correctness` checks (the server stayed up,
 * nothing was lost, no honest call failed) must pass in every mode;
 * `target` checks (memory bound, latency ratio) are figures the issue
 * asks for, judged only at full size: smoke sizes prove nothing about them.
 */
export interface Check {
  name: string;
  kind: 'correctness' | 'target';
  ok: boolean;
  detail: string;
}

export const check = (kind: Check['kind'], name: string, ok: boolean, detail: string): Check => ({ kind, name, ok, detail });

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export const percentiles = (values: readonly number[]): Percentiles => {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
};

/** Adds one to `counts[key]`. */
export const tally = (counts: Record<string, number>, key: string, by = 1): void => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** The commit the run measured, flagged when lib/ differs from it. */
export const gitCommit = (): string => {
  try {
    const run = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${run('rev-parse', '--short', 'HEAD')}${run('status', '--porcelain', '--', 'lib') === '' ? '' : ' (lib/ has uncommitted changes)'}`;
  } catch {
    return 'unknown';
  }
};

/** Resident memory of a process now (VmRSS) and at its peak so far (VmHWM), bytes; undefined once it is gone. */
export const readRss = (pid: number): { rss: number; peak: number } | undefined => {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: field('VmRSS'), peak: field('VmHWM') };
  } catch {
    return undefined;
  }
};

/** Clock ticks per second of /proc/<pid>/stat's CPU times (100 on Linux, practically always). */
const CLOCK_TICKS = 100;

/** CPU seconds a process has used so far (user + system), or undefined once it is gone. */
export const readCpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
};

/** Server children still running, so a run stopped by its watchdog leaves none behind. */
const running = new Set<ChildProcess>();

/** SIGKILLs every server child still running (the watchdog's last resort). */
export const killServers = (): void => {
  for (const child of running) child.kill('SIGKILL');
};

/**
 * A server in a child process, watched the way an operator would: its
 * stdout lines (listeners), its stderr lines (warnings), its exit.
 */
export class ServerChild {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly listening: Promise<string[]>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stderrLines = 0;
  stderrBytes = 0;
  /** The last stderr lines, for the report when something went wrong. */
  readonly stderrTail: string[] = [];
  readonly #exited: Promise<void>;

  /**
   * Spawns `node [execArgv] script args`; `listening` resolves with the
   * `listening <url>` lines once `expected` of them were printed.
   */
  constructor(script: string, args: string[], execArgv: string[], expected: number, on: { stderr?: (line: string) => void; stdout?: (line: string) => void } = {}) {
    this.process = spawn(process.execPath, [...execArgv, script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.process.pid as number;
    running.add(this.process);
    this.#exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        running.delete(this.process);
        this.exit = { code, signal };
        resolve();
      });
    });
    const urls: string[] = [];
    this.listening = new Promise((resolve, reject) => {
      readline.createInterface({ input: this.process.stdout! }).on('line', (line) => {
        on.stdout?.(line);
        const match = /^listening (\S+)/.exec(line);
        if (match) urls.push(match[1]!);
        if (match && urls.length === expected) resolve(urls);
      });
      void this.#exited.then(() => reject(new Error(`${path.basename(script)} exited before listening (${this.exit?.signal ?? this.exit?.code}): ${this.stderrTail.join('\n')}`)));
    });
    readline.createInterface({ input: this.process.stderr! }).on('line', (line) => {
      this.stderrLines++;
      this.stderrBytes += line.length + 1;
      this.stderrTail.push(line.slice(0, 500));
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      on.stderr?.(line);
    });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** A line to the child's stdin (the fuzz server's commands). */
  write(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  /** SIGTERM (a graceful stop), SIGKILL after `graceMs`; resolves with how it exited. */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    return this.exit!;
  }
}

/** The TCP port and WS URL among a server's `listening` URLs. */
export const endpointOf = (urls: readonly string[]): { tcpPort: number; wsUrl: string } => {
  const tcp = urls.find((url) => url.startsWith('tcp://'));
  const ws = urls.find((url) => url.startsWith('ws://'));
  if (tcp === undefined || ws === undefined) throw new Error(`expected a tcp and a ws listener, got ${urls.join(', ')}`);
  return { tcpPort: Number(new URL(tcp).port), wsUrl: ws };
};
