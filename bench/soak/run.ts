/**
 * The soak run: `npm run soak` (about 25 minutes on a 2-core machine), the
 * part of issue 11 that is too long for `npm test`. Built by `tsc`, run
 * from dist/. Three parts, one after another, never at once:
 *
 * 1. attack (`memory-attack.ts`): `tjstp serve` with a small memory budget,
 *    8 attackers for `--minutes`, an honest client throughout;
 * 2. fuzz (`fuzz.ts`): `--inputs` fuzz inputs over TCP and both WS
 *    subprotocols, honest clients alongside;
 * 3. chaos (`chaos.ts`): the chaos test at `--chaos-scale`.
 *
 * Options: `--only attack,fuzz,chaos`, `--smoke` (every part at tiny sizes,
 * about 20 s: checks the harness, as `npm test` does; its figures mean
 * nothing), `--minutes N`, `--baseline SECONDS`, `--budget MIB`,
 * `--overhead MIB`, `--heap MIB` (the server's old space, default 4 × budget),
 * `--attacker-nice N` (default 19), `--inputs N`, `--connections N`, `--chaos-scale X`,
 * `--seed N` (attack, fuzz and chaos), `--out DIR`, `--note TEXT`.
 *
 * Prints progress and a summary, writes `bench/results/soak-<time>.json`
 * and `.md`. Exits 1 when a correctness check failed (a crash, a lost or
 * failed call, a hung connection), 0 otherwise: targets (RSS bound, p50
 * ratio) are reported as met or missed, not as failures of the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliOption } from '../common';
import { runChaos } from './chaos';
import { runFuzz } from './fuzz';
import { runMemoryAttack, type AttackConfig } from './memory-attack';
import { allChecks, renderMarkdown, renderSummary, type SoakResults } from './report';
import { gitCommit, killServers, MiB } from './shared';

const PARTS = ['attack', 'fuzz', 'chaos'] as const;
type Part = (typeof PARTS)[number];

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => cliOption(argv, name);
const number = (name: string, fallback: number, zero = false): number => {
  const value = option(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (parsed === 0 && !zero)) {
    console.error(`${name}: expected a ${zero ? 'non-negative' : 'positive'} number, got ${value}`);
    process.exit(2);
  }
  return parsed;
};

const smoke = argv.includes('--smoke');
const parts = (option('--only')?.split(',') ?? [...PARTS]).filter((p): p is Part => (PARTS as readonly string[]).includes(p));
const root = path.resolve(option('--out') ?? path.join(__dirname, '../../../bench/results'));
const seed = number('--seed', Date.now() % 1e9);
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

const budgetMiB = number('--budget', smoke ? 16 : 64);
const attack: AttackConfig = {
  minutes: number('--minutes', smoke ? 4 / 60 : 10),
  baselineSeconds: number('--baseline', smoke ? 1.5 : 30),
  budget: budgetMiB * MiB,
  // A few times the budget: the budget, not the heap limit, must be what holds.
  heapMiB: number('--heap', 4 * budgetMiB),
  overhead: number('--overhead', 192) * MiB,
  attackers: 8,
  honestIntervalMs: smoke ? 20 : 50,
  seed,
  attackerNice: Math.min(19, Math.round(number('--attacker-nice', 19, true))),
  attacker: {
    wave: 1,
    rooms: 16,
    joins: 4,
    rejoins: 8,
    says: 2,
    textLength: 2000,
    restoreEvery: 5,
    // Past the limits now and then: 250 hellos (the new-session burst allows 200), 1,300 restores (the allowance is 1,200 a minute).
    hammerEveryMs: smoke ? 2000 : 120_000,
    hammerHellos: smoke ? 10 : 250,
    hammerRestores: smoke ? 10 : 1300,
  },
};
const fuzz = {
  inputs: Math.round(number('--inputs', smoke ? 3000 : 1_000_000)),
  connections: Math.round(number('--connections', smoke ? 16 : 48)),
  seed,
  answerMs: 10_000,
  honestIntervalMs: 10,
};
const chaos = { scale: number('--chaos-scale', smoke ? 0.05 : 42), seed: option('--seed') === undefined ? undefined : seed };

const results: SoakResults = {
  startedAt: startedAt.toISOString(),
  durationSeconds: 0,
  mode: smoke ? 'smoke' : argv.length === 0 ? 'full' : 'custom',
  command: `npm run soak${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  machine: {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    'load at start': os.loadavg().map((load) => load.toFixed(2)).join(' '),
    commit: gitCommit(),
  },
  notes: [
    ...(smoke ? ['smoke mode: checks the harness end to end; the figures mean nothing'] : []),
    ...(option('--note') === undefined ? [] : [option('--note')!]),
  ],
};

const write = (): string => {
  results.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  fs.mkdirSync(root, { recursive: true });
  const markdown = renderMarkdown(results);
  fs.writeFileSync(path.join(root, `soak-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(root, `soak-${stamp}.md`), markdown);
  return markdown;
};

const log = (line: string): void => console.log(line);

/** The whole run's bound: a stuck part cannot hold the machine. */
const deadlineMs = smoke ? 3 * 60_000 : (attack.minutes + 90) * 60_000;
const watchdog = setTimeout(() => {
  console.error(`! the run exceeded ${Math.round(deadlineMs / 60_000)} minutes: stopping; partial results follow`);
  results.notes.push('the run was stopped by its time limit: figures are partial');
  write();
  killServers();
  setTimeout(() => process.exit(1), 1000).unref();
}, deadlineMs);
watchdog.unref();
process.on('SIGINT', () => {
  killServers();
  process.exit(130);
});

const main = async (): Promise<void> => {
  log(`tjstp soak${smoke ? ' (smoke)' : ''}: ${parts.join(', ')}; seed ${seed}`);
  log(`machine: ${Object.entries(results.machine).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const section = (name: string): void => {
    log(`\n== ${name} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s into the run, load ${os.loadavg()[0]!.toFixed(2)})`);
  };
  if (parts.includes('attack')) {
    section('memory attack');
    results.attack = await runMemoryAttack(attack, log);
  }
  if (parts.includes('fuzz')) {
    section('fuzz');
    results.fuzz = await runFuzz(fuzz, log);
  }
  if (parts.includes('chaos')) {
    section('long chaos');
    results.chaos = await runChaos(chaos, log);
  }
  write();
  log(`\n${renderSummary(results)}`);
  log(`results: ${path.join(root, `soak-${stamp}.md`)} and .json`);
};

main().then(
  () => {
    process.exit(allChecks(results).every((c) => c.ok || c.kind === 'target') ? 0 : 1);
  },
  (error: unknown) => {
    console.error(error);
    results.notes.push(`the run failed: ${error instanceof Error ? error.message : String(error)}`);
    write();
    process.exit(1);
  },
);
