/**
 * The benchmark harness end to end, in its smoke mode: every system's
 * server and client processes start, every phase runs and reports, and the
 * resume storm loses nothing. The figures themselves are not checked here:
 * speed is measured by `npm run bench`, never in tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Results } from '../../bench/report';
import { redisMissing } from '../helpers/redis';
import { readResults, runScript } from '../helpers/script';

const runner = path.join(__dirname, '../../bench/run.js');

describe('npm run bench', () => {
  it('runs every system and phase in smoke mode and writes its results', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-bench-'));
    try {
      const { code, stdout, stderr } = await runScript(runner, ['--smoke', '--out', out], 120_000);
      assert.equal(code, 0, `the run failed:\n${stderr}\n${stdout.slice(-2000)}`);
      const results = readResults<Results>(out);
      const systems = results.config.systems;
      // The Redis system runs where redis-server is installed (always under .ci/run).
      const redis = redisMissing() === false;
      assert.equal(systems.length, redis ? 9 : 8, 'raw net, raw ws, jstp TCP and WS, socket.io, tjstp TCP and WS, tjstp TCP with metrics (and over Redis)');
      assert.ok(systems.includes('tjstp-metrics-tcp'), 'metrics on');
      for (const system of systems) {
        for (const inflight of [1, 16, 256]) {
          const trials = results.rpc?.[system]?.[inflight] ?? [];
          assert.ok(trials.length > 0 && trials.every((t) => t.rate > 0 && t.wrong === 0), `${system} @${inflight}: ${JSON.stringify(trials)}`);
        }
        assert.ok((results.fanout?.[system] ?? []).every((t) => t.rate > 0), `${system} fan-out`);
      }
      assert.ok(Number.isFinite(results.idle?.['tjstp-tcp']?.rssPerConnection), 'idle memory measured');
      assert.deepEqual(results.storm?.map((t) => t.transport), ['tcp', 'ws']);
      for (const storm of results.storm ?? []) {
        assert.equal(storm.resumed, storm.clients, `${storm.transport}: every session resumed`);
        assert.equal(storm.callsAnswered, storm.clients, `${storm.transport}: every call answered`);
        assert.equal(storm.ticksMissing + storm.duplicates + storm.gaps + storm.wrongResults + storm.failedCalls + storm.sessionsLost, 0, JSON.stringify(storm));
        assert.ok(storm.rawOpenMs > 0, `${storm.transport}: the raw floor was measured`);
      }
      if (redis) {
        const storm = results.cluster?.storm;
        assert.ok(storm !== undefined && storm.resumed === storm.clients, 'the cluster storm: every session resumed on the other node');
        assert.equal(storm.ticksMissing + storm.duplicates + storm.gaps + storm.sessionsLost, 0, JSON.stringify(storm));
        assert.ok((results.cluster?.otherNodeResumeP50Ms ?? 0) > 0, 'resumes across nodes measured');
      }
      assert.ok((results.codec?.parse.length ?? 0) > 0, 'the record-syntax path measured');
      assert.match(stdout, /## Targets \(issue 5\)/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
