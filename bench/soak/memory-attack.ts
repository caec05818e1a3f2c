/**
 * Part 1 of the soak, the figure issue 11 asks for: the real `tjstp serve`
 * (the bundled applications, compiled, as a deployment runs them) in a
 * child process with a small `--max-session-memory`, attacked by
 * `attackers` attackers from 127.0.0.2, 127.0.0.3, … (see `attacker.ts`)
 * while an honest client on 127.0.0.1 makes calls at a steady pace, first
 * for a baseline window, then throughout (see `honest-process.ts`). The
 * attackers share one process, run at the lowest CPU priority by default
 * (`attackerNice`): on this machine they would otherwise take the server's
 * CPU, which attackers elsewhere cannot, and the honest figure would
 * measure that.
 *
 * Watched from outside: the child's RSS from /proc every second (and its
 * kernel-kept peak, VmHWM), its exit, its listeners (a TCP connect and a
 * WS upgrade every 2 s), its stderr (the `evicted … held session(s)`
 * warnings). Checked: it stayed alive and answering, no honest call failed
 * or hung, and — targets — its peak RSS stayed under the budget plus
 * `overhead` and the honest p50 during the attack within 3× of before.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Child } from '../common';
import { newAttackerStats, type AttackerConfig, type AttackerStats } from './attacker';
import type { HonestResults } from './honest-process';
import { check, endpointOf, MiB, percentiles, readCpuSeconds, readRss, ServerChild, sleep, tally, type Check, type Percentiles } from './shared';
import type { Endpoint } from './wire';

export interface AttackConfig {
  minutes: number;
  baselineSeconds: number;
  /** `--max-session-memory`, bytes. */
  budget: number;
  /** `--max-old-space-size` of the server, MiB: a few times the budget, so the budget binds, not the heap. */
  heapMiB: number;
  /** The RSS allowed above the budget (the fixed overhead the check states). */
  overhead: number;
  attackers: number;
  honestIntervalMs: number;
  seed: number;
  /** The attackers' process's nice value (19: the lowest priority; see `attack-process.ts`). */
  attackerNice: number;
  attacker: Pick<AttackerConfig, 'wave' | 'joins' | 'rejoins' | 'says' | 'textLength' | 'restoreEvery' | 'hammerEveryMs' | 'hammerHellos' | 'hammerRestores'> & { rooms: number };
}

export interface AttackResult {
  config: AttackConfig;
  command: string;
  durationSeconds: number;
  server: { alive: boolean; exit: string; stderrLines: number; stderrBytes: number; stderrTail: string[] };
  rss: { idle: number; maxSampled: number; peak: number; overhead: number; bound: number; perMinute: number[] };
  /** The server's CPU (share of one core) before and during the attack; the machine's 1-min load now and then. */
  cpu: { before: number; during: number; load: number[] };
  probes: { ok: number; failed: number; failures: string[] };
  honest: {
    before: Percentiles;
    during: Percentiles;
    p50Ratio: number;
    p99Ratio: number;
    calls: number;
    failures: string[];
    hung: number;
    sessionsLost: number;
    disconnects: number;
    p50PerMinute: number[];
  };
  attack: AttackerStats;
  evictions: { restoresEvicted: number; warned: number; warningLines: number; summarizedLines: number };
  checks: Check[];
}

/** Adds one attacker's counts into the total. */
const merge = (total: AttackerStats, one: AttackerStats): void => {
  for (const [key, value] of Object.entries(one) as Array<[keyof AttackerStats, AttackerStats[keyof AttackerStats]]>) {
    if (typeof value === 'number') (total[key] as number) += value;
    else for (const [name, count] of Object.entries(value)) tally(total[key] as Record<string, number>, name, count);
  }
};

