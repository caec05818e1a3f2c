/**
 * Shared plumbing of the benchmark suite: the list of systems, statistics,
 * a quiet loader for @metarhia/jstp, a small promise pool, and the IPC
 * request/response channel between the orchestrator (`run.ts`) and the
 * server and client processes it forks (`server-process.ts`,
 * `client-process.ts`). Nothing here measures anything by itself.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** Every system measured, in table order. */
export const SYSTEMS = ['raw-tcp', 'raw-ws', 'jstp-tcp', 'jstp-ws', 'socketio', 'tjstp-tcp', 'tjstp-ws', 'tjstp-metrics-tcp', 'tjstp-redis-tcp'] as const;
export type System = (typeof SYSTEMS)[number];

export const isSystem = (value: string): value is System => (SYSTEMS as readonly string[]).includes(value);

/** The TCP systems are compared with raw-tcp, the WebSocket ones with raw-ws. */
export const transportOf = (system: System): 'tcp' | 'ws' =>
  system.endsWith('-tcp') ? 'tcp' : 'ws';

export const HOST = '127.0.0.1';

/** The value of `--name value` or `--name=value` among command-line arguments, if given. */
export const cliOption = (argv: readonly string[], name: string): string | undefined => {
  const at = argv.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at === -1) return undefined;
  const arg = argv[at]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[at + 1];
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const median = (values: readonly number[]): number => {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
};

/** The q-quantile (0..1) of the first `count` values of a sample, sorted in place. */
export const quantile = (sample: Float64Array, count: number, q: number): number => {
  if (count === 0) return Number.NaN;
  const sorted = sample.subarray(0, count).sort();
  return sorted[Math.min(count - 1, Math.floor(q * count))]!;
};

/** Runs `task(i)` for i in [0, count) with at most `concurrency` running at once. */
export const pool = async (count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
};

/* eslint-disable @typescript-eslint/no-explicit-any -- the reference ships no types */
/**
 * @metarhia/jstp 2.3.0, required with the console silenced: without its
 * native mdsf addon it prints warnings at require time.
 */
export const loadJstp = (): any => {
  const { error, warn, log, info } = console;
  console.error = console.warn = console.log = console.info = () => {};
  try {
    return require('@metarhia/jstp');
  } finally {
    Object.assign(console, { error, warn, log, info });
  }
};
/* eslint-enable @typescript-eslint/no-explicit-any */

// IPC between the orchestrator and its children.

export interface Request {
  id: number;
  command: string;
  args: Record<string, unknown>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

export type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

/**
 * In a child process: answers the orchestrator's requests with `handlers`.
 * The first message sent is `{ id: 0, result: hello }` (the server sends
 * its ports there); an IPC-less run prints `hello` instead.
 */
export const serveRequests = (handlers: Handlers, hello: unknown): void => {
  if (!process.send) {
    console.log(JSON.stringify(hello));
    return;
  }
  process.on('message', (message: Request) => {
    const handler = handlers[message.command];
    const reply = (body: Omit<Reply, 'id'>): void => {
      // A reply that comes after the orchestrator let go of this process is
      // moot; without a callback, sending it would throw ERR_IPC_CHANNEL_CLOSED here.
      if (process.connected) process.send?.({ id: message.id, ...body }, undefined, undefined, () => {});
    };
    if (!handler) {
      reply({ error: `unknown command ${message.command}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (result) => reply({ result: result ?? null }),
        (error: unknown) => reply({ error: error instanceof Error ? error.stack ?? error.message : String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ id: 0, result: hello });
};

/** A forked bench process, driven by requests with a time limit each. */
export class Child {
  readonly name: string;
  readonly #process: ChildProcess;
  readonly #waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 1;
  /** The child's first message (`serveRequests`' hello). */
  readonly ready: Promise<unknown>;

  /**
   * Forks `dist/bench/<script>.js` with `args`; `execArgv` e.g. `--expose-gc`,
   * `--cpu-prof`. With `cpu`, the process (all its threads) is pinned to
   * that CPU with `taskset`.
   */
  constructor(script: string, args: string[], execArgv: string[] = [], cpu?: number) {
    this.name = `${script} ${args.join(' ')}`;
    this.#process = fork(path.join(__dirname, `${script}.js`), args, {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (cpu !== undefined && this.#process.pid !== undefined) {
      execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(this.#process.pid)], { stdio: 'ignore' });
    }
    this.ready = new Promise((resolve, reject) => this.#waiting.set(0, { resolve, reject }));
    this.#process.on('message', (reply: Reply) => {
      const waiter = this.#waiting.get(reply.id);
      if (!waiter) return;
      this.#waiting.delete(reply.id);
      if (reply.error !== undefined) waiter.reject(new Error(`${this.name}: ${reply.error}`));
      else waiter.resolve(reply.result);
    });
    this.#process.on('exit', (code, signal) => {
      for (const waiter of this.#waiting.values()) {
        waiter.reject(new Error(`${this.name} exited (${signal ?? code})`));
      }
      this.#waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Sends a command; rejects after `timeoutMs` or if the child dies. */
  request<T = unknown>(command: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${this.name}: "${command}" timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      if (!this.#process.connected) {
        this.#waiting.get(id)?.reject(new Error(`${this.name}: "${command}" sent after the process let go`));
        this.#waiting.delete(id);
        return;
      }
      this.#process.send({ id, command, args } satisfies Request, (error) => {
        if (!error) return;
        this.#waiting.get(id)?.reject(new Error(`${this.name}: "${command}" not sent: ${error.message}`));
        this.#waiting.delete(id);
      });
    });
  }

  /** Ends the child: politely (disconnect, so `--cpu-prof` is written), then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.#process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Numbers for tables: 12,345 / 1.23 / 0.123. */
export const formatNumber = (value: number, digits?: number): string => {
  if (!Number.isFinite(value)) return '–';
  const places = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: places, maximumFractionDigits: places });
};
