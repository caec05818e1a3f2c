/**
 * `tjstp serve --metrics PORT` as operators run it: a child process whose
 * `/metrics` is scraped (and parsed) while raw clients connect, call,
 * drop, resume, overflow and misbehave. Each counter must move by exactly
 * what was done, and 10,000 random method names must add no series.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { writeFiles } from '../server/loader-fixtures';
import { startServe, type ServeChild } from '../helpers/serve-child';
import { delta, scrape, series, valueOf, type Scrape } from '../helpers/prometheus';
import { hello, isCallback, isClose, openRaw, rawCall, type Endpoints, type RawClient } from '../helpers/raw';
import { delay } from '../helpers/fixtures';
import { redisMissing, startRedis } from '../helpers/redis';
import { connect, type Client } from '../../lib/index';

const HOLD_TIME = 4000;

const shop = {
  'shop/api/cart/add.ts': 'export default (_c: unknown, a: number, b: number): number => a + b;\n',
  'shop/api/cart/refuse.ts': "import { RemoteError } from 'tjstp';\nexport default (): never => {\n  throw new RemoteError(1001, 'Not today');\n};\n",
  'shop/api/cart/boom.ts': "export default (): never => {\n  throw new Error('boom');\n};\n",
  'shop/api/cart/slow.ts': 'export default (_c: unknown, ms: number): Promise<number> => new Promise((resolve) => setTimeout(() => resolve(ms), ms));\n',
  // Emits `count` events to its own session `ms` from now (while the test has dropped the connection).
  'shop/api/cart/later.ts': [
    "import type { MethodContext } from 'tjstp';",
    'export default (context: MethodContext, count: number, ms: number): number => {',
    "  setTimeout(() => { for (let i = 0; i < count; i++) context.emit('cart', 'tick', i); }, ms);",
    '  return count;',
    '};',
    '',
  ].join('\n'),
  'shop/api/cart/flood.ts': [
    "import type { MethodContext } from 'tjstp';",
    'export default (context: MethodContext, count: number, size: number): number => {',
    "  for (let i = 0; i < count; i++) context.emit('cart', 'tick', 'x'.repeat(size));",
    '  return count;',
    '};',
    '',
  ].join('\n'),
};

describe('tjstp serve --metrics', () => {
  let dir: string;
  let child: ServeChild;
  let metricsUrl: string;
  let at: Endpoints;
  const clients: RawClient[] = [];

  const open = async (): Promise<RawClient> => {
    const client = await openRaw('tcp', at);
    clients.push(client);
    return client;
  };
  /** A new anonymous session (a legacy peer: id-only restores, events it never acknowledges). */
  const session = async (): Promise<{ client: RawClient; id: string }> => {
    const client = await open();
    const reply = await hello(client, '{"handshake":[0,"shop"]}');
    assert.equal(typeof reply.ok, 'string', JSON.stringify(reply));
    return { client, id: reply.ok as string };
  };
  const restore = async (id: string, received: number): Promise<{ client: RawClient; reply: Record<string, unknown> }> => {
    const client = await open();
    const reply = await hello(client, JSON.stringify({ handshake: [0, 'shop'], session: [id, received] }));
    return { client, reply };
  };
  /** The last sequence number of the server's replies `client` got: what it reports as received. */
  const lastReceived = (client: RawClient): number =>
    Math.max(0, ...client.messages.filter((m) => Array.isArray(m.callback)).map((m) => -(m.callback[1] as number)));
  /** The code and reason of a refused handshake. */
  const refusal = (reply: Record<string, unknown>): [unknown, unknown] => {
    const error = reply.error as unknown[] | undefined;
    assert.ok(Array.isArray(error), JSON.stringify(reply));
    return [error[0], error[2]];
  };
  /** Scrapes until `check` holds (gauges and counters move as the child gets to it). */
  const scrapeUntil = async (check: (scraped: Scrape) => boolean, what: string): Promise<Scrape> => {
    let last: Scrape | undefined;
    for (const started = Date.now(); Date.now() - started < 10_000; await delay(20)) {
      last = await scrape(metricsUrl);
      if (check(last)) return last;
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-metrics-'));
    writeFiles(dir, shop);
    child = await startServe([
      '--applications', dir, '--tcp', '0', '--metrics', '0', '--no-watch',
      '--hold-time', String(HOLD_TIME), '--max-buffered-bytes', '2000000', '--max-calls-in-flight', '1',
    ], 2);
    const [tcp, metrics] = child.urls as [string, string];
    metricsUrl = metrics;
    at = { port: { tcp: Number(new URL(tcp).port) }, url: { ws: '' } };
  });

  after(async () => {
    for (const client of clients) client.destroy();
    child.child.kill('SIGTERM');
    await child.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers GET /metrics in the Prometheus text format, and 404 elsewhere', async () => {
    const scraped = await scrape(metricsUrl);
    assert.match(scraped.contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(scraped.types.get('tjstp_calls_total'), 'counter');
    assert.equal(scraped.types.get('tjstp_call_duration_seconds'), 'histogram');
    assert.equal(scraped.types.get('tjstp_sessions'), 'gauge');
    assert.equal(valueOf(scraped, 'tjstp_sessions', { app: 'shop', version: '1.0.0', state: 'attached' }), 0);
    assert.ok(valueOf(scraped, 'tjstp_memory_limit_bytes') > 0);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http.get(metricsUrl.replace('/metrics', '/other'), (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    assert.equal(status, 404);
  });

  it('counts connections, sessions, calls by code, detaches, resumes, refusals, overflows and malformed input', async () => {
    const s0 = await scrape(metricsUrl);
    const a = await session();
    assert.deepEqual((await rawCall(a.client, 1, 'cart', 'add', [2, 3])).ok, [5]);
    assert.deepEqual((await rawCall(a.client, 2, 'cart', 'add', [1, 1])).ok, [2]);
    assert.equal((await rawCall(a.client, 3, 'cart', 'refuse', [])).error[0], 1001);
    assert.equal((await rawCall(a.client, 4, 'cart', 'refuse', [])).error[0], 1001);
    assert.equal((await rawCall(a.client, 5, 'cart', 'boom', [])).error[0], 16);
    assert.equal((await rawCall(a.client, 6, 'nowhere', 'nothing', [])).error[0], 12);
    assert.equal((await rawCall(a.client, 7, 'cart', 'nothing', [])).error[0], 14);
    // One call running: the next is refused by --max-calls-in-flight 1.
    a.client.send(JSON.stringify({ call: [8, 'cart'], slow: [300] }));
    assert.equal((await rawCall(a.client, 9, 'cart', 'add', [0, 0])).error[0], 31);
    assert.deepEqual((await a.client.waitMessage(isCallback(8), 5000, 'the slow call')).ok, [300]);
    const s1 = await scrape(metricsUrl);
    assert.equal(delta(s0, s1, 'tjstp_connections_total', { transport: 'tcp' }), 1);
    assert.equal(valueOf(s1, 'tjstp_connections_open', { transport: 'tcp' }), 1);
    assert.equal(delta(s0, s1, 'tjstp_sessions_opened_total', { app: 'shop', version: '1.0.0' }), 1);
    assert.equal(valueOf(s1, 'tjstp_sessions', { app: 'shop', state: 'attached' }), 1);
    const calls = (labels: Record<string, string>): number => delta(s0, s1, 'tjstp_calls_total', { app: 'shop', ...labels });
    assert.equal(calls({ iface: 'cart', method: 'add', code: '0' }), 2);
    assert.equal(calls({ iface: 'cart', method: 'refuse', code: 'app' }), 2);
    assert.equal(calls({ iface: 'cart', method: 'boom', code: '16' }), 1);
    assert.equal(calls({ iface: 'unknown', method: 'unknown', code: '12' }), 1);
    assert.equal(calls({ iface: 'unknown', method: 'unknown', code: '14' }), 1);
    assert.equal(calls({ iface: 'cart', method: 'slow', code: '0' }), 1);
    assert.equal(calls({ iface: 'cart', method: 'add', code: '31' }), 1);
    assert.equal(calls({}), 9);
    assert.equal(delta(s0, s1, 'tjstp_call_duration_seconds_count', { app: 'shop' }), 9);
    // The slow call alone took 300 ms or more.
    assert.ok(delta(s0, s1, 'tjstp_call_duration_seconds_sum', { app: 'shop', method: 'slow' }) >= 0.29);
    assert.equal(delta(s0, s1, 'tjstp_refusals_total', { limit: 'callsInFlight' }), 1);

    // Acknowledge every reply, drop, let 3 events pile up for the held session, resume: those 3 replayed.
    assert.deepEqual((await rawCall(a.client, 10, 'cart', 'later', [3, 1000])).ok, [3]);
    const received = lastReceived(a.client);
    a.client.send(`{"ack":[${-received}]}`);
    await scrapeUntil((s) => valueOf(s, 'tjstp_outbox_bytes', { app: 'shop' }) === 0, 'the acknowledgement');
    a.client.destroy();
    const s2 = await scrapeUntil((s) => valueOf(s, 'tjstp_sessions', { app: 'shop', state: 'detached' }) === 1, 'the detach');
    assert.equal(delta(s1, s2, 'tjstp_session_detaches_total', { app: 'shop' }), 1);
    assert.equal(valueOf(s2, 'tjstp_connections_open', { transport: 'tcp' }), 0);
    await scrapeUntil((s) => valueOf(s, 'tjstp_outbox_bytes', { app: 'shop' }) > 0, 'the events held');
    const resumed = await restore(a.id, received);
    assert.equal(resumed.reply.ok, received, JSON.stringify(resumed.reply));
    await resumed.client.waitMessage((m) => Array.isArray(m.event) && m.tick?.[0] === 2, 2000, 'the replayed events');
    // Refused: an unknown id, and counters the session never reached.
    assert.deepEqual(refusal((await restore('no-such-session-id-at-all', 0)).reply), [11, 'not_found']);
    assert.deepEqual(refusal((await restore(a.id, 999)).reply), [11, 'mismatch']);
    const s3 = await scrape(metricsUrl);
    assert.equal(delta(s2, s3, 'tjstp_resumes_total', { app: 'shop', outcome: 'resumed', reason: 'none' }), 1);
    assert.equal(delta(s2, s3, 'tjstp_resumes_total', { app: 'shop', outcome: 'refused', reason: 'not_found' }), 1);
    assert.equal(delta(s2, s3, 'tjstp_resumes_total', { app: 'shop', outcome: 'refused', reason: 'mismatch' }), 1);
    assert.equal(delta(s2, s3, 'tjstp_resumes_total', { app: 'shop' }), 3);
    assert.equal(delta(s2, s3, 'tjstp_resume_replayed_messages_count', { app: 'shop' }), 1);
    assert.equal(delta(s2, s3, 'tjstp_resume_replayed_messages_sum', { app: 'shop' }), 3);
    assert.ok(delta(s2, s3, 'tjstp_resume_replayed_bytes_sum', { app: 'shop' }) > 3 * 20);
    assert.equal(delta(s2, s3, 'tjstp_resume_duration_seconds_count', { app: 'shop' }), 1);
    assert.equal(valueOf(s3, 'tjstp_sessions', { app: 'shop', state: 'attached' }), 1);

    // Overflow: more event bytes than --max-buffered-bytes, never acknowledged.
    const b = await session();
    b.client.send(JSON.stringify({ call: [1, 'cart'], flood: [40, 60_000] }));
    await b.client.waitMessage(isClose, 5000, 'the overflow close');
    // Expiry: a detached session not resumed within --hold-time.
    const c = await session();
    c.client.destroy();
    const s4 = await scrapeUntil((s) => delta(s3, s, 'tjstp_sessions_ended_total', { app: 'shop', reason: 'expired' }) === 1, 'the expiry');
    assert.equal(delta(s3, s4, 'tjstp_sessions_ended_total', { app: 'shop', reason: 'overflow' }), 1);
    assert.deepEqual(refusal((await restore(b.id, 0)).reply), [11, 'overflow']);
    assert.deepEqual(refusal((await restore(c.id, 0)).reply), [11, 'expired']);
    // Malformed: not JSON; a call before any handshake.
    const garbage = await open();
    garbage.send('this is not json');
    await garbage.waitClose(2000);
    const early = await open();
    early.send(JSON.stringify({ call: [1, 'cart'], add: [1, 2] }));
    await early.waitClose(2000);
    const s5 = await scrapeUntil((s) => delta(s4, s, 'tjstp_malformed_total') === 2, 'the malformed input');
    assert.equal(delta(s4, s5, 'tjstp_resumes_total', { outcome: 'refused', reason: 'overflow' }), 1);
    assert.equal(delta(s4, s5, 'tjstp_resumes_total', { outcome: 'refused', reason: 'expired' }), 1);
    assert.equal(delta(s4, s5, 'tjstp_malformed_total', { kind: 'json' }), 1);
    assert.equal(delta(s4, s5, 'tjstp_malformed_total', { kind: 'unexpected' }), 1);
    assert.equal(delta(s0, s5, 'tjstp_sessions_opened_total', { app: 'shop' }), 3);
    // a, its resume, two refused restores, b, c, two more refused restores, two malformed.
    assert.equal(delta(s0, s5, 'tjstp_connections_total', { transport: 'tcp' }), 10);
    // Only the resumed connection is still open.
    assert.equal(valueOf(s5, 'tjstp_connections_open', { transport: 'tcp' }), 1);
  });

  it('keeps the label set bounded under 10,000 random method names', async () => {
    const { client } = await session();
    // The two series unknown names fall into exist before the flood.
    assert.equal((await rawCall(client, 1, 'nowhere', 'nothing', [])).error[0], 12);
    assert.equal((await rawCall(client, 2, 'cart', 'nothing', [])).error[0], 14);
    const s0 = await scrape(metricsUrl);
    const random = (): string => Math.random().toString(36).slice(2);
    const calls: string[] = [];
    // Call ids only grow within a session: 3 to 10,002.
    for (let i = 3; i <= 10_002; i++) {
      const iface = i % 2 === 0 ? 'cart' : random();
      calls.push(JSON.stringify({ call: [i, iface], [random()]: [random()] }));
    }
    client.sendRaw(`${calls.join('\0')}\0`);
    await client.waitMessage(isCallback(10_002), 30_000, 'the last reply');
    const s1 = await scrapeUntil((s) => delta(s0, s, 'tjstp_calls_total', { app: 'shop' }) === 10_000, 'every call counted');
    assert.equal(delta(s0, s1, 'tjstp_calls_total', { iface: 'unknown', method: 'unknown', code: '12' }), 5000);
    assert.equal(delta(s0, s1, 'tjstp_calls_total', { iface: 'unknown', method: 'unknown', code: '14' }), 5000);
    for (const name of ['tjstp_calls_total', 'tjstp_call_duration_seconds_count']) {
      const labelSets = series(s1, name);
      assert.equal(labelSets.length, series(s0, name).length, `${name}: no new series`);
      for (const labels of labelSets) {
        assert.ok(['add', 'refuse', 'boom', 'slow', 'later', 'flood', 'unknown'].includes(labels.method as string), JSON.stringify(labels));
      }
    }
  });
});

describe('tjstp serve --metrics --workers 2', { skip: redisMissing() }, () => {
  it('the primary answers the workers\' metrics, summed', async () => {
    const redis = await startRedis();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-metrics-'));
    writeFiles(dir, shop);
    const clients: Client[] = [];
    const served = await startServe(['--applications', dir, '--tcp', '0', '--metrics', '0', '--no-watch', '--workers', '2', '--redis', `${redis.url}/9`], 2);
    try {
      const [tcp, metricsAt] = served.urls as [string, string];
      // Both workers up, so both count (a worker still starting answers with nothing).
      await served.printed(/worker \d+: serving shop[\s\S]*worker \d+: serving shop/, 20_000);
      assert.match(metricsAt, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const before = await scrape(metricsAt);
      for (let i = 0; i < 6; i++) clients.push(await connect(tcp, { app: 'shop', reconnect: false }));
      for (const [i, client] of clients.entries()) {
        for (let n = 0; n < 10; n++) assert.equal(await client.call('cart', 'add', i, n), i + n);
      }
      const after = await scrape(metricsAt);
      assert.equal(delta(before, after, 'tjstp_calls_total', { app: 'shop', iface: 'cart', method: 'add', code: '0' }), 60);
      assert.equal(delta(before, after, 'tjstp_sessions_opened_total', { app: 'shop' }), 6);
      assert.equal(valueOf(after, 'tjstp_sessions', { app: 'shop', state: 'attached' }), 6);
      assert.equal(delta(before, after, 'tjstp_call_duration_seconds_count', { app: 'shop' }), 60);
    } finally {
      for (const client of clients) client.close();
      served.child.kill('SIGTERM');
      await served.exited;
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
