/**
 * Turns the phases' raw trials into the suite's Markdown report: figures per
 * system (medians of the trials), each tjstp figure as a ratio to raw and to
 * every peer (median of the per-trial ratios: the trials are interleaved, so
 * a ratio compares runs made seconds apart), the issue's targets met or
 * not, the resume storm, and the record-syntax parse cost.
 */
import { formatNumber as fmt, median, transportOf, type System } from './common';
import type { ClusterResult } from './cluster';
import type { CodecResult } from './codec';
import type { Config, FanoutTrial, IdleResult, RpcTrial, StormTrial } from './phases';

export interface Results {
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, string | number>;
  config: Config;
  rpc?: Record<string, Record<number, RpcTrial[]>>;
  fanout?: Record<string, FanoutTrial[]>;
  idle?: Record<string, IdleResult>;
  storm?: StormTrial[];
  cluster?: ClusterResult;
  codec?: CodecResult;
  notes: string[];
}

type Figure = 'rate1' | 'rate16' | 'rate256' | 'p50' | 'p99' | 'idle' | 'fanout' | 'cpu256' | 'cpuFanout';

const FIGURES: Array<[Figure, string, 'higher' | 'lower']> = [
  ['rate1', 'calls/s @1', 'higher'],
  ['rate16', 'calls/s @16', 'higher'],
  ['rate256', 'calls/s @256', 'higher'],
  ['p50', 'p50 µs @1', 'lower'],
  ['p99', 'p99 µs @1', 'lower'],
  ['idle', 'RSS KiB/conn idle', 'lower'],
  ['fanout', 'fan-out events/s', 'higher'],
  ['cpu256', 'CPU µs/call @256, server + client', 'lower'],
  ['cpuFanout', 'CPU µs/event fan-out, server + client', 'lower'],
];

/** CPU time (both processes) per operation, µs: steadier than rates on a shared machine. */
const cpuPer = (t: { rate: number; serverCpu: number; clientCpu: number }): number => ((t.serverCpu + t.clientCpu) / t.rate) * 1e6;

/** Per-trial values of a figure for one system (idle: one value). */
const trials = (results: Results, system: string, figure: Figure): number[] => {
  const rpc = results.rpc?.[system];
  switch (figure) {
    case 'rate1':
      return rpc?.[1]?.map((t) => t.rate) ?? [];
    case 'rate16':
      return rpc?.[16]?.map((t) => t.rate) ?? [];
    case 'rate256':
      return rpc?.[256]?.map((t) => t.rate) ?? [];
    case 'p50':
      return rpc?.[1]?.map((t) => t.p50) ?? [];
    case 'p99':
      return rpc?.[1]?.map((t) => t.p99) ?? [];
    case 'idle': {
      const idle = results.idle?.[system];
      return idle ? [idle.rssPerConnection / 1024] : [];
    }
    case 'fanout':
      return results.fanout?.[system]?.map((t) => t.rate) ?? [];
    case 'cpu256':
      return rpc?.[256]?.map(cpuPer) ?? [];
    case 'cpuFanout':
      return results.fanout?.[system]?.map(cpuPer) ?? [];
  }
};

export const figure = (results: Results, system: string, which: Figure): number => median(trials(results, system, which));

/** tjstp ÷ other: the median of per-trial ratios (trials are paired by index). */
export const ratio = (results: Results, system: string, other: string, which: Figure): number => {
  const a = trials(results, system, which);
  const b = trials(results, other, which);
  const n = Math.min(a.length, b.length);
  if (n === 0) return Number.NaN;
  return median(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
};

const table = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

const spread = (values: number[]): number => {
  const finite = values.filter(Number.isFinite);
  return finite.length < 2 ? Number.NaN : (Math.max(...finite) - Math.min(...finite)) / median(finite);
};

const percent = (value: number): string => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : '–');

