/**
 * `serverMetrics()` series the CLI test (test/bin/metrics.test.ts) does not
 * reach: the WebSocket transport, eviction by the memory budget, the
 * restore rate limit, oversize and framing input, and a session ended for
 * a protocol violation after its handshake. In process, each test with a
 * server and a prom-client Registry of its own; every assertion checks an
 * exact delta.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { serverMetrics, type ServerOptions, type ServerMetrics, type ServerSession } from '../../lib/index';
import { Started, delay, waitFor, type Fixture } from '../helpers/fixtures';
import { hello, openBoundSession, openRaw, openSession, openWs, rawCall, type RawClient } from '../helpers/raw';
import { delta, parseMetrics, type Scrape } from '../helpers/prometheus';

const APP = { app: 'testApp', version: '1.0.0' };

describe('serverMetrics coverage', () => {
  const started = new Started();
  const opened: ServerMetrics[] = [];
  const track = <T extends RawClient>(raw: T): T => started.track(raw);

  after(async () => {
    for (const metrics of opened) metrics.close();
    await started.closeAll();
  });

  /** A server with metrics in a registry of its own, and a way to read them. */
  const start = async (options: Partial<ServerOptions> = {}): Promise<{ f: Fixture; read: () => Promise<Scrape> }> => {
    const f = await started.server(options);
    const registry = new Registry();
    opened.push(await serverMetrics(f.server, { registry }));
    const read = async (): Promise<Scrape> => ({ ...parseMetrics(await registry.metrics()), contentType: registry.contentType });
    return { f, read };
  };

  /** Reads until `check` holds (the server may see a close after the client does). */
  const readUntil = async (read: () => Promise<Scrape>, check: (scraped: Scrape) => boolean, what: string): Promise<Scrape> => {
    let last = await read();
    for (const begun = Date.now(); !check(last); last = await read()) {
      if (Date.now() - begun > 2000) throw new Error(`timed out waiting for ${what}`);
      await delay(5);
    }
    return last;
  };

  it('counts WebSocket connections (total and open) and the calls made over them', async () => {
    const { f, read } = await start();
    const s0 = await read();
    const client = await f.connect('ws');
    for (let i = 0; i < 3; i++) assert.equal(await client.call('calc', 'add', i, 1), i + 1);
    const s1 = await read();
    assert.equal(delta(s0, s1, 'tjstp_connections_total', { transport: 'ws' }), 1);
    assert.equal(delta(s0, s1, 'tjstp_connections_open', { transport: 'ws' }), 1);
    assert.equal(delta(s0, s1, 'tjstp_connections_total', { transport: 'tcp' }), 0);
    assert.equal(delta(s0, s1, 'tjstp_calls_total', { app: 'testApp', iface: 'calc', method: 'add', code: '0' }), 3);
    assert.equal(delta(s0, s1, 'tjstp_sessions_opened_total', APP), 1);
    client.close();
    const s2 = await readUntil(read, (s) => delta(s0, s, 'tjstp_connections_open', { transport: 'ws' }) === 0, 'the ws connection to close');
    assert.equal(delta(s0, s2, 'tjstp_connections_total', { transport: 'ws' }), 1);
    assert.equal(delta(s0, s2, 'tjstp_sessions_ended_total', { ...APP, reason: 'closed' }), 1);
    assert.equal(delta(s0, s2, 'tjstp_session_detaches_total'), 0, 'a session its client closed is never held');
  });

  it('counts held sessions evicted by the memory budget, one per session evicted', async () => {
    const { f, read } = await start({ maxSessionMemory: 2 * 1024 * 1024 });
    const evicted: ServerSession[] = [];
    f.server.on('end', (session, reason) => {
      if (reason === 'evicted') evicted.push(session);
    });
    const s0 = await read();
    // Sessions holding a large reply they never acknowledge, then detached.
    for (let i = 0; i < 8 && f.server.stats().evicted === 0; i++) {
      const { client } = await openBoundSession('tcp', f);
      track(client);
      await rawCall(client, 1, 'calc', 'echo', ['x'.repeat(400_000)]);
      client.destroy();
      await waitFor(() => [...f.server.sessions.values()].every((session) => !session.attached), 2000, 'the detach');
    }
    await waitFor(() => f.server.stats().evicted > 0, 2000, 'an eviction');
    const s1 = await read();
    assert.ok(evicted.length > 0);
    assert.equal(f.server.stats().evicted, evicted.length);
    assert.equal(delta(s0, s1, 'tjstp_sessions_ended_total', { ...APP, reason: 'evicted' }), evicted.length);
    assert.equal(delta(s0, s1, 'tjstp_sessions_ended_total'), evicted.length, 'nothing else ended');
    assert.equal(
      delta(s0, s1, 'tjstp_sessions', { ...APP, state: 'detached' }),
      delta(s0, s1, 'tjstp_session_detaches_total', APP) - evicted.length,
      'the evicted are no longer held',
    );
  });

  it('counts a restore refused by the restore rate as a refusal and as a refused resume', async () => {
    const { f, read } = await start({ restoresPerMinute: 2 });
    const s0 = await read();
    const restore = async (id: string): Promise<unknown[]> => {
      const raw = track(await openRaw('tcp', f));
      const reply = await hello(raw, JSON.stringify({ handshake: [0, 'testApp'], session: [id, 0, 0] }));
      assert.ok(Array.isArray(reply.error), JSON.stringify(reply));
      return reply.error as unknown[];
    };
    assert.equal((await restore('bogus1'))[2], 'not_found');
    assert.equal((await restore('bogus2'))[2], 'not_found');
    assert.deepEqual(await restore('bogus3'), [31, 'Too many restore attempts from this address: slow down', 'restoreRate']);
    const s1 = await read();
    assert.equal(delta(s0, s1, 'tjstp_refusals_total', { limit: 'restoreRate' }), 1);
    assert.equal(delta(s0, s1, 'tjstp_refusals_total'), 1);
    assert.equal(delta(s0, s1, 'tjstp_resumes_total', { app: 'testApp', outcome: 'refused', reason: 'restoreRate' }), 1);
    assert.equal(delta(s0, s1, 'tjstp_resumes_total', { app: 'testApp', outcome: 'refused', reason: 'not_found' }), 2);
    assert.equal(delta(s0, s1, 'tjstp_resumes_total'), 3);
  });

  /**
   * After `client` broke the protocol: waits for its connection and session
   * to be gone, then checks that one malformed input of `kind` ended one
   * session, for `protocol`, once (a later read moves nothing), and left
   * nothing held. Resolves with the last scrape.
   */
  const endedForProtocol = async (read: () => Promise<Scrape>, before: Scrape, client: RawClient, kind: string): Promise<Scrape> => {
    await client.waitClose();
    const ended = await readUntil(read, (s) => delta(before, s, 'tjstp_sessions_ended_total') >= 1 && delta(before, s, 'tjstp_connections_open') === 0, `the ${kind} end`);
    await delay(20);
    const later = await read();
    assert.equal(delta(before, later, 'tjstp_malformed_total', { kind }), 1);
    assert.equal(delta(before, later, 'tjstp_malformed_total'), 1);
    assert.equal(delta(before, later, 'tjstp_sessions_ended_total', { ...APP, reason: 'protocol' }), 1);
    assert.equal(delta(before, later, 'tjstp_sessions_ended_total'), 1);
    assert.equal(delta(ended, later, 'tjstp_sessions_ended_total'), 0, 'ended once');
    assert.equal(delta(before, later, 'tjstp_sessions', { state: 'detached' }), 0, 'not held');
    assert.equal(delta(before, later, 'tjstp_session_detaches_total'), 0, 'never detached on the way to its end');
    return later;
  };

  it('counts a message over maxMessageSize as oversize and a ws-batch frame without its terminator as framing; each ends its session once, for protocol', async () => {
    const { f, read } = await start({ maxMessageSize: 1024 });
    const s0 = await read();
    const { client: big } = await openSession('tcp', f);
    track(big);
    big.send(JSON.stringify({ call: [1, 'calc'], echo: ['x'.repeat(2000)] }));
    const s1 = await endedForProtocol(read, s0, big, 'oversize');

    const batch = track(await openWs(f.url.ws, true));
    assert.equal(typeof (await hello(batch)).ok, 'string');
    batch.sendRaw('{"heartbeat":[]}');
    await endedForProtocol(read, s1, batch, 'framing');
  });

  it('counts a session ended for invalid JSON after its handshake as ended for protocol, not held', async () => {
    const { f, read } = await start();
    const s0 = await read();
    const { client } = await openSession('tcp', f);
    track(client);
    client.send('{not json');
    await endedForProtocol(read, s0, client, 'json');
    assert.equal(f.server.sessions.size, 0);
  });
});
