/**
 * The soak's report: one Markdown document with each part's figures and
 * checks (written next to the JSON in bench/results/), and the short
 * summary printed at the end of a run.
 */
import type { ChaosResult } from './chaos';
import type { FuzzResult } from './fuzz';
import type { AttackResult } from './memory-attack';
import { MiB, type Check, type Percentiles } from './shared';

export interface SoakResults {
  startedAt: string;
  durationSeconds: number;
  mode: string;
  command: string;
  machine: Record<string, string | number>;
  attack?: AttackResult;
  fuzz?: FuzzResult;
  chaos?: ChaosResult;
  notes: string[];
}

const n = (value: number): string => (Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '–');
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(value >= 100 ? 0 : 2) : '–');
const mib = (bytes: number): string => `${n(bytes / MiB)} MiB`;
const counts = (record: Record<string, number>): string =>
  Object.entries(record).sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key}: ${n(count)}`).join(', ') || 'none';

/** Every check of the run, with its part. */
export const allChecks = (results: SoakResults): Array<Check & { part: string }> => [
  ...(results.attack?.checks ?? []).map((c) => ({ ...c, part: 'attack' })),
  ...(results.fuzz?.checks ?? []).map((c) => ({ ...c, part: 'fuzz' })),
  ...(results.chaos?.checks ?? []).map((c) => ({ ...c, part: 'chaos' })),
];

const checkTable = (checks: readonly Check[], smoke: boolean): string[] => [
  '| check | kind | result | detail |',
  '|---|---|:-:|---|',
  ...checks.map((c) => `| ${c.name} | ${c.kind} | ${c.ok ? 'yes' : c.kind === 'target' && smoke ? 'no (smoke: not judged)' : '**no**'} | ${c.detail} |`),
];

const latencyRow = (name: string, p: Percentiles): string => `| ${name} | ${n(p.count)} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} |`;

const attackSection = (a: AttackResult, smoke: boolean): string[] => [
  '## Memory attack',
  '',
  `\`${a.command}\`, ${a.config.attackers} attackers for ${a.config.minutes} min after a ${a.config.baselineSeconds} s baseline; ${a.durationSeconds.toFixed(0)} s in all.`,
  '',
  `- RSS: idle ${mib(a.rss.idle)} at start; peak ${mib(a.rss.peak)} (VmHWM; sampled max ${mib(a.rss.maxSampled)}); budget ${mib(a.config.budget)}, ` +
    `so ${mib(a.rss.overhead)} above it; bound checked ${mib(a.rss.bound)}. Max per minute of attack: ${a.rss.perMinute.map(mib).join(', ')}.`,
  `- Server CPU (share of one core): ${(a.cpu.before * 100).toFixed(0)}% before, ${(a.cpu.during * 100).toFixed(0)}% during; machine load (1 min) ${a.cpu.load.map((l) => l.toFixed(1)).join(' → ')}.`,
  `- Attack: ${n(a.attack.sessionsOpened)} sessions opened (${n(a.attack.bound)} with the key marker, ${n(a.attack.legacy)} legacy, the rest in bursts), ` +
    `by transport ${counts(a.attack.byKind)}; ${n(a.attack.calls)} calls; ${mib(a.attack.bytesReceived)} received and never acknowledged.`,
  `- Refused hellos: ${counts(a.attack.refusals)}. Call errors: ${counts(a.attack.callErrors)}. Connect failures ${a.attack.connectFailures}, hellos unanswered ${a.attack.noReply}.`,
  `- Restores of old sessions: ${counts(a.attack.restores)}. Of bogus ids: ${counts(a.attack.bogusRestores)}.`,
  `- Evictions: ${n(a.evictions.warned)} sessions in ${a.evictions.warningLines} \`evicted\` warning lines ` +
    `(${a.evictions.summarizedLines} lines summarised further warnings, of any kind), ${n(a.evictions.restoresEvicted)} restores answered \`evicted\`.`,
  `- Server stderr: ${n(a.server.stderrLines)} lines, ${n(a.server.stderrBytes)} bytes. Liveness probes: ${a.probes.ok} answered, ${a.probes.failed} failed.`,
  '',
  '| honest round trips | calls | p50 ms | p99 ms | max ms |',
  '|---|--:|--:|--:|--:|',
  latencyRow('before the attack', a.honest.before),
  latencyRow('during the attack', a.honest.during),
  '',
  `p50 ratio ${a.honest.p50Ratio.toFixed(2)}×, p99 ratio ${a.honest.p99Ratio.toFixed(2)}×; p50 per minute of attack (ms): ${a.honest.p50PerMinute.map(ms).join(', ')}. ` +
    `${a.honest.calls} calls, ${a.honest.failures.length} failed, ${a.honest.hung} hung, ${a.honest.sessionsLost} sessions lost, ${a.honest.disconnects} disconnects.`,
  ...(a.honest.failures.length > 0 ? ['', 'Honest failures (first ones):', '', ...a.honest.failures.map((f) => `- ${f}`)] : []),
  '',
  ...checkTable(a.checks, smoke),
  '',
];