const summary = (results: Results): string => {
  const systems = results.config.systems;
  const rows = systems.map((system) => {
    const idle = results.idle?.[system];
    return [
      system,
      ...(['rate1', 'rate16', 'rate256', 'p50', 'p99'] as Figure[]).map((f) => fmt(figure(results, system, f))),
      idle ? fmt(idle.rssPerConnection / 1024) : '–',
      idle ? fmt(idle.heapPerConnection / 1024) : '–',
      idle ? `${fmt(idle.high.rss / 2 ** 20)} @${idle.high.connections}` : '–',
      fmt(figure(results, system, 'fanout')),
      fmt(figure(results, system, 'cpu256')),
      fmt(figure(results, system, 'cpuFanout')),
    ];
  });
  return table(
    ['system', 'calls/s @1', '@16', '@256', 'p50 µs @1', 'p99 µs @1', 'RSS KiB/conn', 'heap KiB/conn', 'server RSS MiB', 'fan-out events/s', 'CPU µs/call @256', 'CPU µs/event fan-out'],
    rows,
  );
};

const cpuTable = (results: Results): string => {
  const share = (list: Array<{ serverCpu: number; clientCpu: number }> | undefined): string =>
    list?.length ? `${percent(median(list.map((t) => t.serverCpu)))} / ${percent(median(list.map((t) => t.clientCpu)))}` : '–';
  return table(
    ['system', '@1', '@16', '@256', 'fan-out'],
    results.config.systems.map((system) => [
      system,
      share(results.rpc?.[system]?.[1]),
      share(results.rpc?.[system]?.[16]),
      share(results.rpc?.[system]?.[256]),
      share(results.fanout?.[system]),
    ]),
  );
};

const ratios = (results: Results, system: System): string => {
  const others = results.config.systems.filter((other) => other !== system && !other.startsWith('tjstp'));
  const rows = FIGURES.map(([which, name, better]) => [
    `${name} (${better} is better)`,
    ...others.map((other) => fmt(ratio(results, system, other, which), 2)),
  ]);
  return table([`${system} ÷`, ...others], rows);
};

export interface Target {
  name: string;
  value: number;
  threshold: number;
  /** `min`: value must be ≥ threshold; `max`: ≤. */
  kind: 'min' | 'max';
  unit: string;
  extra?: string;
  met: boolean;
}

