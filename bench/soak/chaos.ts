/**
 * Part 3 of the soak: the chaos test (`test/chaos.test.ts`) at scale, in
 * its own process with `CHAOS_SCALE` (at 42: 100,800 calls per transport
 * through a proxy that kills or freezes every connection after a random
 * number of bytes). Its TAP output is read for what each transport's run
 * reports: seed, drops, calls, events, calls lost and duplicated, event
 * streams out of order. Rerun one with the printed seed:
 * `CHAOS_SEED=<seed> CHAOS_SCALE=<scale> node --test dist/test/chaos.test.js`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { check, type Check } from './shared';

export interface ChaosConfig {
  scale: number;
  seed: number | undefined;
}

export interface ChaosTransport {
  transport: string;
  seed: number;
  drops: number;
  calls: number;
  events: number;
  lost: number;
  duplicated: number;
  eventStreamsWrong: number;
  ms: number;
}

export interface ChaosResult {
  config: ChaosConfig;
  command: string;
  durationSeconds: number;
  exitCode: number | null;
  transports: ChaosTransport[];
  /** The test's failure output, when it failed. */
  failure: string | undefined;
  checks: Check[];
}

// `# tcp (kill): …`, or `# tcp (slow, … delayed, … refused as stale): …`.
const DIAGNOSTIC = /^\s*# (\w+) \([^)]*\): (\d+) drops, (\d+) calls, (\d+) events, lost (\d+), duplicated (\d+), events out of order or repeated in (\d+) streams, (\d+) ms/;

export const runChaos = async (config: ChaosConfig, log: (line: string) => void): Promise<ChaosResult> => {
  const started = Date.now();
  const file = path.join(__dirname, '../../test/chaos.test.js');
  const env: NodeJS.ProcessEnv = { ...process.env, CHAOS_SCALE: String(config.scale), ...(config.seed !== undefined && { CHAOS_SEED: String(config.seed) }) };
  // Run from a test (the smoke run in `npm test`), node would make this a child of that test run, reporting in its own binary format.
  delete env.NODE_TEST_CONTEXT;
  const command = `CHAOS_SCALE=${config.scale}${config.seed !== undefined ? ` CHAOS_SEED=${config.seed}` : ''} node --test --test-reporter=tap dist/test/chaos.test.js`;
  log(command);
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const transports: ChaosTransport[] = [];
  let seed = Number.NaN;
  for (const line of output.split('\n')) {
    const seedLine = /^\s*# seed (\d+)/.exec(line);
    if (seedLine) seed = Number(seedLine[1]);
    const match = DIAGNOSTIC.exec(line);
    if (!match) continue;
    const [, transport, drops, calls, events, lost, duplicated, streams, ms] = match;
    transports.push({
      transport: transport!,
      seed,
      drops: Number(drops),
      calls: Number(calls),
      events: Number(events),
      lost: Number(lost),
      duplicated: Number(duplicated),
      eventStreamsWrong: Number(streams),
      ms: Number(ms),
    });
    log(`  ${line.trim().slice(2)} (seed ${seed})`);
  }
  const expectedCalls = 2 * Math.max(1, Math.round(1200 * config.scale));
  const failure = exitCode === 0 ? undefined : output.split('\n').filter((line) => /not ok|Error|assert|expected|actual|seed/i.test(line)).slice(0, 40).join('\n');
  const checks: Check[] = [
    check('correctness', 'chaos test passed', exitCode === 0, `exit ${exitCode}`),
    check('correctness', 'both transports reported', transports.length === 2, transports.map((t) => t.transport).join(', ') || 'none'),
    ...transports.map((t) => check('correctness', `${t.transport}: nothing lost, duplicated or out of order`,
      t.lost === 0 && t.duplicated === 0 && t.eventStreamsWrong === 0 && t.calls === expectedCalls,
      `${t.calls} calls, ${t.events} events, ${t.drops} drops; lost ${t.lost}, duplicated ${t.duplicated}, streams wrong ${t.eventStreamsWrong}`)),
  ];
  return { config, command, durationSeconds: (Date.now() - started) / 1000, exitCode, transports, failure, checks };
};
