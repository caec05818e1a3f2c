/**
 * The benchmark suite: `npm run bench` (full, about 10–12 minutes on a
 * 2-core machine) or `npm run bench:short` / `npm run bench -- --short`
 * (a quick check, under a minute). Built by `tsc`, run from dist/.
 *
 * Measures tjstp over TCP and WS against raw `net` (NUL-delimited JSON,
 * writes corked per tick), raw `ws`, @metarhia/jstp 2.3.0 (TCP, WS) and
 * socket.io 4: calls/s with 1, 16 and 256 in flight, p50/p99 round trip
 * with one in flight, RSS per idle connection, fan-out events/s to many
 * connections, a resume storm (tjstp), and the record-syntax parse cost.
 * See `phases.ts` for the method. Prints progress and the report, and
 * writes `bench/results/<timestamp>.json` and `.md`.
 *
 * Options: `--short`, `--smoke` (a few seconds, tiny sizes: checks the
 * harness works end to end, as `npm test` does; its figures mean nothing),
 * `--only rpc,fanout,idle,storm,codec`,
 * `--systems tjstp-tcp,raw-tcp,…`, `--trials N`, `--inflight 256`, `--pin`
 * (server on CPU 0, clients on CPU 1), `--out DIR`, `--note TEXT`, `--profile` (runs tjstp's
 * processes with `--cpu-prof` into bench/results/profiles/; summarize with
 * `node dist/bench/profile-summary.js <dir>`). The whole run is bounded:
 * every request to a child has a time limit and a watchdog ends the run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SYSTEMS, cliOption, isSystem, type System } from './common';
import type { CodecResult } from './codec';
import { children, runFanout, runIdle, runRpc, runStorm, type Config } from './phases';
import { runCluster } from './cluster';
import { renderMarkdown, type Results } from './report';
import { redisMissing, startRedis, type RedisServer } from '../test/helpers/redis';

const PHASES = ['rpc', 'fanout', 'idle', 'storm', 'cluster', 'codec'] as const;
type Phase = (typeof PHASES)[number];

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => cliOption(argv, name);

const smoke = argv.includes('--smoke');
const short = smoke || argv.includes('--short');
const profile = argv.includes('--profile');
const wantedSystems = (option('--systems')?.split(',') ?? [...SYSTEMS]).filter(isSystem) as System[];
// The Redis system needs a redis-server, started for the run (and stopped after it).
const redisSkip = wantedSystems.includes('tjstp-redis-tcp') ? redisMissing() : false;
const systems = redisSkip === false ? wantedSystems : wantedSystems.filter((system) => system !== 'tjstp-redis-tcp');
const phases = (option('--only')?.split(',') ?? [...PHASES]).filter((p): p is Phase => (PHASES as readonly string[]).includes(p));
const root = path.resolve(option('--out') ?? path.join(__dirname, '../../bench/results'));
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

const git = ((): string => {
  try {
    const run = (...args: string[]): string => execFileSync('git', args, { cwd: path.join(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${run('rev-parse', '--short', 'HEAD')}${run('status', '--porcelain', '--', 'lib') === '' ? '' : ' (lib/ has uncommitted changes)'}`;
  } catch {
    return 'unknown';
  }
})();

const fdLimit = ((): number => {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
  } catch {
    return 1024;
  }
})();

const notes: string[] = option('--note') === undefined ? [] : [option('--note')!];
if (redisSkip !== false) notes.push(`tjstp-redis-tcp left out: ${redisSkip}`);
/** Connections one process may open: its fd limit less a margin. */
const scaled = (wanted: number): number => {
  const allowed = Math.floor((fdLimit - 200) / 100) * 100;
  if (wanted <= allowed) return wanted;
  notes.push(`ulimit -n is ${fdLimit}: ${wanted.toLocaleString('en-US')} connections scaled down to ${allowed.toLocaleString('en-US')}`);
  return allowed;
};