export const targets = (results: Results): Target[] => {
  const list: Target[] = [];
  const add = (name: string, value: number, kind: 'min' | 'max', threshold: number, unit = '×', extra?: string, ok = true): void => {
    const met = ok && Number.isFinite(value) && (kind === 'min' ? value >= threshold : value <= threshold);
    list.push({ name, value, threshold, kind, unit, met, ...(extra === undefined ? {} : { extra }) });
  };
  const has = (system: System): boolean => results.config.systems.includes(system);
  if (results.rpc) {
    if (has('tjstp-tcp') && has('raw-tcp')) add('TCP @256 vs raw net corked', ratio(results, 'tjstp-tcp', 'raw-tcp', 'rate256'), 'min', 0.8);
    if (has('tjstp-tcp') && has('jstp-tcp')) add('TCP @256 vs jstp TCP', ratio(results, 'tjstp-tcp', 'jstp-tcp', 'rate256'), 'min', 2);
    if (has('tjstp-ws') && has('raw-ws')) add('WS @256 vs raw ws', ratio(results, 'tjstp-ws', 'raw-ws', 'rate256'), 'min', 0.9);
    if (has('tjstp-ws') && has('jstp-ws')) add('WS @256 vs jstp WS', ratio(results, 'tjstp-ws', 'jstp-ws', 'rate256'), 'min', 1.3);
    if (has('tjstp-ws') && has('socketio')) add('WS @256 vs socket.io', ratio(results, 'tjstp-ws', 'socketio', 'rate256'), 'min', 1.3);
    if (has('tjstp-metrics-tcp') && has('tjstp-tcp')) add('TCP @256 with metrics on vs off', ratio(results, 'tjstp-metrics-tcp', 'tjstp-tcp', 'rate256'), 'min', 0.9);
    if (has('tjstp-redis-tcp') && has('tjstp-tcp')) add('TCP @256 sessions in Redis vs in memory', ratio(results, 'tjstp-redis-tcp', 'tjstp-tcp', 'rate256'), 'min', 0.6);
    for (const system of ['tjstp-tcp', 'tjstp-ws'] as const) {
      const raw = transportOf(system) === 'tcp' ? 'raw-tcp' : 'raw-ws';
      if (has(system) && has(raw)) add(`p50 @1 ${system} vs ${raw}`, ratio(results, system, raw, 'p50'), 'max', 1.1);
    }
  }
  if (results.idle) {
    if (results.idle['tjstp-tcp']) add('idle session RSS, TCP', results.idle['tjstp-tcp'].rssPerConnection / 1024, 'max', 6, ' KiB');
    if (results.idle['tjstp-ws']) add('idle session RSS, WS', results.idle['tjstp-ws'].rssPerConnection / 1024, 'max', 8, ' KiB');
  }
  if (results.fanout && has('raw-tcp')) {
    if (has('tjstp-tcp')) add('fan-out tjstp TCP vs raw net corked', ratio(results, 'tjstp-tcp', 'raw-tcp', 'fanout'), 'min', 0.8);
    if (has('tjstp-ws')) add('fan-out tjstp WS vs raw net corked', ratio(results, 'tjstp-ws', 'raw-tcp', 'fanout'), 'min', 0.8);
  }
  for (const transport of ['tcp', 'ws'] as const) {
    const storms = (results.storm ?? []).filter((trial) => trial.transport === transport);
    if (storms.length === 0) continue;
    const lost = storms.reduce(
      (sum, t) => sum + t.ticksMissing + t.failedCalls + t.wrongResults + t.duplicates + t.gaps + t.sessionsLost + (t.timedOut ? 1 : 0),
      0,
    );
    const sessions = storms[0]!.clients;
    const floor = median(storms.map((t) => t.rawOpenMs));
    const floorNote = Number.isFinite(floor)
      ? `; raw ${transport === 'tcp' ? 'net' : 'ws'} opens as many connections in ${fmt(floor / 1000, 2)} s, the storm takes ${fmt(median(storms.map((t) => t.resumeMs / t.rawOpenMs)), 2)}× that`
      : '';
    add(
      `resume storm of ${sessions.toLocaleString('en-US')}, ${transport.toUpperCase()}`,
      median(storms.map((t) => t.resumeMs)) / 1000,
      'max',
      3,
      ' s',
      `${lost === 0 ? 'nothing lost' : `${lost} lost/duplicated/failed`}${floorNote}${sessions < 10_000 ? '; the target needs 10,000' : ''}`,
      lost === 0 && sessions >= 10_000,
    );
  }
  const cluster = results.cluster;
  if (cluster) {
    add('resume on another node vs same node, p50', cluster.otherNodeResumeP50Ms / cluster.sameNodeResumeP50Ms, 'max', 2, '×',
      `${fmt(cluster.otherNodeResumeP50Ms, 2)} ms vs ${fmt(cluster.sameNodeResumeP50Ms, 2)} ms, ${cluster.resumes} resumes each`);
    const { storm } = cluster;
    const lost = storm.ticksMissing + storm.duplicates + storm.gaps + storm.sessionsLost + (storm.timedOut ? 1 : 0);
    add(`storm of ${storm.sessions.toLocaleString('en-US')} onto another node after a graceful stop`, storm.resumeMs / 1000, 'max', 5, ' s',
      `${lost === 0 ? 'nothing lost' : `${lost} lost/duplicated`}; ${storm.parked.toLocaleString('en-US')} parked in ${fmt(storm.parkMs / 1000, 2)} s${storm.sessions < 10_000 ? '; the target needs 10,000' : ''}`,
      lost === 0 && storm.sessions >= 10_000);
  }
  return list;
};

const targetTable = (list: Target[]): string =>
  table(
    ['target', 'figure', 'needed', 'met'],
    list.map((t) => [
      t.name,
      `${fmt(t.value, 2)}${t.unit}${t.extra ? ` (${t.extra})` : ''}`,
      `${t.kind === 'min' ? '≥' : '≤'} ${t.threshold}${t.unit}`,
      t.met ? 'yes' : '**no**',
    ]),
  );

