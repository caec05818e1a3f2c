/**
 * Sums `.cpuprofile` files (from `node --cpu-prof`, e.g. `npm run bench --
 * --profile`) by function: self time per function as a share of all samples
 * (idle and GC included, so the shares add up to 100%), and the total time
 * per source file. Usage:
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile | dir> [--top N]
 *
 * A directory is summed file by file (one block per profile).
 */
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  selfMs: number;
  share: number;
}

const shortUrl = (url: string): string => {
  if (url === '') return '';
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('node_modules/');
  if (modules !== -1) return clean.slice(modules + 'node_modules/'.length);
  const dist = clean.lastIndexOf('/dist/');
  if (dist !== -1) return clean.slice(dist + '/dist/'.length);
  return clean.replace(/^node:/, 'node:');
};

/** Self time by function and by file for one profile. */
export const summarize = (profile: Profile): { total: number; functions: Row[]; files: Row[] } => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = Math.max(0, profile.timeDeltas[index] ?? 0) / 1000;
    selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
    total += delta;
  });
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, ms] of selfTime) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = shortUrl(frame.url);
    const name = `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const fileKey = file || frame.functionName;
    files.set(fileKey, (files.get(fileKey) ?? 0) + ms);
  }
  const rows = (map: Map<string, number>): Row[] =>
    [...map].map(([name, selfMs]) => ({ name, selfMs, share: selfMs / total })).sort((a, b) => b.selfMs - a.selfMs);
  return { total, functions: rows(functions), files: rows(files) };
};

const print = (file: string, top: number): void => {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const { total, functions, files } = summarize(profile);
  const busy = functions.filter((row) => row.name !== '(idle)').reduce((sum, row) => sum + row.selfMs, 0);
  console.log(`\n${path.basename(file)}: ${(total / 1000).toFixed(1)} s sampled, ${((busy / total) * 100).toFixed(0)}% not idle`);
  console.log('  self %   self ms  function');
  for (const row of functions.slice(0, top)) {
    console.log(`  ${(row.share * 100).toFixed(1).padStart(6)} ${row.selfMs.toFixed(0).padStart(9)}  ${row.name}`);
  }
  console.log('  by file:');
  for (const row of files.slice(0, Math.ceil(top / 2))) {
    console.log(`  ${(row.share * 100).toFixed(1).padStart(6)} ${row.selfMs.toFixed(0).padStart(9)}  ${row.name}`);
  }
};

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt === -1 ? 25 : Number(args[topAt + 1]);
  const target = args.find((arg, i) => !arg.startsWith('--') && (topAt === -1 || i !== topAt + 1));
  if (!target) {
    console.error('usage: profile-summary.js <file.cpuprofile | dir> [--top N]');
    process.exit(2);
  }
  const files = fs.statSync(target).isDirectory()
    ? fs.readdirSync(target).filter((name) => name.endsWith('.cpuprofile')).sort().map((name) => path.join(target, name))
    : [target];
  for (const file of files) print(file, top);
}
