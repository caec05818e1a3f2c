/**
 * The measurement phases the orchestrator runs. Each phase forks one server
 * process and one client process per system (`server-process.ts`,
 * `client-process.ts`) on 127.0.0.1, so both cores work as they would in
 * real life, and returns raw per-trial figures; `report.ts` turns them into
 * medians and ratios.
 *
 * - rpc: all systems' pairs are up at once, one connection each; trials are
 *   interleaved (trial → in-flight level → slice → system, the system order
 *   rotated every slice), so machine noise hits every system alike and
 *   ratios are taken within one trial. A trial's window for one system is
 *   `rpcSlices` short windows spread over the trial, not one long one: the
 *   noise of this shared machine comes in bursts of seconds, which one long
 *   window per system turns into a ratio off by ±10%. p50/p99 are the
 *   quantiles of the round trips of all of a trial's 1-in-flight slices.
 * - fan-out: the same interleaving and slicing (`fanoutSlices`),
 *   `fanoutConnections` connections per system, at most 8 rounds
 *   unacknowledged (see `server-process.ts`).
 * - idle: one system at a time, server run with `--expose-gc`: RSS after
 *   GC at `idleLow` and `idleHigh` open connections; per connection = slope.
 * - storm: tjstp only (see `storm.ts`).
 */
import { Child, SYSTEMS, sleep, type System } from './common';
import type { StormResult } from './storm';

export interface Config {
  short: boolean;
  systems: System[];
  trials: number;
  inflight: number[];
  /** An untimed pass per system and level before the first trial, ms. */
  rpcPrewarmMs: number;
  rpcWarmMs: number;
  rpcWindowMs: number;
  /** Slices each trial's window is cut into (each with its own short warm-up). */
  rpcSlices: number;
  fanoutConnections: number;
  fanoutWarmMs: number;
  fanoutWindowMs: number;
  /** Slices each fan-out window is cut into, as `rpcSlices`. */
  fanoutSlices: number;
  idleLow: number;
  idleHigh: number;
  stormSessions: number;
  stormTrials: number;
  stormTransports: Array<'tcp' | 'ws'>;
  codecTrials: number;
  codecMs: number;
  /** Extra node flags for tjstp's processes, e.g. `--cpu-prof`. */
  tjstpExecArgv: string[];
  /** Pin every server process to CPU 0 and every client process to CPU 1. */
  pin: boolean;
}

export interface RpcTrial {
  rate: number;
  p50: number;
  p99: number;
  serverCpu: number;
  clientCpu: number;
  wrong: number;
}

export interface FanoutTrial {
  rate: number;
  serverCpu: number;
  clientCpu: number;
}

export interface IdleResult {
  low: { connections: number; rss: number; heapUsed: number };
  high: { connections: number; rss: number; heapUsed: number };
  rssPerConnection: number;
  heapPerConnection: number;
  connectMs: number;
  failed: number;
}

export interface StormTrial extends StormResult {
  transport: 'tcp' | 'ws';
  serverResumes: number;
  serverReplayed: number;
  serverSessions: number;
  /** ms from the server's first detach to its last resume. */
  serverSpanMs: number;
  /**
   * The floor, in the same trial: ms for the raw system of the same
   * transport (raw net, raw ws) to open as many connections at once from
   * one process. Nothing resumes faster than its connections open.
   */
  rawOpenMs: number;
}

/** Every child ever started, so an abort can end them all. */
export const children = new Set<Child>();

interface Hello {
  port: number;
  controlPort: number;
}

interface Pair {
  system: System;
  server: Child;
  client: Child;
  hello: Hello;
}

const execArgvFor = (config: Config, system: System, extra: string[] = []): string[] =>
  system.startsWith('tjstp') ? [...extra, ...config.tjstpExecArgv] : extra;

const startPair = async (config: Config, system: System, serverArgv: string[] = []): Promise<Pair> => {
  const server = new Child('server-process', [system], execArgvFor(config, system, serverArgv), config.pin ? 0 : undefined);
  children.add(server);
  const hello = (await server.ready) as Hello;
  const client = new Child('client-process', [system, String(hello.port)], execArgvFor(config, system), config.pin ? 1 : undefined);
  children.add(client);
  await client.ready;
  if (config.tjstpExecArgv.length > 0 && system.startsWith('tjstp')) {
    console.log(`  ${system}: server pid ${server.pid}, client pid ${client.pid} (${config.tjstpExecArgv.join(' ')})`);
  }
  return { system, server, client, hello };
};

