/**
 * Session rotation (the Loki/Signal session reset): the server gives a
 * bound session a new id and key as the event `$tjstp.rotate`, in order
 * with everything else. Until the client acknowledges it, both ids
 * restore the session (each with its own key); after, only the new one.
 * The crossings: a drop during rotation (resume with the old id, get the
 * rotation replayed), a resume with the new id before the server saw the
 * acknowledgement, a resume with the old id after it. Logging in rotates
 * (no session fixation). Nothing is lost or run twice meanwhile.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { restoreProof } from '../../lib/client/proof';
import { transportFor, type ServerSession } from '../../lib/index';
import { delay, kinds, once, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { hello, isCallback, openBoundSession, openRaw, rawCall, type Msg, type RawClient, type RawKind } from '../helpers/raw';

const restoreText = (id: string, key: string, sent: number, received: number, nonce = Date.now()): string =>
  JSON.stringify({ handshake: [0, 'testApp'], session: [id, sent, received, nonce, restoreProof(key, id, sent, received, nonce)] });

const isRotate = (message: Msg): boolean => Array.isArray(message.event) && message.event[1] === '$tjstp' && Array.isArray(message.rotate);

describe('session rotation', () => {
  let f: Fixture;
  const raws: RawClient[] = [];
  const track = <T extends RawClient>(client: T): T => {
    raws.push(client);
    return client;
  };
  /** The server session attached to the newest connection. */
  const latestSession = (): ServerSession => [...f.server.sessions.values()].at(-1) as ServerSession;

  before(async () => {
    f = await startServer({
      authenticate: ({ credentials }) => {
        const [user, password] = credentials as [string, string];
        return password === 'pw' ? user : null;
      },
    });
  });

  after(async () => {
    for (const raw of raws) raw.destroy();
    await f.close();
  });

  for (const kind of ['tcp', 'ws'] as RawKind[]) {
    describe(kind, () => {
      it('a rotation is an event with the new id and key; the old id works until it is acknowledged, then never', async () => {
        const { client, id, key } = await openBoundSession(kind, f);
        track(client);
        assert.deepEqual((await rawCall(client, 1, 'counter', 'increment', [])).ok, [1]);
        assert.equal(f.server.rotateSession(latestSession()), true);
        const rotation = await client.waitMessage(isRotate);
        const [newId, newKey, user] = rotation.rotate as [string, string, null];
        assert.deepEqual(rotation.event, [-2, '$tjstp']);
        assert.notEqual(newId, id);
        assert.match(newKey, /^[0-9a-f]{64}$/);
        assert.equal(user, null);
        // Dropped before acknowledging: the old id still restores, and the rotation is replayed.
        client.destroy();
        const again = track(await openRaw(kind, f));
        assert.deepEqual((await hello(again, restoreText(id, key, 1, 1))).ok, [2, 1]);
        const replayed = await again.waitMessage(isRotate);
        assert.deepEqual(replayed.rotate, rotation.rotate, 'the same rotation, once more');
        // Now acknowledged: the old id is gone for good, the new one works.
        again.send('{"ack":[-2]}');
        assert.deepEqual((await rawCall(again, 2, 'counter', 'increment', [])).ok, [2]);
        again.destroy();
        const old = track(await openRaw(kind, f));
        assert.deepEqual((await hello(old, restoreText(id, key, 2, 3))).error?.[2], 'not_found');
        const fresh = track(await openRaw(kind, f));
        assert.deepEqual((await hello(fresh, restoreText(newId, newKey, 2, 3))).ok, [3, 2]);
        assert.deepEqual((await rawCall(fresh, 3, 'counter', 'increment', [])).ok, [3]);
      });

      it('resumes with the new id before the server saw the acknowledgement; that resume confirms it', async () => {
        const { client, id, key } = await openBoundSession(kind, f);
        track(client);
        f.server.rotateSession(latestSession());
        const rotation = await client.waitMessage(isRotate);
        const [newId, newKey] = rotation.rotate as [string, string];
        client.destroy();
        const next = track(await openRaw(kind, f));
        // It reports having received the rotation (1): the old id is then retired.
        assert.deepEqual((await hello(next, restoreText(newId, newKey, 0, 1))).ok, [1, 0]);
        next.destroy();
        await next.waitClose();
        const old = track(await openRaw(kind, f));
        assert.deepEqual((await hello(old, restoreText(id, key, 0, 1))).error?.[2], 'not_found');
        // The old key does not prove the new id either.
        const mixed = track(await openRaw(kind, f));
        assert.deepEqual((await hello(mixed, restoreText(newId, key, 0, 1))).error?.[2], 'not_found');
      });

      it('an id-only session cannot rotate', async () => {
        const raw = track(await openRaw(kind, f));
        await hello(raw);
        assert.equal(f.server.rotateSession(latestSession()), false);
        assert.deepEqual((await rawCall(raw, 1, '$tjstp', 'rotate', [])).ok, [false]);
      });
    });
  }

  for (const kind of kinds) {
    describe(`client over ${kind}`, () => {
      it('rotateSession(): new id and key in the ticket, calls and events in flight cross it once', async () => {
        const client = await f.connect(kind);
        const before = client.session;
        const ticks: number[] = [];
        client.on('event', (event) => ticks.push(event.args[1] as number));
        const rotated = once(client, 'rotated');
        const slow = client.call('calc', 'slowEcho', 'slow', 50);
        await client.call('events', 'start', 'r', 20, 2);
        assert.equal(await client.rotateSession(), true);
        await rotated;
        const after = client.session;
        assert.notEqual(after?.id, before?.id);
        assert.notEqual(after?.key, before?.key);
        client.reconnect();
        await once(client, 'ready');
        assert.equal(await slow, 'slow');
        await waitFor(() => ticks.length === 20, 3000, 'every event');
        assert.deepEqual(ticks, [...Array(20).keys()]);
        assert.equal(client.session?.id, after?.id);
        client.close();
      });

      it('a drop during rotation: the client resumes with the old id and switches on the replayed rotation', async () => {
        const client = await f.connect(kind);
        const oldId = client.session?.id;
        const detached = once<[ServerSession]>(f.server, 'detach');
        client.reconnect(async () => {
          throw new Error('offline');
        });
        const [session] = await detached;
        assert.equal(f.server.rotateSession(session), true, 'rotated while the client is away');
        const rotated = once(client, 'rotated');
        client.reconnect(transportFor(f.url[kind]));
        await rotated;
        assert.notEqual(client.session?.id, oldId);
        assert.equal(await client.call('counter', 'increment'), 1);
        client.close();
      });

      it('logging in within the session rotates it: the id known before the login is worth nothing after', async () => {
        const client = await f.connect(kind);
        const anonymous = client.session;
        assert.equal(anonymous?.user, null);
        assert.equal(await client.login({ user: 'ann', password: 'pw' }), 'ann');
        assert.equal(await client.call('events', 'whoami'), 'ann');
        assert.equal(client.user, 'ann');
        assert.notEqual(client.session?.id, anonymous?.id);
        await assert.rejects(client.login({ user: 'ann', password: 'wrong' }), (error: Error & { code?: number }) => error.code === 11);
        // The pre-login ticket (say, planted by an attacker) restores nothing once the rotation is acknowledged.
        await delay(250);
        const raw = track(await openRaw(kind === 'tcp' ? 'tcp' : 'ws', f));
        const reply = await hello(raw, restoreText(anonymous?.id as string, anonymous?.key as string, 10, 10));
        assert.deepEqual(reply.error?.[2], 'not_found');
        await client.logout();
        assert.equal(await client.call('events', 'whoami'), null);
        assert.equal(client.user, null);
        client.close();
      });
    });
  }

  it('keeps serving others', async () => {
    const raw = track(await openRaw('tcp', f));
    await hello(raw);
    assert.ok((await rawCall(raw, 1, 'calc', 'add', [1, 1])).ok);
    assert.ok(raw.messages.some(isCallback(1)));
  });
});
