/**
 * Repeated failures do not fill the log: per method or event handler, the
 * first few failures of each interval are logged in full and the rest are
 * counted into one summary line. Event handler failures carry their cause.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Application, ApplicationFailure, FailureLog, Server, connect, type Logger, type SessionContext } from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { fastReconnect, waitFor } from '../helpers/fixtures';
import { makeApps, serve } from './loader-fixtures';
import { readErrorArguments } from '../../lib/server/options';

interface Line {
  message: string;
  error: unknown;
}

const recordingLogger = (): Logger & { lines: Line[] } => {
  const lines: Line[] = [];
  const push = (message: string, error?: unknown): void => {
    lines.push({ message, error });
  };
  const error = (first: string | object, second?: string): void => {
    const { message, thrown } = readErrorArguments(first, second);
    push(message, thrown);
  };
  return { info: push, warn: push, error, lines };
};

const summary = /^(\d+) more failures? of (.+) in the last (\d+ (?:ms|s)); last: (.*)$/;

/** The failures each summary line counts, by source. */
const summarised = (lines: readonly Line[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const { message } of lines) {
    const match = summary.exec(message);
    if (match) counts.set(match[2] as string, (counts.get(match[2] as string) ?? 0) + Number(match[1]));
  }
  return counts;
};

describe('failure log', () => {
  it('logs 1,000 failing calls in a bounded number of lines, with summaries that count the rest', async () => {
    const logger = recordingLogger();
    const burst = 3;
    const interval = 1000;
    const server = new Server({ applications: [createTestApp().definition], logger, failureLog: { burst, interval } });
    const [tcp] = await server.listen({ tcp: 0 });
    const client = await connect(tcp?.url as string, { app: 'testApp', reconnect: fastReconnect });
    try {
      const started = Date.now();
      const codes: number[] = [];
      for (let batch = 0; batch < 10; batch++) {
        const calls = Array.from({ length: 100 }, (_, i) => client.call('fail', i % 2 === 0 ? 'throws' : 'rejects'));
        for (const outcome of await Promise.allSettled(calls)) {
          codes.push(outcome.status === 'rejected' ? (outcome.reason as { code: number }).code : 0);
        }
      }
      const elapsed = Date.now() - started;
      assert.equal(codes.length, 1000);
      assert.ok(codes.every((code) => code === 16), 'every call answered [16]');
      const full = (source: string): Line[] => logger.lines.filter(({ message }) => message.includes(`${source} failed`));
      const sources = ['testApp@1.0.0 fail.throws', 'testApp@1.0.0 fail.rejects'];
      // Every failure is either logged in full or counted in a summary, once the interval ends.
      await waitFor(() => sources.every((source) => full(source).length + (summarised(logger.lines).get(source) ?? 0) === 500), 5000, 'the summaries');
      // Each interval the calls spanned, each source: a burst and a summary line at most.
      const windows = Math.ceil(elapsed / interval) + 2;
      assert.ok(logger.lines.length <= sources.length * windows * (burst + 1), `${logger.lines.length} lines for ${windows} intervals`);
      const [first] = full('testApp@1.0.0 fail.throws');
      assert.match(first?.message ?? '', /^s:\S+: testApp@1\.0\.0 fail\.throws failed: Error: boom$/);
      assert.ok(first?.error instanceof Error && first.error.message === 'boom', 'what was thrown is logged, with its stack');
      const line = logger.lines.find(({ message }) => summary.test(message));
      assert.match(line?.message ?? '', /of testApp@1\.0\.0 fail\.(throws|rejects) in the last 1 s; last: Error: (async )?boom$/);
    } finally {
      client.close();
      await server.close();
    }
  });

  it("logs an event handler's failure with its cause, and summarises repeated ones", async () => {
    const root = makeApps({
      'chat/api/rooms/ping.js': "module.exports = () => 'pong';\n",
      'chat/events/rooms/broken.js': "module.exports = () => { throw new TypeError('handler broke'); };\n",
    });
    const logger = recordingLogger();
    const burst = 2;
    const interval = 1000;
    const served = await serve(root, { server: { logger, failureLog: { burst, interval } } });
    try {
      await served.loaded.start(served.server);
      const client = await served.connect({ app: 'chat' });
      const started = Date.now();
      for (let i = 0; i < 200; i++) client.sendEvent('rooms', 'broken', i);
      assert.equal(await client.call('rooms', 'ping'), 'pong', 'events before the call were handled');
      const windows = Math.ceil((Date.now() - started) / interval) + 2;
      const source = 'chat@1.0.0 event rooms.broken';
      await waitFor(() => served.errors.length + (summarised(logger.lines).get(source) ?? 0) === 200, 5000, 'every failure logged or counted');
      assert.ok(served.errors.length >= burst && served.errors.length <= burst * windows, `${served.errors.length} logged in full`);
      const [failure] = served.errors;
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.message, 'chat@1.0.0 event rooms.broken failed: TypeError: handler broke');
      assert.equal(failure.source, source);
      assert.ok(failure.cause instanceof TypeError && failure.cause.message === 'handler broke', 'the cause is kept');
      assert.match(logger.lines.find(({ message }) => summary.test(message))?.message ?? '', /of chat@1\.0\.0 event rooms\.broken in the last 1 s; last: TypeError: handler broke$/);
    } finally {
      await served.close();
    }
  });

  it('summarises a login hook that fails again and again', async () => {
    const logger = recordingLogger();
    const server = new Server({
      applications: [createTestApp().definition],
      logger,
      failureLog: { burst: 2, interval: 60_000 },
      authenticate: () => {
        throw new Error('directory down');
      },
    });
    const [tcp] = await server.listen({ tcp: 0 });
    try {
      for (let i = 0; i < 30; i++) {
        await assert.rejects(connect(tcp?.url as string, { app: 'testApp', login: { user: 'a', password: 'b' }, reconnect: false }), /Authentication failed/);
      }
      assert.equal(logger.lines.filter(({ message }) => message.startsWith('authentication hook failed')).length, 2);
    } finally {
      await server.close();
    }
    assert.deepEqual(logger.lines.slice(2).map(({ message }) => message), ['28 more failures of authentication hook in the last 60 s; last: Error: directory down'], 'summarised on close');
  });

  it('limits an application that no server started with the default burst', () => {
    const reported: Error[] = [];
    const app = new Application(
      { name: 'alone', api: {}, events: { rooms: { broken: () => Promise.reject(new Error('no')) } } },
      { onError: (error) => reported.push(error) },
    );
    const context: SessionContext = {
      sessionLabel: 's:test', user: null, state: {}, channels: [],
      emit() {}, broadcast() {}, join() {}, leave() {}, publish: () => 0, login() {}, rotateSession: () => false,
    };
    for (let i = 0; i < 100; i++) app.event(context, 'rooms', 'broken', []);
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        assert.equal(reported.length, 5);
        assert.equal(reported[0]?.message, 'alone@1.0.0 event rooms.broken failed: Error: no');
        resolve();
      });
    });
  });

  it('counts sources past maxSources together, starts afresh each interval, and checks its options', async () => {
    const lines: string[] = [];
    const log = new FailureLog({ burst: 1, interval: 50, maxSources: 2 }, (line) => lines.push(line));
    try {
      assert.deepEqual([log.admit('a', 'x'), log.admit('a', 'y'), log.admit('a', new RangeError('z'))], [true, false, false]);
      assert.equal(log.admit('b', 1), true);
      // Past two sources, c and d share one count.
      assert.deepEqual([log.admit('c', 1), log.admit('d', { why: 'w' })], [true, false]);
      await waitFor(() => lines.length === 2, 1000, 'the summaries');
      assert.deepEqual(lines.sort(), [
        '1 more failure of other sources in the last 50 ms; last: { why: \'w\' }',
        '2 more failures of a in the last 50 ms; last: RangeError: z',
      ]);
      assert.equal(log.admit('a', 'again'), true, 'a new interval logs in full again');
      log.close();
      assert.equal(lines.length, 2, 'nothing was suppressed since');
    } finally {
      log.close();
    }
    assert.throws(() => new FailureLog({ burst: -1 }, () => {}), /failureLog\.burst must be an integer from 0/);
    assert.throws(() => new FailureLog({ interval: 0 }, () => {}), /failureLog\.interval must be an integer from 1/);
    assert.throws(() => new FailureLog({ maxSources: 1.5 }, () => {}), /failureLog\.maxSources/);
    const zero = new FailureLog({ burst: 0, interval: 60_000 }, (line) => lines.push(line));
    assert.equal(zero.admit('a', 'x'), false);
    zero.close();
    assert.equal(lines.at(-1), '1 more failure of a in the last 60 s; last: x');
  });
});
