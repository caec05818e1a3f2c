/**
 * `tjstp connect` in script mode, as a child process talking to a real
 * server: statements from a pipe or --eval, one JSON line per statement,
 * the exit code, login, events, --verbose, a drop and an expiry.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, silentLogger } from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { makeCertificate } from '../helpers/certificate';
import { startServer, type Fixture } from '../helpers/fixtures';
import { runCli, secretPassword } from './cli';

describe('tjstp connect, script mode', () => {
  let fixture: Fixture;
  let expiring: Fixture;

  before(async () => {
    fixture = await startServer({ authenticate: secretPassword });
    expiring = await startServer({ session: { holdTime: 50 } });
  });

  after(async () => {
    await fixture.close();
    await expiring.close();
  });

  it('runs statements from a pipe: one JSON line each, exit code 1 when one failed', async () => {
    const input = [
      'calc.add(1, 2)',
      'calc.nope()',
      'calc.add(1 2)',
      '# a comment, and a blank line: no output',
      '',
      "calc.echo({ room: 'x', tags: ['a', \"b\"], n: -1.5 }); counter.increment() // two statements",
      'fail.remote()',
      'call calc add 20, 22',
      'calc.nothing() // returns nothing: ok, no value',
    ].join('\n');
    const run = await runCli([fixture.url.tcp, 'testApp'], { input });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(run.json, [
      { ok: 3 },
      { error: { code: 14, message: 'Method not found' } },
      { error: { code: 'syntax', message: 'Unexpected character "2" in the arguments' } },
      { ok: { room: 'x', tags: ['a', 'b'], n: -1.5 } },
      { ok: 1 },
      { error: { code: 1001, message: 'Custom failure', info: [{ field: 'x' }] } },
      { ok: 42 },
      { ok: null },
    ]);
  });

  it('runs --eval statements (repeatable, ; separated) and exits 0 when all succeed', async () => {
    const run = await runCli([fixture.url.ws, 'testApp', '--eval', 'calc.add(1, 2)', '-e', 'counter.increment(); counter.increment()']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.json, [{ ok: 3 }, { ok: 1 }, { ok: 2 }]);
    assert.equal(run.stderr, '');
  });

  it('prints events as JSON lines with --events, and describes interfaces', async () => {
    const run = await runCli([fixture.url.tcp, 'testApp', '--events', '-e', "events.start('s', 2, 0)", '-e', '.describe calc', '-e', 'calc.add?']);
    assert.equal(run.code, 0, run.stderr);
    const [tick0, tick1, started, calc, add] = run.json as [unknown, unknown, unknown, Record<string, Record<string, unknown>>, unknown];
    assert.deepEqual([tick0, tick1, started], [
      { event: { iface: 'events', name: 'tick', args: ['s', 0] } },
      { event: { iface: 'events', name: 'tick', args: ['s', 1] } },
      { ok: 2 },
    ]);
    const methods = (calc as { ok: Record<string, Record<string, unknown>> }).ok.calc ?? {};
    assert.deepEqual(Object.keys(methods).sort(), ['add', 'echo', 'nothing', 'slowEcho']);
    assert.deepEqual(Object.keys((add as { ok: Record<string, unknown> }).ok), ['calc']);
  });

  it('logs in with --password-env or the first line of stdin; a wrong password exits 3', async () => {
    const fromEnv = await runCli([fixture.url.tcp, 'testApp', '--login', 'ann', '--password-env', 'PW', '-e', 'events.whoami()'], { env: { PW: 'secret' } });
    assert.deepEqual([fromEnv.code, fromEnv.json], [0, [{ ok: 'ann' }]]);
    const fromStdin = await runCli([fixture.url.tcp, 'testApp', '--login', 'bob'], { input: 'secret\nevents.whoami()\n' });
    assert.deepEqual([fromStdin.code, fromStdin.json], [0, [{ ok: 'bob' }]]);
    const refused = await runCli([fixture.url.tcp, 'testApp', '--login', 'bob'], { input: 'wrong\ncalc.add(1, 1)\n' });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /cannot connect to .*: Error 11: Authentication failed/);
    assert.deepEqual(refused.json, []);
  });

  it('shows the packets with --verbose on stderr, credentials and session id hidden', async () => {
    const run = await runCli([fixture.url.tcp, 'testApp', '--login', 'ann', '--password-env', 'PW', '-v', '-e', 'calc.add(1, 2)'], { env: { PW: 'secret' } });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.json, [{ ok: 3 }]);
    const lines = run.stderr.split('\n');
    assert.ok(lines.includes('→ {"handshake":[0,"testApp"],"login":["ann","***"],"tjstp":{"version":1}}'), run.stderr);
    assert.ok(lines.some((line) => /^← \{"handshake":\[0\],"ok":"[^"]{4}…","tjstp":\{.*"key":"\*\*\*","user":"ann"\}\}$/.test(line)), run.stderr);
    assert.ok(lines.includes('→ {"call":[1,"calc"],"add":[1,2]}'), run.stderr);
    assert.ok(lines.includes('← {"callback":[1,-1],"ok":[3]}'), run.stderr);
    assert.doesNotMatch(run.stderr, /secret/);
  });

  it('.drop keeps the network down its time, then resumes at once; calls made meanwhile are queued and answered', async () => {
    // 1800 ms falls where the backoff's attempts are sparse: without the
    // resume at the drop's end, it would come 0.1 to 2 s later.
    const ms = 1800;
    const run = await runCli([fixture.url.tcp, 'testApp', '-e', `counter.increment(); .drop ${ms}; counter.increment(); .session`]);
    assert.equal(run.code, 0, run.stderr);
    const [first, dropped, second, session] = run.json as [unknown, unknown, unknown, { ok: Record<string, unknown> }];
    assert.deepEqual([first, dropped, second], [{ ok: 1 }, { ok: { dropped: true, downMs: ms } }, { ok: 2 }]);
    const resume = session.ok.lastResume as { resumed: boolean; replayed: number; serverReplayed: number; offlineMs: number };
    assert.deepEqual([resume.resumed, resume.replayed, resume.serverReplayed], [true, 1, 0], 'the call made offline was sent on the resume');
    assert.ok(resume.offlineMs >= ms - 50 && resume.offlineMs < ms + 400, `resumed after ${resume.offlineMs} ms offline`);
    assert.equal(session.ok.resumes, 1);
    assert.equal(session.ok.state, 'ready');
    assert.match(String(session.ok.id), /^.{4}…$/);
    assert.deepEqual([session.ok.lastSeq, session.ok.received], [2, 2]);
    assert.equal(session.ok.bound, true, 'a tjstp session proves its key');
    assert.equal(session.ok.user, null);
    assert.doesNotMatch(run.stdout, /[0-9a-f]{64}/, 'the key is never shown');
    assert.match(run.stderr, /dropped the connection on purpose; the network stays down for 1\.8 s/);
    assert.match(run.stderr, /resumed session .{4}… after [\d.]+ m?s offline: replayed 1 by us, 0 by the server/);
  });

  it('reports an expired session: a call made offline fails with 26, the next one runs in a new session', async () => {
    const run = await runCli([expiring.url.tcp, 'testApp', '-e', 'counter.increment(); .drop 150; counter.increment(); counter.increment()']);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(run.json, [
      { ok: 1 },
      { ok: { dropped: true, downMs: 150 } },
      { error: { code: 26, message: 'Session expired', reason: 'expired' } },
      { ok: 1 },
    ], 'the new session starts from a fresh state');
    assert.match(run.stderr, /session lost \(expired\)/);
    assert.match(run.stderr, /new session .{4}… \(the old one was lost: expired\)/);
  });

  it('.reconnect moves the session to another URL, here from TCP to WebSocket', async () => {
    const run = await runCli([fixture.url.tcp, 'testApp', '-e', `counter.increment(); .reconnect ${fixture.url.ws}; counter.increment(); .session`]);
    assert.equal(run.code, 0, run.stderr);
    const [first, moved, second, session] = run.json as [unknown, { ok: Record<string, unknown> }, unknown, { ok: Record<string, unknown> }];
    assert.deepEqual([first, moved.ok.resumed, second, session.ok.url], [{ ok: 1 }, true, { ok: 2 }, fixture.url.ws]);
    assert.match(run.stderr, new RegExp(`reconnecting now, to ${fixture.url.ws}`));
  });

  it('connects over TLS, trusting a CA from --ca, or any certificate with --insecure', async (t) => {
    const certificate = makeCertificate();
    if (!certificate) {
      t.skip('openssl is not installed');
      return;
    }
    const server = new Server({ applications: [createTestApp().definition], logger: silentLogger });
    const [listener] = await server.listen({ tls: { port: 0, tls: certificate } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-ca-'));
    try {
      const ca = path.join(dir, 'ca.pem');
      fs.writeFileSync(ca, certificate.cert);
      const url = listener?.url ?? '';
      const trusted = await runCli([url, 'testApp', '--ca', ca, '-e', 'calc.add(1, 2)']);
      assert.deepEqual([trusted.code, trusted.json], [0, [{ ok: 3 }]], trusted.stderr);
      const insecure = await runCli([url, 'testApp', '--insecure', '-e', 'calc.add(2, 2)']);
      assert.deepEqual([insecure.code, insecure.json], [0, [{ ok: 4 }]], insecure.stderr);
      const refused = await runCli([url, 'testApp', '-e', 'calc.add(1, 2)']);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, /self[- ]signed certificate/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await server.close();
    }
  });

  it('exits 2 on bad usage and 3 when the server cannot be reached', async () => {
    const usage = await runCli([fixture.url.tcp]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected URL and APP/);
    const scheme = await runCli(['http://127.0.0.1:1', 'testApp', '-e', 'calc.add(1, 2)']);
    assert.equal(scheme.code, 2);
    assert.match(scheme.stderr, /Unsupported URL scheme "http"/);
    const app = await runCli([fixture.url.tcp, 'noSuchApp', '-e', 'calc.add(1, 2)']);
    assert.equal(app.code, 3);
    assert.match(app.stderr, /Error 10: Application not found/);
    const closed = await runCli(['tcp://127.0.0.1:1', 'testApp', '-e', 'calc.add(1, 2)']);
    assert.equal(closed.code, 3);
    assert.match(closed.stderr, /ECONNREFUSED/);
  });
});
