/**
 * The soak harness end to end, in its smoke mode: the memory attack
 * against a real `tjstp serve`, the fuzz against its child server with
 * honest clients, and the chaos test at a small scale all run, write their
 * results, and their correctness counters are zero. The figures (memory,
 * latency) are not checked here: `npm run soak` measures them at full
 * size, tests never judge speed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SoakResults } from '../../bench/soak/report';
import { readResults, runScript } from '../helpers/script';

const runner = path.join(__dirname, '../../bench/soak/run.js');

describe('npm run soak', () => {
  it('runs the attack, the fuzz and the chaos parts in smoke mode and writes their results', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-soak-'));
    try {
      const { code, stdout, stderr } = await runScript(runner, ['--smoke', '--out', out], 150_000);
      assert.equal(code, 0, `the run failed:\n${stderr}\n${stdout.slice(-3000)}`);
      const results = readResults<SoakResults>(out);
      const { attack, fuzz, chaos } = results;
      assert.ok(attack && fuzz && chaos, 'every part ran');

      for (const check of [...attack.checks, ...fuzz.checks, ...chaos.checks]) {
        if (check.kind === 'correctness') assert.ok(check.ok, `${check.name}: ${check.detail}`);
      }
      assert.ok(attack.server.alive, 'the attacked server stayed up');
      assert.ok(attack.honest.before.count > 0 && attack.honest.during.count > 0, 'honest calls before and during the attack');
      assert.deepEqual([attack.honest.failures.length, attack.honest.hung, attack.honest.sessionsLost], [0, 0, 0]);
      assert.ok(attack.attack.sessionsOpened > 0 && attack.attack.calls > 0, 'the attackers opened sessions and called');
      assert.ok(Number.isFinite(attack.rss.peak) && attack.rss.peak > 0, 'RSS read from /proc');

      assert.equal(fuzz.inputsSent, fuzz.config.inputs);
      assert.equal(fuzz.crash, undefined, 'the fuzz server never exited');
      assert.ok(fuzz.honest.calls > 0);
      assert.deepEqual([fuzz.honest.failures.length, fuzz.honest.hung, fuzz.honest.sessionsLost], [0, 0, 0]);
      assert.deepEqual(fuzz.problems, [], 'every input answered or its connection closed');

      assert.deepEqual(chaos.transports.map((t) => t.transport), ['tcp', 'ws']);
      for (const t of chaos.transports) {
        assert.ok(t.calls > 0 && t.drops > 0, `${t.transport}: calls through a proxy that drops connections`);
        assert.deepEqual([t.lost, t.duplicated, t.eventStreamsWrong], [0, 0, 0], t.transport);
      }
      assert.match(stdout, /attack: peak RSS/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
