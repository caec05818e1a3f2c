/**
 * The server-wide memory budget (`maxSessionMemory`). What sessions hold is
 * counted in real bytes (two-byte text double) and adds up to the budget;
 * past it held sessions are evicted, largest first, and their clients are
 * told `evicted` when they come back; with only attached sessions left,
 * new sessions and calls are refused with 30 (not run) until memory comes
 * back. The count returns to zero when the sessions are gone.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { restoreProof } from '../../lib/client/proof';
import { SessionLostError, transportFor, type ServerOptions, type ServerSession } from '../../lib/index';
import { sessionKey } from '../../lib/server/session';
import { MESSAGE_OVERHEAD, messageBytes, type MemoryMeter } from '../../lib/session/memory';
import { Outbox } from '../../lib/session/outbox';
import { Started, delay, once, waitFor, type Fixture } from '../helpers/fixtures';
import { hello, isCallback, openBoundSession, openRaw, openSession, rawCall, type RawClient } from '../helpers/raw';

const meter = (): MemoryMeter & { used: number } => {
  const counted = { used: 0, charge(bytes: number) { counted.used += bytes; } };
  return counted;
};

describe('memory budget', () => {
  const started = new Started();
  const start = (options: Partial<ServerOptions>): Promise<Fixture> => started.server(options);
  const track = <T extends RawClient>(raw: T): T => started.track(raw);

  after(() => started.closeAll());

  it('counts real bytes: a two-byte message costs twice its length, and acknowledging gives it back', () => {
    const counted = meter();
    const outbox = new Outbox(counted);
    outbox.push(1, 'a'.repeat(1000));
    outbox.push(2, 'ж'.repeat(1000));
    assert.equal(messageBytes('ж'.repeat(1000)), 2000 + MESSAGE_OVERHEAD);
    assert.equal(outbox.bytes, 3000 + 2 * MESSAGE_OVERHEAD);
    assert.equal(counted.used, outbox.bytes);
    outbox.ackThrough(1);
    assert.equal(counted.used, 2000 + MESSAGE_OVERHEAD);
    outbox.clear();
    assert.equal(counted.used, 0);
  });

  it('a session’s per-session cap counts bytes too: two-byte text overflows at half the characters', async () => {
    const f = await start({ session: { maxBufferedBytes: 300_000 } });
    const { client } = await openSession('tcp', f);
    track(client);
    const ended = once<[ServerSession, string]>(f.server, 'end');
    // 100k two-byte characters are 200 KB; twice that passes 300,000 bytes.
    client.send(JSON.stringify({ call: [1, 'calc'], echo: ['ж'.repeat(100_000)] }));
    client.send(JSON.stringify({ call: [2, 'calc'], echo: ['ж'.repeat(100_000)] }));
    const [, reason] = await ended;
    assert.equal(reason, 'overflow');
  });

  it('evicts held sessions, largest first, and tells a client coming back that it was evicted', async () => {
    const f = await start({ maxSessionMemory: 3 * 1024 * 1024 });
    const ended: [ServerSession, string][] = [];
    f.server.on('end', (session, reason) => ended.push([session, reason]));
    // An honest client, detached with a little waiting for it.
    const honest = await f.connect('tcp');
    await honest.call('counter', 'increment');
    const honestDetached = once<[ServerSession]>(f.server, 'detach');
    honest.reconnect(async () => {
      throw new Error('offline');
    });
    const [honestSession] = await honestDetached;
    honestSession.emit('events', 'tick', ['h', 0]);
    // Strangers: sessions that hold a large reply they never acknowledge, then go.
    const victims: { id: string; key: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const { client, id, key } = await openBoundSession('tcp', f);
      track(client);
      await rawCall(client, 1, 'calc', 'echo', ['x'.repeat(300_000)]);
      client.destroy();
      victims.push({ id, key });
      await delay(5);
    }
    await waitFor(() => f.server.stats().evicted > 0, 2000, 'an eviction');
    const stats = f.server.stats();
    assert.ok(stats.memory.used <= stats.memory.limit, `within the budget: ${JSON.stringify(stats.memory)}`);
    assert.ok(ended.every(([, reason]) => reason === 'evicted'));
    assert.ok(ended.every(([session]) => session !== honestSession), 'the small held session was kept');
    assert.equal(honestSession.ended, false);
    // An evicted stranger is told so.
    const evicted = victims.find((victim) => f.server.sessions.get(sessionKey(victim.id)) === undefined);
    assert.ok(evicted, 'some stranger was evicted');
    const back = track(await openRaw('tcp', f));
    const nonce = Date.now();
    const reply = await hello(back, JSON.stringify({ handshake: [0, 'testApp'], session: [evicted.id, 1, 1, nonce, restoreProof(evicted.key, evicted.id, 1, 1, nonce)] }));
    assert.deepEqual(reply.error, [11, 'Session evicted: the server needed the memory', 'evicted']);
    // The honest client resumes with nothing lost.
    const ticks: unknown[] = [];
    honest.on('event', (event) => ticks.push(event.args));
    honest.reconnect(transportFor(f.url.tcp));
    await once(honest, 'ready');
    await waitFor(() => ticks.length === 1);
    assert.equal(await honest.call('counter', 'increment'), 2);
    honest.close();
  });

  it('a tjstp client whose held session was evicted gets sessionLost with reason evicted and a new session', async () => {
    const f = await start({ maxSessionMemory: 2 * 1024 * 1024 });
    const client = await f.connect('ws');
    const detached = once<[ServerSession]>(f.server, 'detach');
    client.reconnect(async () => {
      throw new Error('offline');
    });
    const [session] = await detached;
    for (let i = 0; i < 30 && !session.ended; i++) session.emit('events', 'tick', ['big', 'y'.repeat(100_000)]);
    await waitFor(() => session.ended, 2000, 'the eviction');
    const lost = once<[SessionLostError]>(client, 'sessionLost');
    client.reconnect(transportFor(f.url.ws));
    const [error] = await lost;
    assert.equal(error.reason, 'evicted');
    const [info] = await once<[{ resumed: boolean }]>(client, 'ready');
    assert.equal(info.resumed, false);
    client.close();
  });

  it('with only attached sessions over the budget, calls and new sessions are refused with 30, not run, until memory comes back', async () => {
    const f = await start({ maxSessionMemory: 1024 * 1024 });
    const hog = track((await openBoundSession('tcp', f)).client);
    const refused: string[] = [];
    f.server.on('refused', (refusal) => refused.push(refusal));
    let id = 1;
    while (f.server.stats().memory.used <= 1024 * 1024) {
      await rawCall(hog, id++, 'calc', 'echo', ['z'.repeat(200_000)]);
    }
    const over = await rawCall(hog, id++, 'ledger', 'record', ['never', 0]);
    assert.deepEqual(over.error, [30]);
    assert.equal(f.app.executions.get('never'), undefined, 'not run');
    const newcomer = track(await openRaw('tcp', f));
    assert.deepEqual((await hello(newcomer)).error, [30]);
    await newcomer.waitClose();
    assert.ok(refused.length >= 2 && refused.every((refusal) => refusal === 'memory'));
    // It acknowledges what it got: the memory comes back, and so do calls.
    hog.send(`{"ack":[${-(id - 1)}]}`);
    await delay(20);
    assert.ok(f.server.stats().memory.used < 64 * 1024, JSON.stringify(f.server.stats().memory));
    assert.deepEqual((await rawCall(hog, id, 'ledger', 'record', ['now', 0])).ok, ['now']);
    assert.ok(hog.messages.some(isCallback(id)));
  });

  it('gives every byte back: after sessions of every kind end, nothing is charged', async () => {
    const f = await start({});
    const clients = await Promise.all([f.connect('tcp'), f.connect('ws')]);
    for (const client of clients) {
      await client.call('calc', 'echo', 'ж'.repeat(5000));
      await client.call('events', 'start', 'e', 10, 0);
      const running = client.call('calc', 'slowEcho', 'x'.repeat(10_000), 30);
      client.reconnect();
      await once(client, 'ready');
      await running;
      await client.rotateSession();
    }
    const { client: raw } = await openSession('tcp', f);
    track(raw);
    raw.send(JSON.stringify({ call: [1, 'calc'], slowEcho: ['held', 50] }));
    raw.destroy();
    assert.ok(f.server.stats().memory.used > 0);
    for (const client of clients) client.close();
    await waitFor(() => f.server.stats().sessions === 1, 2000, 'the clients’ sessions to end');
    await delay(80);
    const [held] = [...f.server.sessions.values()];
    f.server.endSession(held as ServerSession, 'closed');
    assert.equal(f.server.stats().memory.used, 0);
  });
});
