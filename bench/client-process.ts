/**
 * A benchmark client process: `node dist/bench/client-process.js <system> <port>`.
 * Driven by the orchestrator over IPC:
 *
 * - `connect`: opens connections (a bounded number at a time, so the
 *   server's listen backlog never overflows) until `count` are open;
 * - `rpc`: on the first connection, keeps `inflight` calls outstanding
 *   (each reply issues the next call) for a warm-up and a timed window;
 *   counts replies in the window and, when asked, every round trip's
 *   duration (for p50/p99 with one in flight); with `keep`, the durations
 *   of several windows are pooled until `latency` reports them;
 * - `fanoutMeasure`: counts the `tick` rounds that reached every open
 *   connection during a window; each completed round is reported to the
 *   server's control port, which lets the server send the next one;
 * - `storm*`: the tjstp resume storm (see `storm.ts`);
 * - `burst`: opens `count` connections all at once, with no limit on how
 *   many are connecting, times until all are open, then closes them: the
 *   floor the storm is compared with (raw systems).
 */
import net from 'node:net';
import { HOST, isSystem, pool, quantile, serveRequests, sleep, type System } from './common';
import { openClient, tjstpTarget, type BenchClient } from './clients';
import { Storm } from './storm';

const [systemArg, portArg] = process.argv.slice(2);
if (systemArg === undefined || !isSystem(systemArg) || !Number(portArg)) {
  console.error(`usage: client-process.js <system> <port>; got ${systemArg} ${portArg}`);
  process.exit(2);
}
const system: System = systemArg;
const port = Number(portArg);
const clients: BenchClient[] = [];

/** Counts fan-out rounds: round n is complete once every connection has it. */
class FanOut {
  readonly #counts = new Int32Array(4096);
  completed = 0;
  counting = false;
  countedRounds = 0;
  control: net.Socket | undefined;

  tick(n: number): void {
    const slot = n & 4095;
    const count = ++this.#counts[slot]!;
    if (count < clients.length) return;
    this.#counts[slot] = 0;
    if (n > this.completed) this.completed = n;
    if (this.counting) this.countedRounds++;
    this.control?.write(`${n}\n`);
  }
}
const fanOut = new FanOut();

const open = async ({ count, concurrency }: Record<string, unknown>): Promise<unknown> => {
  const target = Number(count);
  const started = performance.now();
  let failed = 0;
  const missing = Math.max(0, target - clients.length);
  await pool(missing, Number(concurrency ?? 128), async () => {
    try {
      clients.push(await openClient(system, port, (n) => fanOut.tick(n)));
    } catch {
      failed++;
    }
  });
  return { open: clients.length, failed, ms: performance.now() - started };
};

const burst = async ({ count }: Record<string, unknown>): Promise<unknown> => {
  const target = Number(count);
  const opened: BenchClient[] = [];
  let failed = 0;
  const started = performance.now();
  await pool(target, target, async () => {
    try {
      opened.push(await openClient(system, port, () => {}));
    } catch {
      failed++;
    }
  });
  const ms = performance.now() - started;
  for (const client of opened) client.close();
  return { open: opened.length, failed, ms };
};

export interface RpcResult {
  calls: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  cpu: number;
  wrong: number;
}

/**
 * Round trips kept across `rpc` requests made with `keep` (the slices of
 * one trial), until `latency` reports their quantiles and starts over.
 */
const kept = { times: new Float64Array(0), count: 0 };

const rpc = async ({ inflight, warmMs, windowMs, latency, keep, spread }: Record<string, unknown>): Promise<RpcResult> => {
  if (clients.length === 0) throw new Error('no connection');
  // With `spread`, calls go round the open connections (a server with several workers gets them all busy).
  let turn = 0;
  const pick = spread === true ? (): BenchClient => clients[turn++ % clients.length]! : (): BenchClient => clients[0]!;
  if (keep && kept.times.length === 0) kept.times = new Float64Array(4_000_000);
  const times = keep ? kept.times : latency ? new Float64Array(4_000_000) : undefined;
  let recorded = keep ? kept.count : 0;
  let counting = false;
  let stopping = false;
  let calls = 0;
  let wrong = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const issue = (): void => {
    outstanding++;
    const sent = times ? performance.now() : 0;
    pick().call((result) => {
      outstanding--;
      if (result !== 3) wrong++;
      if (counting) {
        calls++;
        if (times && recorded < times.length) times[recorded++] = performance.now() - sent;
      }
      if (!stopping) issue();
      else if (outstanding === 0) drained?.();
    });
  };
  for (let i = 0; i < Number(inflight); i++) issue();
  await sleep(Number(warmMs));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  counting = true;
  await sleep(Number(windowMs));
  counting = false;
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stopping = true;
  if (outstanding > 0) {
    await Promise.race([new Promise<void>((resolve) => (drained = resolve)), sleep(10_000)]);
  }
  if (keep) kept.count = recorded;
  return {
    calls,
    seconds: elapsed / 1000,
    rate: (calls * 1000) / elapsed,
    p50: times ? quantile(times, recorded, 0.5) * 1000 : Number.NaN,
    p99: times ? quantile(times, recorded, 0.99) * 1000 : Number.NaN,
    cpu: (cpu.user + cpu.system) / 1000 / elapsed,
    wrong,
  };
};

