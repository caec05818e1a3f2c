/**
 * Admission limits, each tried past its edge: sessions per address and per
 * login, new sessions per second and restores per minute per address
 * (bogus ids count), calls in flight per session. Over a limit: error 31
 * naming it, a close (handshakes), the refusal counted and reported; the
 * client treats it as transient. Another address is not affected.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { RemoteError, type Refusal, type ServerOptions } from '../../lib/index';
import { addressKey } from '../../lib/server/address';
import { connectFrom } from '../helpers/address';
import { Started, delay, once, type Fixture } from '../helpers/fixtures';
import { hello, openRaw, rawCall, type Msg, type RawClient } from '../helpers/raw';

const restoreText = (credentials: unknown[]): string => JSON.stringify({ handshake: [0, 'testApp'], session: credentials });

describe('admission limits', () => {
  const started = new Started();
  const start = (options: Partial<ServerOptions>): Promise<Fixture> => started.server(options);
  const open = async (fixture: Fixture, text?: string, from?: string): Promise<{ raw: RawClient; reply: Msg }> => {
    const raw = started.track(from === undefined ? await openRaw('tcp', fixture) : await connectFrom(from, fixture.port.tcp));
    return { raw, reply: await hello(raw, text) };
  };
  const refusals = (fixture: Fixture): Refusal[] => {
    const seen: Refusal[] = [];
    fixture.server.on('refused', (refusal) => seen.push(refusal));
    return seen;
  };

  after(() => started.closeAll());

  it('sessions per address: the next is refused with 31 and closed, until one ends; other addresses are not', async () => {
    const f = await start({ maxSessionsPerAddress: 3 });
    const seen = refusals(f);
    const open3 = await Promise.all([open(f), open(f), open(f)]);
    assert.ok(open3.every(({ reply }) => typeof reply.ok === 'string'));
    const { raw, reply } = await open(f);
    assert.deepEqual(reply.error, [31, 'Too many sessions from this address', 'sessionsPerAddress']);
    await raw.waitClose();
    assert.ok(typeof (await open(f, undefined, '127.0.0.2')).reply.ok === 'string', 'another address has its own count');
    // A held session counts too; an ended one does not.
    open3[0]?.raw.send('{"close":[0]}');
    await open3[0]?.raw.waitClose();
    assert.equal(typeof (await open(f)).reply.ok, 'string');
    assert.deepEqual(seen, ['sessionsPerAddress']);
    assert.equal(f.server.stats().refusals.sessionsPerAddress, 1);
  });

  it('sessions per login, at the handshake and for a login within a session', async () => {
    const f = await start({ maxSessionsPerLogin: 2, authenticate: ({ credentials }) => (credentials as string[])[0] });
    const login = (user: string): string => JSON.stringify({ handshake: [0, 'testApp'], login: [user, 'x'] });
    assert.equal(typeof (await open(f, login('ann'))).reply.ok, 'string');
    assert.equal(typeof (await open(f, login('ann'))).reply.ok, 'string');
    assert.deepEqual((await open(f, login('ann'))).reply.error, [31, 'Too many sessions for this user', 'sessionsPerLogin']);
    assert.equal(typeof (await open(f, login('bob'))).reply.ok, 'string');
    const { raw } = await open(f);
    const refused = await rawCall(raw, 1, '$tjstp', 'login', ['login', ['ann', 'x']]);
    assert.deepEqual(refused.error, [31, 'Too many sessions for this user', 'sessionsPerLogin']);
    assert.deepEqual((await rawCall(raw, 2, 'events', 'whoami', [])).ok, [null], 'still anonymous');
    assert.deepEqual((await rawCall(raw, 3, '$tjstp', 'login', ['login', ['cat', 'x']])).ok, ['cat']);
  });

  it('new sessions per second: a burst, then the rate; failed logins spend it too', async () => {
    const f = await start({ newSessionsPerSecond: 10, newSessionsBurst: 3, authenticate: () => null });
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await open(f, i === 0 ? JSON.stringify({ handshake: [0, 'testApp'], login: ['x', 'y'] }) : undefined)).reply);
    assert.deepEqual(results[0]?.error?.[0], 11, 'a failed login');
    assert.equal(typeof results[1]?.ok, 'string');
    assert.equal(typeof results[2]?.ok, 'string');
    assert.deepEqual(results[3]?.error, [31, 'Too many new sessions from this address: slow down', 'sessionRate']);
    await delay(150);
    assert.equal(typeof (await open(f)).reply.ok, 'string', 'the rate refilled one');
  });

  it('restores per minute: bogus ids count, and then even a good restore waits', async () => {
    const f = await start({ restoresPerMinute: 3 });
    const seen = refusals(f);
    const { raw, reply } = await open(f);
    raw.destroy();
    for (let i = 0; i < 3; i++) {
      assert.deepEqual((await open(f, restoreText([`bogus${i}`, 0, 0]))).reply.error?.[2], 'not_found');
    }
    const refused = (await open(f, restoreText([reply.ok, 0, 0]))).reply;
    assert.deepEqual(refused.error, [31, 'Too many restore attempts from this address: slow down', 'restoreRate']);
    assert.deepEqual((await open(f, restoreText([reply.ok, 0, 0]), '127.0.0.3')).reply.ok, [0, 0], 'another address may');
    assert.deepEqual(seen, ['restoreRate']);
  });

  it('calls in flight per session: the next is answered 31 without running; the connection stays', async () => {
    const f = await start({ maxCallsInFlight: 2 });
    const { raw } = await open(f);
    raw.send(JSON.stringify({ call: [1, 'ledger'], record: ['a', 100] }));
    raw.send(JSON.stringify({ call: [2, 'ledger'], record: ['b', 100] }));
    const third = await rawCall(raw, 3, 'ledger', 'record', ['c', 0]);
    assert.deepEqual(third.error, [31, 'Too many calls in flight in this session', 'callsInFlight']);
    assert.equal(f.app.executions.get('c'), undefined, 'not run');
    await delay(120);
    assert.deepEqual((await rawCall(raw, 4, 'ledger', 'record', ['d', 0])).ok, ['d']);
    assert.equal(raw.closed, false);
  });

  it('output per address: calls of an address sent more than its share wait; the calls of another address do not', async () => {
    const f = await start({ outputBytesPerSecond: 200_000, outputBurst: 100_000 });
    const { raw: greedy } = await open(f);
    const { raw: other } = await open(f, undefined, '127.0.0.4');
    // 300 KB of reply against a 100 KB allowance: overdrawn by 200 KB, so the next call waits 0.5 s.
    await rawCall(greedy, 1, 'calc', 'echo', ['x'.repeat(300_000)]);
    const started = Date.now();
    const order: string[] = [];
    const waited = rawCall(greedy, 2, 'ledger', 'record', ['greedy', 0]).then(() => order.push('greedy'));
    await delay(20);
    assert.equal(f.app.executions.get('greedy'), undefined, 'not run yet');
    await rawCall(other, 1, 'ledger', 'record', ['other', 0]).then(() => order.push('other'));
    await waited;
    assert.deepEqual(order, ['other', 'greedy']);
    assert.ok(Date.now() - started >= 400, `waited ${Date.now() - started} ms`);
    assert.equal(f.app.executions.get('greedy'), 1, 'then it ran, once');
    assert.ok(f.server.stats().deferredCalls >= 1);
    // Within its share again, it is not held back.
    await delay(600);
    const again = Date.now();
    await rawCall(greedy, 3, 'calc', 'add', [1, 1]);
    assert.ok(Date.now() - again < 300);
  });

  it('a tjstp client: connect() rejects with 31; a restore refused by the rate is retried, not a lost session', async () => {
    const f = await start({ maxSessionsPerAddress: 1, restoresPerMinute: 2 });
    const client = await f.connect('tcp');
    await assert.rejects(f.connect('tcp'), (error: unknown) => error instanceof RemoteError && error.code === 31 && error.info[0] === 'sessionsPerAddress');
    let lost = false;
    client.on('sessionLost', () => {
      lost = true;
    });
    client.reconnect();
    await once(client, 'ready');
    client.reconnect();
    await once(client, 'ready');
    // The third restore within the minute is refused; the client backs off and keeps the session.
    client.reconnect();
    await delay(200);
    assert.equal(client.state === 'ready', false, 'not resumed yet');
    assert.equal(lost, false);
    assert.ok((f.server.stats().refusals.restoreRate ?? 0) >= 1);
    client.close();
  });

  it('counts addresses by host: IPv4 as is, IPv6 by /64, IPv4-mapped as IPv4, local sockets not at all', () => {
    assert.equal(addressKey('203.0.113.7:5000'), '203.0.113.7');
    assert.equal(addressKey('[2001:db8:1:2:3:4:5:6]:443'), '2001:db8:1:2::/64');
    assert.equal(addressKey('[2001:db8:1:2::9]:443'), '2001:db8:1:2::/64');
    assert.equal(addressKey('[::ffff:198.51.100.4]:80'), '198.51.100.4');
    assert.equal(addressKey('/run/tjstp.sock'), undefined);
    assert.equal(addressKey('unknown'), undefined);
  });
});
