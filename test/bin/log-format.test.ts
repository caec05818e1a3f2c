/**
 * `tjstp serve --log-format json`: every line the server writes, on start,
 * for a failing method, a refused restore, a failed reload and on the way
 * down, is one JSON object on stderr with level, time and msg, and the
 * fields of what it is about; a session's id never appears, only its
 * label.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, type Client } from '../../lib/index';
import { openTcp } from '../helpers/raw';
import { startServe } from '../helpers/serve-child';
import { makeApps } from '../server/loader-fixtures';

interface Line {
  level: string;
  time: string;
  msg: string;
  app?: string;
  session?: string;
  reason?: string;
  error?: { message: string; stack?: string };
}

const parseLines = (text: string): Line[] =>
  text.split('\n').filter((line) => line !== '').map((line) => {
    let entry: Line;
    try {
      entry = JSON.parse(line) as Line;
    } catch {
      throw new assert.AssertionError({ message: `not a JSON line: ${line}` });
    }
    assert.ok(['info', 'warn', 'error'].includes(entry.level), line);
    assert.ok(!Number.isNaN(Date.parse(entry.time)) && entry.time.endsWith('Z'), line);
    assert.equal(typeof entry.msg, 'string', line);
    return entry;
  });

describe('tjstp serve --log-format json', () => {
  it('writes only JSON lines, all on stderr, with app, session label, reason and error, never a session id', async () => {
    const dir = makeApps({
      'app/application.json': '{ "name": "app" }\n',
      'app/api/a/broken.ts': "export default () => { throw new TypeError('broken in the method'); };\n",
      'app/api/a/ok.ts': 'export default () => 1;\n',
    });
    const sessionFile = path.join(dir, 'sessions.json');
    const server = await startServe(['--applications', dir, '--tcp', '0', '--log-format', 'json', '--session-file', sessionFile], 1);
    let stdout = '';
    let stderr = '';
    server.child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    server.child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let client: Client | undefined;
    let id = '';
    try {
      const url = server.urls[0] as string;
      client = await connect(url, { app: 'app', reconnect: false });
      id = client.session?.id ?? '';
      assert.ok(id.length > 10, 'the client has a session id');
      assert.equal(await client.call('a', 'ok'), 1);
      await assert.rejects(client.call('a', 'broken'), (error: { code?: number }) => error.code === 16);
      await server.printed(/a\.broken failed/);
      // Someone with the id but not the key: a restore by id alone is refused, and logged with the label only.
      const raw = await openTcp(Number(new URL(url).port));
      raw.send(JSON.stringify({ handshake: [0, 'app'], session: [id, 1] }));
      await raw.waitClose();
      await server.printed(/refused a restore/);
      // A reload that does not load: the previous version keeps serving.
      fs.writeFileSync(path.join(dir, 'app', 'api', 'a', 'ok.ts'), 'export default () => {;\n');
      await server.printed(/reload of app@1\.0\.0 failed/);
      // Closed by its client, the session ends: nothing is left to save.
      client.close();
    } finally {
      client?.close();
      server.child.kill('SIGTERM');
      await server.exited;
    }
    // Lines printed before the listeners were up came before these listeners: take the whole output.
    const all = server.output();
    assert.equal(stdout, '', 'nothing on stdout');
    const lines = parseLines(all);
    assert.equal(all.split('\n').filter((line) => line !== '').length, lines.length);
    assert.ok(!all.includes(id), `the session id appears in the log:\n${all}`);
    assert.ok(stderr.length > 0);
    const messages = lines.map((line) => line.msg);
    for (const expected of [/^serving app@1\.0\.0$/, /^listening tcp:\/\/127\.0\.0\.1:\d+$/, /^SIGTERM: finishing calls/, /^saved 0 session\(s\) to /]) {
      assert.ok(messages.some((msg) => expected.test(msg)), `${expected} in ${messages.join(' | ')}`);
    }
    const failed = lines.find((line) => /a\.broken failed/.test(line.msg));
    assert.ok(failed, all);
    assert.equal(failed.level, 'error');
    assert.equal(failed.app, 'app@1.0.0');
    assert.match(failed.session ?? '', /^s:\S{10}$/);
    assert.ok(failed.msg.startsWith(`${failed.session}: `), 'the text names the same label');
    assert.equal(failed.error?.message, 'broken in the method');
    assert.match(failed.error?.stack ?? '', /^TypeError: broken in the method\n\s+at /);
    const refused = lines.find((line) => /refused a restore/.test(line.msg));
    assert.ok(refused, all);
    assert.equal(refused.level, 'warn');
    assert.equal(refused.session, failed.session, 'the same session, by its label');
    assert.equal(refused.reason, 'proof');
    assert.equal(refused.app, 'app@1.0.0');
    const reload = lines.find((line) => /reload of app@1\.0\.0 failed/.test(line.msg));
    assert.equal(reload?.level, 'error');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a format it does not know, naming the choices (exit 2)', async () => {
    const server = startServe(['--log-format', 'yaml'], 1);
    await assert.rejects(server, /exited with 2: .*--log-format: expected text or json, got "yaml"/s);
  });
});