const stopPair = async (pair: Pair): Promise<void> => {
  // The server first: its side of the sockets takes the TIME_WAITs, so the
  // client's ephemeral ports stay free for the next phase.
  await pair.server.stop();
  await pair.client.stop();
  children.delete(pair.server);
  children.delete(pair.client);
};

const connect = async (pair: Pair, count: number, timeoutMs: number): Promise<{ open: number; failed: number; ms: number }> => {
  const result = await pair.client.request<{ open: number; failed: number; ms: number }>('connect', { count, concurrency: 100 }, timeoutMs);
  if (result.open < count) console.log(`  ! ${pair.system}: ${result.open} of ${count} connections opened (${result.failed} failed)`);
  return result;
};

interface Cpu {
  user: number;
  system: number;
  at: number;
}

/** One process's CPU use between two `cpu` samples, 1.0 = one core. */
const cpuShare = (a: Cpu, b: Cpu): number => (b.user + b.system - a.user - a.system) / 1000 / (b.at - a.at);

/** Rotates the system order so each system gets every position in turn. */
const rotated = <T>(items: readonly T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]!);

const label = (system: System): string => system.padEnd(10);
const rate = (value: number): string => Math.round(value).toLocaleString('en-US').padStart(9);
const percent = (value: number): string => `${Math.round(value * 100)}%`;

export const runRpc = async (config: Config): Promise<Record<string, Record<number, RpcTrial[]>>> => {
  const pairs = await Promise.all(config.systems.map((system) => startPair(config, system)));
  try {
    await Promise.all(pairs.map((pair) => connect(pair, 1, 30_000)));
    for (const pair of pairs) {
      for (const inflight of config.inflight) {
        await pair.client.request('rpc', { inflight, warmMs: 0, windowMs: config.rpcPrewarmMs }, config.rpcPrewarmMs + 15_000);
      }
    }
    const results: Record<string, Record<number, RpcTrial[]>> = {};
    for (const pair of pairs) results[pair.system] = Object.fromEntries(config.inflight.map((n) => [n, []]));
    const slices = Math.max(1, config.rpcSlices);
    const sliceMs = config.rpcWindowMs / slices;
    const sliceWarmMs = slices === 1 ? config.rpcWarmMs : Math.min(config.rpcWarmMs, 50);
    for (let trial = 0; trial < config.trials; trial++) {
      for (const inflight of config.inflight) {
        const latency = inflight === 1;
        const sums = new Map(pairs.map((pair) => [pair, { calls: 0, seconds: 0, serverCpu: 0, serverSpan: 0, clientCpu: 0, wrong: 0 }]));
        for (let slice = 0; slice < slices; slice++) {
          for (const pair of rotated(pairs, trial * slices + slice)) {
            const before = await pair.server.request<Cpu>('cpu');
            const result = await pair.client.request<RpcTrial & { calls: number; seconds: number; cpu: number }>(
              'rpc',
              { inflight, warmMs: sliceWarmMs, windowMs: sliceMs, latency, keep: latency },
              sliceWarmMs + sliceMs + 20_000,
            );
            const after = await pair.server.request<Cpu>('cpu');
            const sum = sums.get(pair)!;
            const span = (after.at - before.at) / 1000;
            sum.calls += result.calls;
            sum.seconds += result.seconds;
            sum.serverCpu += cpuShare(before, after) * span;
            sum.serverSpan += span;
            sum.clientCpu += result.cpu * result.seconds;
            sum.wrong += result.wrong;
          }
        }
        for (const pair of rotated(pairs, trial)) {
          const sum = sums.get(pair)!;
          const quantiles = latency
            ? await pair.client.request<{ p50: number; p99: number }>('latency')
            : { p50: Number.NaN, p99: Number.NaN };
          const entry: RpcTrial = {
            rate: sum.calls / sum.seconds,
            p50: quantiles.p50,
            p99: quantiles.p99,
            serverCpu: sum.serverCpu / sum.serverSpan,
            clientCpu: sum.clientCpu / sum.seconds,
            wrong: sum.wrong,
          };
          results[pair.system]![inflight]!.push(entry);
          const shown = latency ? `  p50 ${entry.p50.toFixed(0)} µs p99 ${entry.p99.toFixed(0)} µs` : '';
          const wrong = entry.wrong > 0 ? `  ! ${entry.wrong} wrong results` : '';
          console.log(
            `  [rpc ${trial + 1}/${config.trials}] ${label(pair.system)} @${String(inflight).padEnd(3)} ${rate(entry.rate)} calls/s` +
              `  cpu srv ${percent(entry.serverCpu)} cli ${percent(entry.clientCpu)}${shown}${wrong}`,
          );
        }
      }
    }
    return results;
  } finally {
    await Promise.all(pairs.map(stopPair));
  }
};