const trialsOption = Number(option('--trials'));
const config: Config = {
  short,
  systems,
  trials: trialsOption > 0 ? trialsOption : smoke ? 1 : short ? 3 : 5,
  inflight: option('--inflight')?.split(',').map(Number).filter((n) => n > 0) ?? [1, 16, 256],
  rpcPrewarmMs: short ? 100 : 1000,
  rpcWarmMs: short ? 100 : 500,
  rpcWindowMs: short ? 200 : 2000,
  rpcSlices: short ? 2 : 8,
  fanoutConnections: short ? 200 : 1000,
  fanoutWarmMs: short ? 100 : 500,
  fanoutWindowMs: short ? 200 : 2000,
  fanoutSlices: short ? 1 : 4,
  idleLow: short ? 200 : 1000,
  idleHigh: scaled(short ? 1500 : 10_000),
  stormSessions: scaled(short ? 1000 : 10_000),
  stormTrials: short ? 1 : 2,
  stormTransports: ['tcp', 'ws'],
  codecTrials: short ? 3 : 5,
  codecMs: short ? 50 : 400,
  ...(smoke
    ? {
      rpcPrewarmMs: 20,
      // Long enough that 256 calls in flight complete some even on a loaded machine.
      rpcWarmMs: 50,
      rpcWindowMs: 150,
      rpcSlices: 1,
      fanoutConnections: 20,
      fanoutWarmMs: 30,
      fanoutWindowMs: 60,
      idleLow: 20,
      idleHigh: 100,
      stormSessions: 100,
      codecTrials: 1,
      codecMs: 5,
    }
    : {}),
  pin: argv.includes('--pin'),
  tjstpExecArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(root, 'profiles', stamp)}`] : [],
};
if (smoke) {
  notes.push('smoke mode: checks the harness end to end; the figures mean nothing');
} else if (short) {
  notes.push(
    'short mode: fewer trials, shorter windows, fewer connections; idle memory for raw and tjstp only, and between 200 and 1,500' +
      ' connections, where fixed costs inflate the slope: only the full run answers the targets',
  );
}

const machine: Record<string, string | number> = {
  nproc: os.availableParallelism(),
  cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  'load at start': os.loadavg().map((load) => load.toFixed(2)).join(' '),
  'ulimit -n': fdLimit,
  commit: git,
};

const results: Results = { startedAt: startedAt.toISOString(), durationSeconds: 0, machine, config, notes };

const loads: string[] = [];
/** Other work on the machine skews every figure: the load is kept with the results. */
const noteLoad = (when: string): void => {
  const [one] = os.loadavg();
  loads.push(`${when} ${one!.toFixed(2)}`);
};

const write = (): string => {
  results.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  machine['load (1 min) by phase'] = loads.join(', ');
  fs.mkdirSync(root, { recursive: true });
  const markdown = renderMarkdown(results);
  fs.writeFileSync(path.join(root, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(root, `${stamp}.md`), markdown);
  return markdown;
};

let redis: RedisServer | undefined;

const killChildren = (): void => {
  for (const child of children) void child.stop(500);
  void redis?.stop();
};

/** The whole run's bound: a stuck phase cannot hold the machine. */
const deadlineMs = (short ? 3 : 25) * 60_000;
const watchdog = setTimeout(() => {
  console.error(`! the run exceeded ${deadlineMs / 60_000} minutes: stopping; partial results follow`);
  notes.push('the run was stopped by its time limit: figures are partial');
  console.log(write());
  killChildren();
  setTimeout(() => process.exit(1), 1000).unref();
}, deadlineMs);
watchdog.unref();
process.on('SIGINT', () => {
  killChildren();
  process.exit(130);
});

const runCodec = (): CodecResult => {
  const script = path.join(__dirname, 'codec.js');
  const output = execFileSync(process.execPath, [script, '--json', '--trials', String(config.codecTrials), '--ms', String(config.codecMs)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(output) as CodecResult;
};

const main = async (): Promise<void> => {
  console.log(`tjstp bench${smoke ? ' (smoke)' : short ? ' (short)' : ''}: ${systems.join(', ')}; phases ${phases.join(', ')}`);
  console.log(`machine: ${Object.entries(machine).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const phaseStart = (name: string): number => {
    console.log(`\n== ${name} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s into the run, load ${os.loadavg()[0]!.toFixed(2)})`);
    noteLoad(name.split(' ')[0]!);
    return Date.now();
  };
  if (systems.includes('tjstp-redis-tcp')) {
    redis = await startRedis();
    process.env.TJSTP_BENCH_REDIS = redis.url;
    // The cluster phase's two nodes share one prefix: the sessions of one are the other's to take.
    process.env.TJSTP_BENCH_REDIS_PREFIX = `bench${process.pid}:`;
  }
  if (phases.includes('rpc')) {
    phaseStart('calls/s with 1, 16, 256 in flight; p50/p99 with 1');
    results.rpc = await runRpc(config);
  }
  if (phases.includes('fanout')) {
    phaseStart(`fan-out to ${config.fanoutConnections} connections`);
    results.fanout = await runFanout(config);
  }
  if (phases.includes('idle')) {
    phaseStart(`RSS per idle connection, ${config.idleLow} → ${config.idleHigh}`);
    const idleSystems = smoke
      ? systems.filter((s) => s.startsWith('tjstp'))
      : short ? systems.filter((s) => s.startsWith('raw') || s.startsWith('tjstp')) : systems;
    results.idle = await runIdle({ ...config, systems: idleSystems });
  }
  if (phases.includes('storm') && systems.some((s) => s.startsWith('tjstp'))) {
    phaseStart(`resume storm of ${config.stormSessions} tjstp sessions`);
    const transports = config.stormTransports.filter((t) => systems.includes(t === 'tcp' ? 'tjstp-tcp' : 'tjstp-ws'));
    results.storm = await runStorm({ ...config, stormTransports: transports });
  }
  if (phases.includes('cluster') && systems.includes('tjstp-redis-tcp')) {
    phaseStart(`cluster: two nodes sharing Redis, resumes across them, a storm of ${config.stormSessions} onto the other node`);
    results.cluster = await runCluster(config);
  }
  if (phases.includes('codec')) {
    phaseStart('record-syntax parse path');
    results.codec = runCodec();
  }
  noteLoad('end');
  await redis?.stop();
  console.log(`\n${write()}`);
  console.log(`results: ${path.join(root, `${stamp}.md`)} and .json`);
};

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    notes.push(`the run failed: ${error instanceof Error ? error.message : String(error)}`);
    console.log(write());
    killChildren();
    setTimeout(() => process.exit(1), 1000).unref();
  },
);
