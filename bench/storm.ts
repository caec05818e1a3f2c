/**
 * The resume storm, client side (tjstp only). With N tjstp clients open in
 * this process:
 *
 * 1. `arm` listens on every client: `event` (each `tick(n)` must arrive
 *    exactly once and in order: n = last + 1), `ready` (resumed sessions,
 *    and how many messages each client replayed), `sessionLost`,
 *    `reconnecting` (a failed attempt that went through the backoff).
 * 2. `waitTicks(n)`: every client has tick n (the sessions are live).
 * 3. `run(ticks)`: in one synchronous loop, every client makes a call
 *    (`calc.add(i, 1)`, queued, not yet flushed) and drops its transport
 *    with `client.reconnect()`, which destroys the socket and reconnects
 *    at once. So every session drops at the same moment and each client
 *    has one call to replay; meanwhile the orchestrator has the server
 *    broadcast more ticks, which land on live, dying or detached
 *    connections and must be replayed by the server where lost.
 *    Measured: time until every client is `ready` again with `resumed`,
 *    and until every call is answered (with the right sum) and every tick
 *    arrived; counted: replayed messages, duplicates, gaps, lost sessions.
 */
import type { Client } from '../lib/index';
import { sleep } from './common';
import type { BenchClient } from './clients';

export interface StormResult {
  clients: number;
  /** ms the client process spent in its synchronous drop-and-reconnect loop. */
  dropLoopMs: number;
  /** ms until the first client was resumed. */
  firstResumeMs: number;
  /** ms from the drop until the last client was resumed. */
  resumeMs: number;
  /** ms until half of them were resumed. */
  resumeP50Ms: number;
  /** ms until every call was answered and every tick delivered. */
  settledMs: number;
  resumed: number;
  replayedByClients: number;
  callsAnswered: number;
  wrongResults: number;
  failedCalls: number;
  ticksMissing: number;
  duplicates: number;
  gaps: number;
  sessionsLost: number;
  retries: number;
  timedOut: boolean;
}

export class Storm {
  readonly #clients: BenchClient[];
  #tjstp: Client[] = [];
  #last: Int32Array = new Int32Array(0);
  #duplicates = 0;
  #gaps = 0;
  #sessionsLost = 0;
  #retries = 0;
  #running = false;
  #t0 = 0;
  #resumeTimes: number[] = [];
  #replayed = 0;
  #resumedFlags: Uint8Array = new Uint8Array(0);

  constructor(clients: BenchClient[]) {
    this.#clients = clients;
  }

  arm(): { armed: number } {
    this.#tjstp = this.#clients.map((client) => {
      if (!client.tjstp) throw new Error('the resume storm needs tjstp clients');
      return client.tjstp;
    });
    const count = this.#tjstp.length;
    this.#last = new Int32Array(count);
    this.#resumedFlags = new Uint8Array(count);
    this.#tjstp.forEach((client, index) => {
      client.on('event', ({ name, args }) => {
        if (name !== 'tick') return;
        const n = args[0] as number;
        const last = this.#last[index]!;
        if (n <= last) this.#duplicates++;
        else if (n !== last + 1) this.#gaps++;
        if (n > last) this.#last[index] = n;
      });
      client.on('ready', ({ resumed, replayed }) => {
        if (!this.#running || !resumed || this.#resumedFlags[index]) return;
        this.#resumedFlags[index] = 1;
        this.#resumeTimes.push(performance.now() - this.#t0);
        this.#replayed += replayed;
      });
      client.on('sessionLost', () => {
        this.#sessionsLost++;
      });
      client.on('reconnecting', () => {
        if (this.#running) this.#retries++;
      });
    });
    return { armed: count };
  }

  async waitTicks(n: number, timeoutMs: number): Promise<{ ms: number }> {
    const started = performance.now();
    while (this.#last.some((last) => last < n)) {
      if (performance.now() - started > timeoutMs) throw new Error(`tick ${n} did not reach every client`);
      await sleep(5);
    }
    return { ms: performance.now() - started };
  }

  run(ticks: number, timeoutMs: number): Promise<StormResult> {
    return this.#measure(ticks, timeoutMs, true);
  }

  /**
   * The sessions are dropped by someone else (their server stopping, the
   * cluster phase): measured from now until every client resumed (on
   * whichever server) and has every tick; no calls.
   */
  watch(ticks: number, timeoutMs: number): Promise<StormResult> {
    return this.#measure(ticks, timeoutMs, false);
  }

  async #measure(ticks: number, timeoutMs: number, drop: boolean): Promise<StormResult> {
    const clients = this.#tjstp;
    let answered = 0;
    let wrong = 0;
    let failed = 0;
    this.#resumeTimes = [];
    this.#resumedFlags.fill(0);
    this.#replayed = 0;
    const retriesBefore = this.#retries;
    this.#running = true;
    this.#t0 = performance.now();
    if (drop) clients.forEach((client, index) => {
      client.call('calc', 'add', index, 1).then(
        (sum) => {
          answered++;
          if (sum !== index + 1) wrong++;
        },
        () => {
          failed++;
        },
      );
      client.reconnect();
    });
    const dropLoopMs = performance.now() - this.#t0;
    const done = (): boolean =>
      this.#resumeTimes.length === clients.length &&
      answered + failed === (drop ? clients.length : 0) &&
      !this.#last.some((last) => last < ticks);
    let timedOut = false;
    while (!done()) {
      if (performance.now() - this.#t0 > timeoutMs) {
        timedOut = true;
        break;
      }
      await sleep(2);
    }
    const settledMs = performance.now() - this.#t0;
    this.#running = false;
    const times = [...this.#resumeTimes].sort((a, b) => a - b);
    let missing = 0;
    for (const last of this.#last) missing += Math.max(0, ticks - last);
    return {
      clients: clients.length,
      dropLoopMs,
      firstResumeMs: times[0] ?? Number.NaN,
      resumeMs: times.length === clients.length ? times[times.length - 1]! : Number.NaN,
      resumeP50Ms: times[Math.floor(times.length / 2)] ?? Number.NaN,
      settledMs,
      resumed: times.length,
      replayedByClients: this.#replayed,
      callsAnswered: answered,
      wrongResults: wrong,
      failedCalls: failed,
      ticksMissing: missing,
      duplicates: this.#duplicates,
      gaps: this.#gaps,
      sessionsLost: this.#sessionsLost,
      retries: this.#retries - retriesBefore,
      timedOut,
    };
  }
}