const fuzzSection = (f: FuzzResult, smoke: boolean): string[] => [
  '## Fuzz',
  '',
  `${n(f.inputsSent)} inputs (seed ${f.config.seed}) over ${n(f.connections)} connections, ${f.config.connections} at a time, in ${f.durationSeconds.toFixed(0)} s ` +
    `(${n(f.inputsSent / f.durationSeconds)} inputs/s; CPU: server ${n(f.cpu.server)} s, fuzzer and honest clients ${n(f.cpu.fuzzer)} s). Server exit: ${f.server.exit}; its stderr ${n(f.server.stderrLines)} lines, ${n(f.server.stderrBytes)} bytes.`,
  `Honest clients (TCP, WS tjstp-batch, WS metarhia-jstp): ${n(f.honest.calls)} calls, ${f.honest.failures.length} failed, ${f.honest.hung} hung, ${f.honest.sessionsLost} sessions lost.`,
  `Server at the end: ${JSON.stringify(f.server.stats)}.`,
  '',
  '| outcome | inputs |',
  '|---|--:|',
  ...Object.entries(f.outcomes).sort((a, b) => b[1] - a[1]).map(([outcome, count]) => `| ${outcome} | ${n(count)} |`),
  '',
  '| family | inputs | connection left open |',
  '|---|--:|--:|',
  ...Object.entries(f.families).sort((a, b) => b[1] - a[1]).map(([family, count]) => `| ${family} | ${n(count)} | ${n(f.survived[family] ?? 0)} |`),
  ...(Object.keys(f.setupFailures).length > 0 ? [`Harness hellos that failed (not inputs): ${counts(f.setupFailures)}.`] : []),
  ...(f.problems.length > 0 ? ['', 'Inputs left unanswered (first ones):', '', ...f.problems.map((p) => `- #${p.index} ${p.kind} ${p.stage} ${p.family} ${p.delivery}: ${p.outcome}: \`${JSON.stringify(p.text)}\``)] : []),
  ...(f.crash ? ['', `**The server exited (${f.crash.exit}).** Last inputs:`, '', ...f.crash.lastInputs.map((p) => `- #${p.index} ${p.kind} ${p.stage} ${p.family}: \`${JSON.stringify(p.text)}\``), '', 'stderr:', '', '```', ...f.crash.stderrTail, '```'] : []),
  '',
  ...checkTable(f.checks, smoke),
  '',
];

const chaosSection = (c: ChaosResult, smoke: boolean): string[] => [
  '## Long chaos',
  '',
  `\`${c.command}\`: ${c.durationSeconds.toFixed(0)} s, exit ${c.exitCode}.`,
  '',
  '| transport | seed | drops | calls | events | lost | duplicated | streams wrong | ms |',
  '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ...c.transports.map((t) => `| ${t.transport} | ${t.seed} | ${n(t.drops)} | ${n(t.calls)} | ${n(t.events)} | ${t.lost} | ${t.duplicated} | ${t.eventStreamsWrong} | ${n(t.ms)} |`),
  ...(c.failure ? ['', '```', c.failure, '```'] : []),
  '',
  ...checkTable(c.checks, smoke),
  '',
];

export const renderMarkdown = (results: SoakResults): string => {
  const smoke = results.mode === 'smoke';
  return [
    `# tjstp soak, ${results.startedAt} (${results.mode})`,
    '',
    `\`${results.command}\`, ${results.durationSeconds.toFixed(0)} s.`,
    '',
    Object.entries(results.machine).map(([key, value]) => `${key}: ${value}`).join('; '),
    '',
    ...results.notes.map((note) => `- ${note}`),
    ...(results.notes.length > 0 ? [''] : []),
    ...(results.attack ? attackSection(results.attack, smoke) : []),
    ...(results.fuzz ? fuzzSection(results.fuzz, smoke) : []),
    ...(results.chaos ? chaosSection(results.chaos, smoke) : []),
  ].join('\n');
};

/** A few lines: every check, then the headline figures. */
export const renderSummary = (results: SoakResults): string => {
  const smoke = results.mode === 'smoke';
  const lines = allChecks(results).map((c) =>
    `${c.ok ? 'ok  ' : c.kind === 'target' ? (smoke ? 'n/a ' : 'MISS') : 'FAIL'} ${c.part}: ${c.name}: ${c.detail}`);
  const { attack, fuzz, chaos } = results;
  if (attack) {
    lines.push(`attack: peak RSS ${mib(attack.rss.peak)} with a ${mib(attack.config.budget)} budget; honest p50 ${ms(attack.honest.before.p50)} → ${ms(attack.honest.during.p50)} ms ` +
      `(${attack.honest.p50Ratio.toFixed(2)}×); ${n(attack.attack.sessionsOpened)} attacker sessions; evictions ${n(attack.evictions.warned)} warned, ${n(attack.evictions.restoresEvicted)} restores answered evicted`);
  }
  if (fuzz) lines.push(`fuzz: ${n(fuzz.inputsSent)} inputs, ${n(fuzz.connections)} connections, crashes ${fuzz.crash ? 1 : 0}, honest calls failed ${fuzz.honest.failures.length}`);
  if (chaos) lines.push(`chaos: ${chaos.transports.map((t) => `${t.transport} ${n(t.calls)} calls, ${n(t.drops)} drops, lost ${t.lost}, duplicated ${t.duplicated}`).join('; ')}`);
  return lines.join('\n');
};
