/**
 * `jsonLogger`: each call one JSON line; the forms pino takes (an Error
 * first, `{ err }`, a fields object first) and `child` fields land as
 * fields; a server logging through it gives a failing method's line the
 * application and the session's label.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonLogger } from '../../lib/index';
import { logError, withFields } from '../../lib/server/options';
import { connect } from '../../lib/index';
import { startServer, waitFor } from '../helpers/fixtures';
import { makeApps, serve } from './loader-fixtures';

const recording = (): { lines: Record<string, unknown>[]; write: (line: string) => void } => {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
};

describe('jsonLogger', () => {
  it('writes level, time, msg, then fields and the error', () => {
    const { lines, write } = recording();
    const logger = jsonLogger(write, { worker: 7 });
    logger.info('up');
    logger.warn({ user: 'ann' }, 'slow');
    const error = Object.assign(new RangeError('too far'), { code: 'E_FAR' });
    logger.error(error, 'failed');
    logError(logger, 'threw a string', 'plain');
    withFields(logger, { app: 'a@1.0.0', session: 's:abc', reason: 'proof' }).error('refused');
    logger.error({ err: error, app: 'b@2.0.0' }, 'pino form');
    assert.deepEqual(lines.map((line) => Object.keys(line).slice(0, 3)), Array(6).fill(['level', 'time', 'msg']));
    assert.deepEqual(lines.map((line) => [line.level, line.msg, line.worker]), [
      ['info', 'up', 7], ['warn', 'slow', 7], ['error', 'failed', 7], ['error', 'threw a string', 7], ['error', 'refused', 7], ['error', 'pino form', 7],
    ]);
    assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(lines[1]?.user, 'ann');
    const logged = lines[2]?.error as { message: string; name: string; code: string; stack: string };
    assert.deepEqual([logged.message, logged.name, logged.code], ['too far', 'RangeError', 'E_FAR']);
    assert.match(logged.stack, /^RangeError: too far\n\s+at /);
    assert.deepEqual(lines[3]?.error, { message: 'plain' });
    assert.deepEqual([lines[4]?.app, lines[4]?.session, lines[4]?.reason, lines[4]?.error], ['a@1.0.0', 's:abc', 'proof', undefined]);
    assert.equal(lines[5]?.app, 'b@2.0.0');
    assert.equal((lines[5]?.error as { code: string }).code, 'E_FAR');
  });

  it('a field cannot replace level, time or msg, and a field that is not JSON does not lose the line', () => {
    const { lines, write } = recording();
    const logger = jsonLogger(write);
    logger.info({ level: 'fatal', msg: 'forged' }, 'real');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.warn({ cycle }, 'still here');
    assert.deepEqual([lines[0]?.level, lines[0]?.msg], ['info', 'real']);
    assert.deepEqual([lines[1]?.level, lines[1]?.msg, lines[1]?.cycle], ['warn', 'still here', undefined]);
  });

  it('as a server logger: a failing method is logged with its application and the session label, not the id', async () => {
    const { lines, write } = recording();
    const dir = makeApps({ 'app/api/a/broken.ts': "export default () => { throw new TypeError('broken'); };\n" });
    const served = await serve(dir, { server: { logger: jsonLogger(write) } });
    try {
      const client = await served.connect({ app: 'app' });
      const id = client.session?.id ?? '';
      await assert.rejects(client.call('a', 'broken'), (error: { code?: number }) => error.code === 16);
      await waitFor(() => lines.length > 0, 2000, 'a line');
      const [line] = lines;
      assert.equal(line?.app, 'app@1.0.0');
      assert.match(String(line?.session), /^s:/);
      assert.equal((line?.error as { message: string }).message, 'broken');
      assert.ok(id !== '' && !JSON.stringify(lines).includes(id));
    } finally {
      await served.close();
    }
  });
});

describe('session ends in the log', () => {
  it("an expired session's end is an info line with its app, label and reason; a closed one is not logged", async () => {
    const { lines, write } = recording();
    const fixture = await startServer({ logger: jsonLogger(write), session: { holdTime: 100 } });
    try {
      const leaving = await connect(fixture.url.tcp, { app: 'testApp', reconnect: false });
      const id = leaving.session?.id as string;
      leaving.close();
      const vanishing = await connect(fixture.url.tcp, { app: 'testApp', reconnect: false });
      const vanishedId = vanishing.session?.id as string;
      // The connection dies without a goodbye: the session is held, then expires.
      vanishing.reconnect(() => Promise.reject(new Error('gone')));
      await waitFor(() => lines.some((line) => line.reason === 'expired'), 5000, 'the expiry logged');
      const ended = lines.filter((line) => typeof line.msg === 'string' && line.msg.includes('ended'));
      assert.equal(ended.length, 1, JSON.stringify(ended));
      assert.deepEqual([ended[0]?.level, ended[0]?.app, ended[0]?.reason], ['info', 'testApp@1.0.0', 'expired']);
      assert.match(String(ended[0]?.session), /^s:/);
      const text = JSON.stringify(lines);
      assert.ok(!text.includes(id) && !text.includes(vanishedId), 'no session id in the log');
    } finally {
      await fixture.close();
    }
  });
});