const stormTable = (storms: StormTrial[]): string =>
  table(
    ['transport', 'sessions', 'drop loop ms', 'first resumed ms', 'all resumed ms', 'raw open-all floor ms', 'p50 resumed ms', 'server: first detach → last resume ms', 'settled ms', 'replayed (clients / server)', 'retries', 'lost, dup, gaps, failed, sessions lost'],
    storms.map((t) => [
      t.transport,
      fmt(t.clients),
      fmt(t.dropLoopMs),
      fmt(t.firstResumeMs),
      fmt(t.resumeMs),
      fmt(t.rawOpenMs),
      fmt(t.resumeP50Ms),
      fmt(t.serverSpanMs),
      fmt(t.settledMs),
      `${fmt(t.replayedByClients)} / ${fmt(t.serverReplayed)}`,
      fmt(t.retries),
      `${t.ticksMissing}, ${t.duplicates}, ${t.gaps}, ${t.failedCalls + t.wrongResults}, ${t.sessionsLost}${t.timedOut ? ' (timed out)' : ''}`,
    ]),
  );

const codecTable = (codec: CodecResult): string =>
  table(
    ['message', 'JSON path /s', 'record path /s', 'record costs'],
    [...codec.parse, ...codec.decode].map((row) => [row.name, fmt(row.jsonPerSecond), fmt(row.recordPerSecond), `${fmt(row.ratio, 2)}×`]),
  );

const spreadTable = (results: Results): string =>
  table(
    ['system', '@1', '@16', '@256', 'fan-out'],
    results.config.systems.map((system) => [
      system,
      ...(['rate1', 'rate16', 'rate256', 'fanout'] as Figure[]).map((f) => percent(spread(trials(results, system, f)))),
    ]),
  );

export const renderMarkdown = (results: Results): string => {
  const { machine, config } = results;
  const parts: string[] = [
    `# tjstp benchmarks, ${results.startedAt}${config.short ? ' (short mode)' : ''}`,
    `Machine: ${Object.entries(machine).map(([key, value]) => `${key} ${value}`).join(', ')}. Run took ${fmt(results.durationSeconds, 0)} s.`,
    `Method: one server process and one client process per system on 127.0.0.1; ${config.trials} interleaved trials` +
      ` (window ${config.rpcWindowMs} ms in ${config.rpcSlices ?? 1} slices of ${Math.round(config.rpcWindowMs / (config.rpcSlices ?? 1))} ms spread over the trial, each after a ${config.rpcSlices > 1 ? Math.min(config.rpcWarmMs, 50) : config.rpcWarmMs} ms warm-up; fan-out ${config.fanoutConnections} connections in ${config.fanoutSlices ?? 1} slices,` +
      ` window ${config.fanoutWindowMs} ms, ≤ 8 rounds unacknowledged); idle RSS slope between ${config.idleLow} and ${config.idleHigh}` +
      ` connections, after GC; figures are medians, ratios medians of per-trial ratios.`,
  ];
  if (results.rpc || results.fanout || results.idle) {
    parts.push('## Figures', summary(results));
    for (const system of ['tjstp-tcp', 'tjstp-ws'] as const) {
      if (config.systems.includes(system)) parts.push(`## ${system} as a ratio to the others`, ratios(results, system));
    }
  }
  parts.push('## Targets (issue 5)', targetTable(targets(results)));
  if (results.storm?.length) parts.push('## Resume storm (tjstp)', stormTable(results.storm));
  if (results.codec) parts.push('## Record-syntax parse path (one process)', codecTable(results.codec));
  if (results.rpc || results.fanout) {
    parts.push('## CPU use in the timed windows, server / client (100% = one core)', cpuTable(results));
    parts.push('## Spread of the trials, (max − min) / median', spreadTable(results));
  }
  if (results.notes.length > 0) parts.push('## Notes', results.notes.map((note) => `- ${note}`).join('\n'));
  return `${parts.join('\n\n')}\n`;
};