/** A TCP connect and a WS upgrade, each within 5 s. */
const probe = async (at: Endpoint): Promise<string | undefined> => {
  const tcp = new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: at.tcpPort });
    socket.setTimeout(5000, () => socket.destroy(new Error('tcp connect timed out')));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
  const ws = new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(at.wsUrl, 'metarhia-jstp', { handshakeTimeout: 5000 });
    socket.once('open', () => {
      socket.terminate();
      resolve();
    });
    socket.once('error', reject);
  });
  try {
    await Promise.all([tcp, ws]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};

export const runMemoryAttack = async (config: AttackConfig, log: (line: string) => void): Promise<AttackResult> => {
  const started = Date.now();
  const script = path.join(__dirname, '../../bin/tjstp.js');
  const args = ['serve', '--applications', path.join(__dirname, '../../applications'), '--tcp', '0', '--ws', '0', '--no-watch', '--no-session-file', '--max-session-memory', String(config.budget)];
  const execArgv = [`--max-old-space-size=${config.heapMiB}`];
  const command = `node ${execArgv.join(' ')} dist/bin/tjstp.js ${args.join(' ').replace(path.join(__dirname, '../../applications'), 'dist/applications')}`;
  const evictions = { restoresEvicted: 0, warned: 0, warningLines: 0, summarizedLines: 0 };
  const server = new ServerChild(script, args, execArgv, 2, { stderr: (line) => {
    const evicted = /^warning: evicted (\d+) held session/.exec(line);
    if (evicted) {
      evictions.warned += Number(evicted[1]);
      evictions.warningLines++;
    } else if (/^warning: … and \d+ more like it/.test(line)) {
      evictions.summarizedLines++;
    }
  } });
  const endpoint = endpointOf(await server.listening);
  log(`server pid ${server.pid}: ${command}`);

  const rssSamples: Array<[number, number]> = [];
  const cpuAt = (): [number, number] => [Date.now() - started, readCpuSeconds(server.pid) ?? Number.NaN];
  const sampler = setInterval(() => {
    const rss = readRss(server.pid);
    if (rss) rssSamples.push([Date.now() - started, rss.rss]);
  }, 1000);
  const load: number[] = [os.loadavg()[0]!];
  const idle = readRss(server.pid)?.rss ?? Number.NaN;

  const honest = new Child('soak/honest-process', []);
  await honest.ready;
  await honest.request('start', { tcpPort: endpoint.tcpPort, wsUrl: endpoint.wsUrl, intervalMs: config.honestIntervalMs, phase: 'before' });
  log(`baseline: honest calls for ${config.baselineSeconds} s`);
  const baselineCpu = cpuAt();
  await sleep(config.baselineSeconds * 1000);
  await honest.request('phase', { name: 'during' });
  const attackStart = Date.now() - started;
  const attackCpu = cpuAt();
  /** The server's share of one core between two readings. */
  const cpuShare = (from: [number, number], to: [number, number]): number => (to[1] - from[1]) / ((to[0] - from[0]) / 1000);

  const probes = { ok: 0, failed: 0, failures: [] as string[] };
  const prober = setInterval(() => {
    void probe(endpoint).then((failure) => {
      if (failure === undefined) probes.ok++;
      else {
        probes.failed++;
        if (probes.failures.length < 10) probes.failures.push(failure);
      }
    });
  }, 2000);

  const until = Date.now() + config.minutes * 60_000;
  const rooms = Array.from({ length: config.attacker.rooms }, (_v, i) => `flood-${i}`);
  const configs: AttackerConfig[] = Array.from({ length: config.attackers }, (_v, i) => ({
    ...config.attacker,
    rooms,
    localAddress: `127.0.0.${i + 2}`,
    endpoint,
    until,
    seed: config.seed + i,
  }));
  const attackers = new Child('soak/attack-process', []);
  await attackers.ready;
  os.setPriority(attackers.pid!, config.attackerNice);
  log(`attack: ${config.attackers} attackers from 127.0.0.2…127.0.0.${config.attackers + 1} for ${config.minutes} min (their process at nice ${config.attackerNice})`);
  const progress = setInterval(() => {
    load.push(os.loadavg()[0]!);
    const rss = readRss(server.pid);
    void Promise.all([
      honest.request<{ calls: number; failures: number }>('progress', {}, 10_000),
      attackers.request<AttackerStats[]>('progress', {}, 10_000),
    ]).then(
      ([h, stats]) => {
        const total = newAttackerStats();
        for (const one of stats) merge(total, one);
        log(`  ${Math.round((Date.now() - started) / 1000)} s: RSS ${((rss?.rss ?? 0) / MiB).toFixed(0)} MiB (peak ${((rss?.peak ?? 0) / MiB).toFixed(0)}), ` +
          `${total.sessionsOpened} attacker sessions, ${evictions.warned} evictions warned, honest ${h.calls} calls / ${h.failures} failed`);
      },
      () => log('  a child did not answer its progress request'),
    );
  }, config.minutes >= 1 ? 30_000 : 2000);
  const stats = await attackers.request<AttackerStats[]>('run', { configs }, config.minutes * 60_000 + 120_000);
  await attackers.stop();
  clearInterval(progress);
  clearInterval(prober);
  const attackEnd = Date.now() - started;
  const endCpu = cpuAt();
  load.push(os.loadavg()[0]!);

  const honestResults = await honest.request<HonestResults>('stop', { graceMs: 10_000 }, 60_000);
  await honest.stop();
  clearInterval(sampler);
  const rssNow = readRss(server.pid);
  const alive = server.alive;
  const exit = await server.stop();

  const attack = newAttackerStats();
  for (const one of stats) merge(attack, one);
  evictions.restoresEvicted = attack.restores['11 evicted'] ?? 0;

  const phaseOf = (name: string): number => honestResults.phases.indexOf(name);
  const latencies = (phase: number): number[] => honestResults.samples.filter((s) => s[2] === phase).map((s) => s[1]);
  const before = percentiles(latencies(phaseOf('before')));
  const during = percentiles(latencies(phaseOf('during')));
  // Whole minutes of attack; the seconds past the last one count in it.
  const minutes = Math.max(1, Math.floor((attackEnd - attackStart) / 60_000));
  const minuteOf = (at: number): number => Math.min(minutes - 1, Math.floor((at - attackStart) / 60_000));
  const p50PerMinute = Array.from({ length: minutes }, (_v, m) =>
    percentiles(honestResults.samples.filter((s) => s[0] >= attackStart && minuteOf(s[0]) === m).map((s) => s[1])).p50);
  const perMinute = Array.from({ length: minutes }, (_v, m) =>
    Math.max(0, ...rssSamples.filter(([at]) => at >= attackStart && minuteOf(at) === m).map(([, rss]) => rss)));
  const maxSampled = Math.max(0, ...rssSamples.map(([, rss]) => rss));
  const peak = rssNow?.peak ?? maxSampled;
  const bound = config.budget + config.overhead;

  const honestSummary = {
    before,
    during,
    p50Ratio: during.p50 / before.p50,
    p99Ratio: during.p99 / before.p99,
    calls: honestResults.calls,
    failures: honestResults.failures.slice(0, 20),
    hung: honestResults.hung,
    sessionsLost: honestResults.sessionsLost,
    disconnects: honestResults.disconnects,
    p50PerMinute,
  };
  const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
  const checks: Check[] = [
    check('correctness', 'server alive throughout', alive && probes.failed === 0,
      `${alive ? 'alive' : `exited ${exit.signal ?? exit.code}`}; listeners answered ${probes.ok} probes, failed ${probes.failed}`),
    check('correctness', 'server stops cleanly afterwards (SIGTERM, exit 0)', exit.code === 0, `exit ${exit.signal ?? exit.code}`),
    check('correctness', 'honest calls answered', honestResults.failures.length === 0 && honestResults.hung === 0 && before.count > 0 && during.count > 0,
      `${honestResults.calls} calls (${before.count} before, ${during.count} during), ${honestResults.failures.length} failed, ${honestResults.hung} hung`),
    check('correctness', 'honest sessions kept', honestResults.sessionsLost === 0, `${honestResults.sessionsLost} sessions lost, ${honestResults.disconnects} disconnects`),
    check('correctness', 'attack ran', attack.sessionsOpened > 0, `${attack.sessionsOpened} attacker sessions opened`),
    check('target', 'the attack reached the budget (evictions)', evictions.warned + evictions.restoresEvicted > 0,
      `${evictions.warned} evictions in warning lines, ${evictions.restoresEvicted} restores answered evicted`),
    check('target', `peak RSS ≤ budget + ${mib(config.overhead)}`, peak <= bound,
      `peak ${mib(peak)} (sampled max ${mib(maxSampled)}), budget ${mib(config.budget)}, bound ${mib(bound)}, idle at start ${mib(idle)}`),
    check('target', 'honest p50 during ≤ 3× before', honestSummary.p50Ratio <= 3,
      `${before.p50.toFixed(2)} ms → ${during.p50.toFixed(2)} ms (${honestSummary.p50Ratio.toFixed(2)}×)`),
  ];
  return {
    config,
    command,
    durationSeconds: (Date.now() - started) / 1000,
    server: { alive, exit: String(exit.signal ?? exit.code), stderrLines: server.stderrLines, stderrBytes: server.stderrBytes, stderrTail: server.stderrTail },
    rss: { idle, maxSampled, peak, overhead: peak - config.budget, bound, perMinute },
    cpu: { before: cpuShare(baselineCpu, attackCpu), during: cpuShare(attackCpu, endCpu), load },
    probes,
    honest: honestSummary,
    attack,
    evictions,
    checks,
  };
};
