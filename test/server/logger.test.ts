/**
 * Loggers from the ecosystem, passed as `logger` as they are: pino and
 * `console` must both get the error a method failed with, not only a
 * message (pino reads `error(err, msg)` and drops arguments after the
 * message).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../lib/index';
import { waitFor } from '../helpers/fixtures';
import { makeApps, serve } from './loader-fixtures';

/** A stream keeping what is written to it, line by line. */
const capture = (): { stream: Writable; lines: string[] } => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { stream, lines };
};

const failingApp = (): string =>
  makeApps({
    'app/api/a/broken.ts': "export default () => { throw new TypeError('broken in the method'); };\n",
    'app/api/a/text.js': "module.exports = () => { throw 'a thrown string'; };\n",
  });

/** Calls `a.broken` and `a.text` with a server logging to `logger`; both answer 16. */
const failTwice = async (logger: Logger, logged: () => number): Promise<void> => {
  const served = await serve(failingApp(), { server: { logger } });
  try {
    const client = await served.connect({ app: 'app' });
    for (const method of ['broken', 'text']) {
      await assert.rejects(client.call('a', method), (error: { code?: number }) => error.code === 16);
    }
    await waitFor(() => logged() >= 2, 2000, 'two failures logged');
  } finally {
    await served.close();
  }
};

describe('loggers as they are', () => {
  it('pino: the failure is a JSON line with msg, err (message, stack, type), app and session; a thrown non-Error is err itself', async () => {
    const { stream, lines } = capture();
    const logger = pino({}, stream);
    await failTwice(logger, () => lines.length);
    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg?: string; err?: { message?: string; stack?: string; type?: string } | string });
    const broken = entries.find((entry) => /a\.broken failed/.test(entry.msg ?? ''));
    assert.ok(broken, lines.join('\n'));
    assert.equal(broken.level, 50);
    assert.match(broken.msg ?? '', /app@1\.0\.0 a\.broken failed: TypeError: broken in the method/);
    assert.ok(typeof broken.err === 'object');
    assert.equal(broken.err.message, 'broken in the method');
    assert.equal(broken.err.type, 'TypeError');
    assert.match(broken.err.stack ?? '', /^TypeError: broken in the method\n\s+at .*broken\.ts:1:/);
    // Through pino's child(): what the line is about, as fields (a label, never the session id).
    const fields = broken as { app?: string; session?: string };
    assert.equal(fields.app, 'app@1.0.0');
    assert.match(fields.session ?? '', /^s:\S{10}$/);
    assert.ok((broken.msg ?? '').startsWith(`${fields.session}: `));
    const text = entries.find((entry) => /a\.text failed/.test(entry.msg ?? ''));
    assert.equal(text?.err, 'a thrown string', lines.join('\n'));
  });

  it('console (a Console on a stream): the stack, then the message', async () => {
    const { stream, lines } = capture();
    await failTwice(new Console({ stdout: stream, stderr: stream }), () => lines.filter((line) => / failed: /.test(line)).length);
    const output = lines.join('\n');
    assert.match(output, /^TypeError: broken in the method\n\s+at .*broken\.ts:1:[^]* app@1\.0\.0 a\.broken failed: TypeError: broken in the method$/m);
    assert.match(output, /^\{ err: 'a thrown string' \} .*app@1\.0\.0 a\.text failed: a thrown string$/m);
  });

  it('a console-like object gets the Error object first and the message second', async () => {
    const calls: unknown[][] = [];
    const logger = { info() {}, warn() {}, error: (...args: unknown[]): void => void calls.push(args) };
    await failTwice(logger, () => calls.length);
    const [thrown, message] = calls.find(([, text]) => /a\.broken/.test(String(text))) ?? [];
    assert.ok(thrown instanceof Error);
    assert.equal(thrown.message, 'broken in the method');
    assert.match(String(message), /app@1\.0\.0 a\.broken failed/);
  });
});