/** p50/p99 µs of the round trips kept since the last report; forgets them. */
const latencyReport = (): { p50: number; p99: number; samples: number } => {
  const report = {
    p50: quantile(kept.times, kept.count, 0.5) * 1000,
    p99: quantile(kept.times, kept.count, 0.99) * 1000,
    samples: kept.count,
  };
  kept.count = 0;
  return report;
};

const fanoutControl = ({ controlPort }: Record<string, unknown>): Promise<void> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(Number(controlPort), HOST);
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      fanOut.control = socket;
      resolve();
    });
  });

const fanoutMeasure = async ({ warmMs, windowMs }: Record<string, unknown>): Promise<unknown> => {
  const before = fanOut.completed;
  await sleep(Number(warmMs));
  // A reference system on a loaded machine can take longer than the warm-up
  // for one round of 1000 events: give it a while before calling it stuck.
  const patience = performance.now() + 5_000;
  while (fanOut.completed === before && performance.now() < patience) await sleep(5);
  if (fanOut.completed === before) throw new Error('no fan-out round completed within 5 s of the warm-up');
  fanOut.countedRounds = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fanOut.counting = true;
  await sleep(Number(windowMs));
  fanOut.counting = false;
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const events = fanOut.countedRounds * clients.length;
  return { rounds: fanOut.countedRounds, events, rate: (events * 1000) / elapsed, cpu: (cpu.user + cpu.system) / 1000 / elapsed };
};

const fanoutDrain = async ({ upTo, timeoutMs }: Record<string, unknown>): Promise<unknown> => {
  const deadline = performance.now() + Number(timeoutMs ?? 10_000);
  while (fanOut.completed < Number(upTo) && performance.now() < deadline) await sleep(5);
  return { completed: fanOut.completed };
};

const storm = new Storm(clients);

/**
 * ms for the first client to resume after a drop, `count` times; between
 * drops it moves to the next of `ports` (one port: the same node each
 * time; two: the other node each time). The p50 is what the cluster phase
 * compares.
 */
const resumeTimes = async ({ count, ports }: Record<string, unknown>): Promise<unknown> => {
  const client = clients[0]?.tjstp;
  if (!client) throw new Error('resumeTimes needs an open tjstp client');
  const targets = (ports as number[]).map(Number);
  const times: number[] = [];
  for (let i = 0; i < Number(count); i++) {
    tjstpTarget.port = targets[i % targets.length];
    let lost = '';
    const onLost = (error: { reason: string }): void => {
      lost = error.reason;
    };
    client.once('sessionLost', onLost);
    const resumed = new Promise<boolean>((resolve) => client.once('ready', ({ resumed: yes }) => resolve(yes)));
    const t0 = performance.now();
    client.reconnect();
    if (!(await resumed)) throw new Error(`the session was not resumed (resume ${i + 1}, to port ${tjstpTarget.port}: ${lost || 'no reason'})`);
    client.off('sessionLost', onLost);
    times.push(performance.now() - t0);
    await client.call('calc', 'add', 1, 2);
  }
  times.sort((a, b) => a - b);
  return { p50: times[times.length >> 1], p90: times[Math.floor(times.length * 0.9)], count: times.length };
};

serveRequests(
  {
    connect: open,
    burst,
    rpc: (args) => rpc(args),
    latency: latencyReport,
    fanoutControl,
    fanoutMeasure,
    fanoutDrain,
    stormArm: () => storm.arm(),
    stormWaitTicks: (args) => storm.waitTicks(Number(args.n), Number(args.timeoutMs ?? 30_000)),
    stormRun: (args) => storm.run(Number(args.ticks), Number(args.timeoutMs ?? 30_000)),
    stormWatch: (args) => storm.watch(Number(args.ticks), Number(args.timeoutMs ?? 30_000)),
    /** From now on tjstp clients reconnect to `port` (another node): what a load balancer does. */
    retarget: ({ port }) => {
      tjstpTarget.port = Number(port);
      return { port: tjstpTarget.port };
    },
    resumeTimes,
    stats: () => ({ rss: process.memoryUsage().rss, open: clients.length }),
  },
  { system, port, pid: process.pid },
);
