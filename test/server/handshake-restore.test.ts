/**
 * Session restore on the wire, over raw TCP and raw WebSocket: both restore
 * forms, replies lost with a connection and retransmitted after a restore,
 * a restore that takes over a still-open socket, and the refusals
 * (unknown, expired, mismatched counters).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { delay, kinds, startServer, type Fixture } from '../helpers/fixtures';
import {
  hello,
  isCallback,
  isClose,
  isHandshake,
  openRaw,
  openSession,
  rawCall,
  type Msg,
  type RawClient,
  type RawKind,
} from '../helpers/raw';

const restoreText = (credentials: unknown[]): string =>
  JSON.stringify({ handshake: [0, 'testApp'], session: credentials });

describe('server session restore', () => {
  let main: Fixture;
  let brief: Fixture;
  const clients: RawClient[] = [];
  const track = <T extends RawClient>(client: T): T => {
    clients.push(client);
    return client;
  };
  const session = async (kind: RawKind, fixture: Fixture = main): Promise<{ client: RawClient; id: string }> => {
    const opened = await openSession(kind, fixture);
    track(opened.client);
    return opened;
  };
  const restore = async (kind: RawKind, credentials: unknown[], fixture: Fixture = main): Promise<{ client: RawClient; reply: Msg }> => {
    const client = track(await openRaw(kind, fixture));
    const reply = await hello(client, restoreText(credentials));
    return { client, reply };
  };
  const expectLost = async (kind: RawKind, credentials: unknown[], reason: string, fixture: Fixture = main): Promise<void> => {
    const { client, reply } = await restore(kind, credentials, fixture);
    assert.equal(reply.ok, undefined, `expected a refusal, got ${JSON.stringify(reply)}`);
    assert.deepEqual(reply.handshake, [0]);
    assert.equal(reply.error[0], 11);
    assert.equal(typeof reply.error[1], 'string');
    assert.equal(reply.error[2], reason);
    await client.waitClose();
  };

  before(async () => {
    // An id-only restore may take a session over once its connection is 50 ms old.
    main = await startServer({ raceWindow: 50 });
    brief = await startServer({ session: { holdTime: 100 } });
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await Promise.all([main.close(), brief.close()]);
  });

  for (const kind of kinds) {
    describe(kind, () => {
      it('restores in the tjstp form, answering ok:[sent, received] and keeping state', async () => {
        const { client, id } = await session(kind);
        assert.deepEqual((await rawCall(client, 1, 'counter', 'increment', [])).ok, [1]);
        assert.deepEqual((await rawCall(client, 2, 'counter', 'increment', [])).ok, [2]);
        // Replies are sequenced: the server used ids -1 and -2.
        assert.deepEqual(client.messages.filter((m) => Array.isArray(m.callback)).map((m) => m.callback), [[1, -1], [2, -2]]);
        client.end();
        await client.waitClose();
        const { client: next, reply } = await restore(kind, [id, 2, 2]);
        assert.deepEqual(reply.handshake, [0]);
        assert.deepEqual(reply.ok, [2, 2]);
        assert.equal(reply.tjstp.version, 1);
        assert.equal(typeof reply.tjstp.maxBufferedBytes, 'number');
        assert.equal(typeof reply.tjstp.holdTime, 'number');
        // Same session: the counter goes on, the next reply is -3.
        const third = await rawCall(next, 3, 'counter', 'increment', []);
        assert.deepEqual(third.ok, [3]);
        assert.deepEqual(third.callback, [3, -3]);
        await delay(30);
        assert.equal(next.messages.filter((m) => Array.isArray(m.callback)).length, 1, 'nothing replayed');
      });

      it('restores in the reference form, answering ok:<received>', async () => {
        const { client, id } = await session(kind);
        await rawCall(client, 1, 'calc', 'add', [1, 2]);
        await rawCall(client, 2, 'calc', 'add', [3, 4]);
        // A reference client acknowledges replies only by answering pings.
        client.send('{"pong":[-2]}');
        await delay(20);
        client.destroy();
        await client.waitClose();
        const { client: next, reply } = await restore(kind, [id, 0]);
        assert.deepEqual(reply.handshake, [0]);
        assert.equal(reply.ok, 2);
        assert.equal(reply.tjstp, undefined, 'the reference form gets the reference reply');
        assert.match(next.texts[0] as string, /^\{"handshake":\[0\],"ok":2\}$/);
        assert.deepEqual((await rawCall(next, 3, 'calc', 'add', [5, 6])).ok, [11]);
      });

      it('tells a reference client it received less, so unanswered calls are not lost', async () => {
        const { client, id } = await session(kind);
        await rawCall(client, 1, 'calc', 'add', [1, 2]);
        client.send(JSON.stringify({ call: [2, 'calc'], slowEcho: ['late', 60] }));
        await delay(10);
        client.destroy();
        // Call 1's reply went out but was never acknowledged; call 2 is still running.
        const { client: next, reply } = await restore(kind, [id, 0]);
        assert.equal(reply.ok, 0, 'a reference client fails pending calls up to ok with ERR_CALLBACK_LOST');
        // It resends calls 1 and 2: duplicates, dropped; the replies come from the buffer.
        next.send(JSON.stringify({ call: [1, 'calc'], add: [1, 2] }));
        next.send(JSON.stringify({ call: [2, 'calc'], slowEcho: ['late', 60] }));
        assert.deepEqual((await next.waitMessage(isCallback(1))).ok, [3]);
        assert.deepEqual((await next.waitMessage(isCallback(2))).ok, ['late']);
        await delay(100);
        assert.equal(next.messages.filter(isCallback(2)).length, 1, 'answered once: the resent call did not run again');
      });

      it('retransmits a reply lost with the connection, with its original callback id, once', async () => {
        const token = `lost-${kind}`;
        const { client, id } = await session(kind);
        assert.deepEqual((await rawCall(client, 1, 'calc', 'add', [1, 1])).ok, [2]);
        client.send(JSON.stringify({ call: [2, 'ledger'], record: [token, 80] }));
        await delay(20);
        assert.equal(main.app.executions.get(token), 1, 'the call reached the server');
        client.destroy();
        // The reply is produced while the session is detached.
        await delay(150);
        assert.equal(client.messages.some(isCallback(2)), false);
        const { client: next, reply } = await restore(kind, [id, 2, 1]);
        assert.deepEqual(reply.ok, [2, 2]);
        const replayed = await next.waitMessage(isCallback(2));
        assert.deepEqual(replayed.callback, [2, -2]);
        assert.deepEqual(replayed.ok, [token]);
        await delay(30);
        assert.equal(next.messages.filter(isCallback(2)).length, 1, 'replayed once');
        assert.equal(next.messages.some(isCallback(1)), false, 'an acknowledged reply is not replayed');
        assert.equal(main.app.executions.get(token), 1, 'the call ran once');
      });

      it('delivers on the new socket a reply that was still running at the restore', async () => {
        const { client, id } = await session(kind);
        client.send(JSON.stringify({ call: [1, 'calc'], slowEcho: ['late', 120] }));
        await delay(20);
        client.destroy();
        const { client: next, reply } = await restore(kind, [id, 1, 0]);
        assert.deepEqual(reply.ok, [0, 1]);
        const late = await next.waitMessage(isCallback(1));
        assert.deepEqual(late.callback, [1, -1]);
        assert.deepEqual(late.ok, ['late']);
      });

      it('takes over a session whose first socket is still open, closing that socket with a reason', async () => {
        const { client: first, id } = await session(kind);
        assert.deepEqual((await rawCall(first, 1, 'counter', 'increment', [])).ok, [1]);
        await delay(60);
        const { client: second, reply } = await restore(kind, [id, 1, 1]);
        assert.deepEqual(reply.ok, [1, 1]);
        await first.waitClose();
        assert.deepEqual(first.messages.find(isClose)?.error, [32, 'Session resumed over another connection']);
        assert.equal(second.closed, false);
        assert.deepEqual((await rawCall(second, 2, 'counter', 'increment', [])).ok, [2]);
        // The old socket can no longer act on the session.
        first.send(JSON.stringify({ call: [3, 'counter'], increment: [] }));
        assert.deepEqual((await rawCall(second, 3, 'counter', 'increment', [])).ok, [3]);
      });

      it('refuses an unknown session id with [11,"Session not found","not_found"] and closes', async () => {
        for (const credentials of [['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 0, 0], ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 0]]) {
          const { client, reply } = await restore(kind, credentials);
          assert.deepEqual(reply.error, [11, 'Session not found', 'not_found']);
          await client.waitClose();
        }
        // Malformed restore credentials are refused the same way.
        for (const credentials of [[], [42, 0, 0], ['x', -1, 0], ['x', 0, 0, 0], ['x', 'a']]) {
          const { client, reply } = await restore(kind, credentials);
          assert.equal(reply.error?.[0], 11, JSON.stringify(reply));
          await client.waitClose();
        }
      });

      it('refuses a session held past holdTime with reason "expired"', async () => {
        const { client, id } = await session(kind, brief);
        await rawCall(client, 1, 'calc', 'add', [1, 1]);
        client.destroy();
        await delay(300);
        await expectLost(kind, [id, 1, 1], 'expired', brief);
        // A session restored in time is not expired.
        const { client: kept, id: keptId } = await session(kind, brief);
        kept.destroy();
        await delay(30);
        const { reply } = await restore(kind, [keptId, 0, 0], brief);
        assert.deepEqual(reply.ok, [0, 0]);
      });

      it('refuses counters that cannot match with reason "mismatch", and leaves the session to its owner', async () => {
        const { client, id } = await session(kind);
        await rawCall(client, 1, 'calc', 'add', [1, 1]);
        client.destroy();
        await client.waitClose();
        // The client claims a reply the server never sent.
        await expectLost(kind, [id, 1, 5], 'mismatch');
        await expectLost(kind, [id, 5], 'mismatch');
        // The owner, with the right counters, still has the session.
        const { reply } = await restore(kind, [id, 1, 1]);
        assert.deepEqual(reply.ok, [1, 1]);
      });

      it('refuses as "stale" a restore behind the session (sent less than the server received), leaving the session', async () => {
        const { client, id } = await session(kind);
        await rawCall(client, 1, 'calc', 'add', [1, 1]);
        await rawCall(client, 2, 'calc', 'add', [1, 1]);
        client.destroy();
        await client.waitClose();
        await expectLost(kind, [id, 1, 2], 'stale');
        const { reply } = await restore(kind, [id, 2, 2]);
        assert.deepEqual(reply.ok, [2, 2]);
      });

      it('refuses an id-only restore racing the one that just took the session: one owner, the other gets 31', async () => {
        const { client, id } = await session(kind);
        await rawCall(client, 1, 'counter', 'increment', []);
        client.destroy();
        await client.waitClose();
        const [first, second] = await Promise.all([openRaw(kind, main), openRaw(kind, main)]);
        track(first);
        track(second);
        const text = restoreText([id, 1, 1]);
        first.send(text);
        second.send(text);
        const replies = await Promise.all([first, second].map((raw) => raw.waitMessage(isHandshake)));
        const winners = replies.filter((reply) => reply.ok !== undefined);
        assert.equal(winners.length, 1, `exactly one welcome: ${JSON.stringify(replies)}`);
        const loser = replies.find((reply) => reply.error !== undefined);
        assert.deepEqual(loser?.error, [31, 'The session is being restored by another connection', 'restoreRace']);
        const [winner, other] = replies[0]?.ok !== undefined ? [first, second] : [second, first];
        await other.waitClose();
        assert.equal(other.messages.length, 1, 'the loser got nothing of the session');
        assert.deepEqual((await rawCall(winner, 2, 'counter', 'increment', [])).ok, [2]);
      });

      it('keeps serving other sessions through all of it', async () => {
        const { client } = await session(kind);
        const reply = await rawCall(client, 1, 'calc', 'add', [40, 2]);
        assert.deepEqual(reply.ok, [42]);
        assert.ok(client.messages.some(isHandshake));
      });
    });
  }
});
