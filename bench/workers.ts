/**
 * `tjstp serve --workers 2` against one process, both with sessions in
 * Redis: calls/s with 256 in flight spread over 16 connections (one
 * connection lands on one worker, so a single one cannot show workers).
 * `node dist/bench/workers.js [--trials N] [--window MS]`, or
 * `npm run bench:workers`. Needs redis-server. On a machine with fewer
 * cores than workers plus the client, workers compete with the client and
 * with each other: the ratio then says so, not what workers can do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedis } from '../test/helpers/redis';
import { Child, cliOption, median } from './common';
import type { RpcResult } from './client-process';

const BIN = path.join(__dirname, '..', 'bin', 'tjstp.js');

/** testApp with calc.add, as every bench client calls it. */
const writeApplication = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-workers-'));
  const api = path.join(dir, 'testApp', 'api', 'calc');
  fs.mkdirSync(api, { recursive: true });
  fs.writeFileSync(path.join(dir, 'testApp', 'application.json'), '{"name":"testApp","version":"1.0.0"}');
  fs.writeFileSync(path.join(api, 'add.js'), 'module.exports = (context, a, b) => a + b;');
  return dir;
};

const serve = (args: string[]): Promise<{ child: ChildProcess; port: number }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening tcp:\/\/[^:]+:(\d+)/.exec(output);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`tjstp serve exited (${code}): ${output}`)));
  });

const stop = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
};

const main = async (): Promise<void> => {
  const argv = process.argv.slice(2);
  const trials = Number(cliOption(argv, '--trials') ?? 3);
  const windowMs = Number(cliOption(argv, '--window') ?? 2000);
  const redis = await startRedis();
  const dir = writeApplication();
  const rates: Record<string, number[]> = { 1: [], 2: [] };
  try {
    for (let trial = 0; trial < trials; trial++) {
      for (const workers of [1, 2]) {
        const { child, port } = await serve([
          '--applications', dir, '--tcp', '0', '--no-watch', '--redis', `${redis.url}/${trial}`, '--heartbeat-interval', '0',
          '--new-sessions-per-second', '0', '--max-sessions-per-address', '0', '--output-bytes-per-second', '0',
          ...(workers > 1 ? ['--workers', String(workers)] : []),
        ]);
        const client = new Child('client-process', ['tjstp-tcp', String(port)]);
        await client.ready;
        await client.request('connect', { count: 16, concurrency: 16 });
        const result = await client.request<RpcResult>('rpc', { inflight: 256, warmMs: 500, windowMs, spread: true }, windowMs + 30_000);
        rates[workers]!.push(result.rate);
        console.log(`  [workers ${trial + 1}/${trials}] ${workers} process(es): ${Math.round(result.rate).toLocaleString('en-US')} calls/s (client CPU ${(result.cpu * 100).toFixed(0)}%)`);
        await client.stop();
        await stop(child);
      }
    }
  } finally {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const one = median(rates[1]!);
  const two = median(rates[2]!);
  console.log(`calls/s @256 over 16 connections: 1 process ${Math.round(one).toLocaleString('en-US')}, --workers 2 ${Math.round(two).toLocaleString('en-US')}: ${(two / one).toFixed(2)}× (target ≥ 1.5× where the machine has the cores; this one has ${os.availableParallelism()})`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