export const runFanout = async (config: Config): Promise<Record<string, FanoutTrial[]>> => {
  const pairs: Pair[] = [];
  try {
    // Opened one system at a time, so connection set-up is not a storm.
    for (const system of config.systems) {
      const pair = await startPair(config, system);
      pairs.push(pair);
      const opened = await connect(pair, config.fanoutConnections, 120_000);
      await pair.client.request('fanoutControl', { controlPort: pair.hello.controlPort });
      console.log(`  [fan-out] ${label(system)} ${opened.open} connections in ${Math.round(opened.ms)} ms`);
    }
    const results: Record<string, FanoutTrial[]> = Object.fromEntries(pairs.map((pair) => [pair.system, []]));
    const slices = Math.max(1, config.fanoutSlices);
    const sliceMs = config.fanoutWindowMs / slices;
    const sliceWarmMs = slices === 1 ? config.fanoutWarmMs : Math.min(config.fanoutWarmMs, 150);
    /** One window of fan-out on one pair: events, seconds, CPU seconds of each side. */
    const measure = async (pair: Pair, warmMs: number, windowMs: number): Promise<{ events: number; seconds: number; server: number; serverSpan: number; client: number }> => {
      const before = await pair.server.request<Cpu>('cpu');
      await pair.server.request('fanoutStart', { window: 8 });
      const measured = await pair.client.request<{ events: number; rate: number; cpu: number }>(
        'fanoutMeasure',
        { warmMs, windowMs },
        warmMs + windowMs + 20_000,
      );
      const { sent } = await pair.server.request<{ sent: number }>('fanoutStop');
      const after = await pair.server.request<Cpu>('cpu');
      await pair.client.request('fanoutDrain', { upTo: sent, timeoutMs: 10_000 }, 15_000);
      const seconds = measured.rate > 0 ? measured.events / measured.rate : windowMs / 1000;
      const span = (after.at - before.at) / 1000;
      return { events: measured.events, seconds, server: cpuShare(before, after) * span, serverSpan: span, client: measured.cpu * seconds };
    };
    // A warm-up pass first, then trials of `slices` windows each, the system
    // order rotated every slice (see rpc: noise comes in bursts).
    for (const pair of pairs) await measure(pair, config.fanoutWarmMs, config.rpcPrewarmMs);
    for (let trial = 0; trial < config.trials; trial++) {
      const sums = new Map(pairs.map((pair) => [pair, { events: 0, seconds: 0, server: 0, serverSpan: 0, client: 0 }]));
      for (let slice = 0; slice < slices; slice++) {
        for (const pair of rotated(pairs, trial * slices + slice)) {
          const window = await measure(pair, sliceWarmMs, sliceMs);
          const sum = sums.get(pair)!;
          sum.events += window.events;
          sum.seconds += window.seconds;
          sum.server += window.server;
          sum.serverSpan += window.serverSpan;
          sum.client += window.client;
        }
      }
      for (const pair of rotated(pairs, trial)) {
        const sum = sums.get(pair)!;
        const entry: FanoutTrial = { rate: sum.events / sum.seconds, serverCpu: sum.server / sum.serverSpan, clientCpu: sum.client / sum.seconds };
        results[pair.system]!.push(entry);
        console.log(
          `  [fan-out ${trial + 1}/${config.trials}] ${label(pair.system)} ${rate(entry.rate)} events/s` +
            `  cpu srv ${percent(entry.serverCpu)} cli ${percent(entry.clientCpu)}`,
        );
      }
    }
    return results;
  } finally {
    await Promise.all(pairs.map(stopPair));
  }
};

interface ServerStats {
  rss: number;
  heapUsed: number;
  connections: number;
}

export const runIdle = async (config: Config): Promise<Record<string, IdleResult>> => {
  const results: Record<string, IdleResult> = {};
  for (const system of config.systems) {
    const pair = await startPair(config, system, ['--expose-gc']);
    try {
      const first = await connect(pair, config.idleLow, 120_000);
      await sleep(300);
      const low = await pair.server.request<ServerStats>('stats', { gc: true });
      const second = await connect(pair, config.idleHigh, 300_000);
      await sleep(300);
      const high = await pair.server.request<ServerStats>('stats', { gc: true });
      const added = high.connections - low.connections;
      const result: IdleResult = {
        low,
        high,
        rssPerConnection: (high.rss - low.rss) / added,
        heapPerConnection: (high.heapUsed - low.heapUsed) / added,
        connectMs: first.ms + second.ms,
        failed: first.failed + second.failed,
      };
      results[system] = result;
      console.log(
        `  [idle] ${label(system)} ${low.connections} → ${high.connections} connections:` +
          ` RSS ${(result.rssPerConnection / 1024).toFixed(2)} KiB/conn, heap ${(result.heapPerConnection / 1024).toFixed(2)} KiB/conn,` +
          ` RSS ${(high.rss / 2 ** 20).toFixed(1)} MiB at ${high.connections} (${Math.round(result.connectMs)} ms to connect)`,
      );
    } finally {
      await stopPair(pair);
    }
  }
  return results;
};

export const runStorm = async (config: Config): Promise<StormTrial[]> => {
  const results: StormTrial[] = [];
  for (let trial = 0; trial < config.stormTrials; trial++) {
    for (const transport of config.stormTransports) {
      const system: System = transport === 'tcp' ? 'tjstp-tcp' : 'tjstp-ws';
      const pair = await startPair(config, system);
      try {
        const opened = await connect(pair, config.stormSessions, 180_000);
        await pair.client.request('stormArm');
        await pair.server.request('ticks', { from: 1, to: 1 });
        await pair.client.request('stormWaitTicks', { n: 1 }, 60_000);
        // The drop and two more broadcasts, at the same moment.
        const [storm] = await Promise.all([
          pair.client.request<StormResult>('stormRun', { ticks: 3, timeoutMs: 30_000 }, 60_000),
          pair.server.request('ticks', { from: 2, to: 3 }),
        ]);
        await sleep(100);
        const server = await pair.server.request<{ count: number; replayed: number; sessions: number; spanMs: number }>('resumes');
        const entry: StormTrial = {
          ...storm,
          transport,
          serverResumes: server.count,
          serverReplayed: server.replayed,
          serverSessions: server.sessions,
          serverSpanMs: server.spanMs,
          rawOpenMs: Number.NaN,
        };
        results.push(entry);
        const lost = entry.ticksMissing + entry.failedCalls + entry.wrongResults + entry.duplicates + entry.gaps + entry.sessionsLost;
        console.log(
          `  [storm ${trial + 1}/${config.stormTrials}] tjstp-${transport} ${opened.open} sessions: all resumed in ${entry.resumeMs.toFixed(0)} ms` +
            ` (first ${entry.firstResumeMs.toFixed(0)}, p50 ${entry.resumeP50Ms.toFixed(0)} ms; drop loop ${entry.dropLoopMs.toFixed(0)} ms), settled in ${entry.settledMs.toFixed(0)} ms; server: first detach → last resume ${entry.serverSpanMs.toFixed(0)} ms; replayed ${entry.replayedByClients} by clients,` +
            ` ${entry.serverReplayed} by the server; ${entry.retries} retries; ${lost === 0 && !entry.timedOut ? 'nothing lost' : `! PROBLEMS: ${JSON.stringify(entry)}`}`,
        );
      } finally {
        await stopPair(pair);
      }
      const entry = results[results.length - 1];
      if (entry?.transport === transport) {
        entry.rawOpenMs = await rawOpenFloor(config, transport === 'tcp' ? 'raw-tcp' : 'raw-ws', config.stormSessions);
        console.log(`  [storm ${trial + 1}/${config.stormTrials}] floor: ${transport === 'tcp' ? 'raw-tcp' : 'raw-ws'} opens ${config.stormSessions} connections at once in ${entry.rawOpenMs.toFixed(0)} ms; the storm took ${(entry.resumeMs / entry.rawOpenMs).toFixed(2)}× that`);
      }
    }
  }
  return results;
};

/** ms for a raw system's client process to open `count` connections at once. */
const rawOpenFloor = async (config: Config, system: 'raw-tcp' | 'raw-ws', count: number): Promise<number> => {
  const pair = await startPair(config, system);
  try {
    const result = await pair.client.request<{ open: number; failed: number; ms: number }>('burst', { count }, 120_000);
    if (result.open < count) console.log(`  ! ${system}: ${result.open} of ${count} connections opened (${result.failed} failed)`);
    return result.ms;
  } finally {
    await stopPair(pair);
  }
};

export const allSystems = (): System[] => [...SYSTEMS];
