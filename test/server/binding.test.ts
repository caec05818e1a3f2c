/**
 * Session binding, tried as an attacker would. A session a tjstp client
 * opened is restored only with a proof of its key (an HMAC of the restore
 * under a key the welcome gave it) and a nonce it never used before: a
 * leaked id restores nothing, in either restore form, over TCP or
 * WebSocket, and the failed attempts leave the session to its owner. A
 * hello that arrives late, or twice, is refused for its own connection
 * only. Sessions opened without a key (the reference and other legacy
 * clients) keep the id-only restore unless the server turns it off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { restoreProof } from '../../lib/client/proof';
import { SessionLostError, type ServerSession } from '../../lib/index';
import { delay, kinds as clientKinds, once, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import {
  hello,
  isCallback,
  isHandshake,
  openBoundSession,
  openRaw,
  openSession,
  rawCall,
  type Msg,
  type RawClient,
  type RawKind,
} from '../helpers/raw';

const rawKinds: readonly RawKind[] = ['tcp', 'ws', 'ws-batch'];

const restoreText = (credentials: unknown[]): string => JSON.stringify({ handshake: [0, 'testApp'], session: credentials });

/** The bound restore form, signed with `key`. */
const boundCredentials = (id: string, key: string, sent: number, received: number, nonce: number): unknown[] =>
  [id, sent, received, nonce, restoreProof(key, id, sent, received, nonce)];

describe('session binding', () => {
  let f: Fixture;
  let strict: Fixture;
  let pinned: Fixture;
  const raws: RawClient[] = [];
  const track = <T extends RawClient>(client: T): T => {
    raws.push(client);
    return client;
  };
  const attempt = async (kind: RawKind, credentials: unknown[], fixture = f): Promise<Msg> => {
    const client = track(await openRaw(kind, fixture));
    const reply = await hello(client, restoreText(credentials));
    if (reply.error !== undefined) await client.waitClose();
    return reply;
  };

  before(async () => {
    f = await startServer();
    strict = await startServer({ idOnlyRestore: false });
    pinned = await startServer({ bindAddress: true });
  });

  after(async () => {
    for (const client of raws) client.destroy();
    await Promise.all([f.close(), strict.close(), pinned.close()]);
  });

  for (const kind of rawKinds) {
    describe(kind, () => {
      it('a leaked id alone restores nothing, in any form, and the owner keeps the session', async () => {
        const { client, id, key } = await openBoundSession(kind, f);
        track(client);
        assert.deepEqual((await rawCall(client, 1, 'counter', 'increment', [])).ok, [1]);
        client.destroy();
        await client.waitClose();
        // The attacker has the id and the counters (say, from a log), not the key.
        const forged = restoreProof('0'.repeat(64), id, 1, 1, Date.now());
        for (const credentials of [[id, 1], [id, 1, 1], [id, 0, 0], [id, 1, 1, Date.now(), forged], [id, 1, 1, Date.now(), 'f'.repeat(64)]]) {
          const reply = await attempt(kind, credentials);
          assert.deepEqual(reply.error, [11, 'Session not found', 'not_found'], `${JSON.stringify(credentials)} → ${JSON.stringify(reply)}`);
        }
        // The owner proves the key: the same session, nothing harmed.
        const owner = track(await openRaw(kind, f));
        const reply = await hello(owner, restoreText(boundCredentials(id, key, 1, 1, Date.now())));
        assert.deepEqual(reply.ok, [1, 1]);
        assert.deepEqual((await rawCall(owner, 2, 'counter', 'increment', [])).ok, [2]);
      });

      it('a proof is good once: a replayed or older hello is refused as stale, for its connection only', async () => {
        const { client, id, key } = await openBoundSession(kind, f);
        track(client);
        await rawCall(client, 1, 'counter', 'increment', []);
        client.destroy();
        const nonce = Date.now();
        const credentials = boundCredentials(id, key, 1, 1, nonce);
        const owner = track(await openRaw(kind, f));
        assert.deepEqual((await hello(owner, restoreText(credentials))).ok, [1, 1]);
        // Seen on the wire and sent again, or a copy that took a slower path.
        assert.deepEqual((await attempt(kind, credentials)).error, [11, 'Restore is stale: the session has moved on', 'stale']);
        assert.deepEqual((await attempt(kind, boundCredentials(id, key, 1, 1, nonce - 1))).error?.[2], 'stale');
        // The owner's connection was not touched.
        assert.equal(owner.closed, false);
        assert.deepEqual((await rawCall(owner, 2, 'counter', 'increment', [])).ok, [2]);
      });

      it('a late hello does not kill the live session: the newer restore keeps it', async () => {
        const { client, id, key } = await openBoundSession(kind, f);
        track(client);
        await rawCall(client, 1, 'counter', 'increment', []);
        client.destroy();
        // Path A's hello is made first but delivered last (a dying network).
        const late = boundCredentials(id, key, 1, 1, Date.now());
        const fresh = boundCredentials(id, key, 1, 1, (late[3] as number) + 1);
        const b = track(await openRaw(kind, f));
        assert.deepEqual((await hello(b, restoreText(fresh))).ok, [1, 1]);
        const pending = rawCall(b, 2, 'calc', 'slowEcho', ['kept', 80]);
        assert.deepEqual((await attempt(kind, late)).error?.[2], 'stale');
        assert.deepEqual((await pending).ok, ['kept'], 'the call in flight on the live connection is answered');
        assert.deepEqual((await rawCall(b, 3, 'counter', 'increment', [])).ok, [2]);
      });

      it('two restores of one session at the same moment: one welcome, one refusal, nothing of the session for the loser', async () => {
        const { client, id, key } = await openBoundSession(kind, f);
        track(client);
        await rawCall(client, 1, 'events', 'start', ['s', 3, 0]);
        client.destroy();
        await client.waitClose();
        const text = restoreText(boundCredentials(id, key, 1, 0, Date.now()));
        const racers = await Promise.all([openRaw(kind, f), openRaw(kind, f)]);
        for (const racer of racers) track(racer).send(text);
        const replies = await Promise.all(racers.map((racer) => racer.waitMessage(isHandshake)));
        assert.equal(replies.filter((reply) => reply.ok !== undefined).length, 1, JSON.stringify(replies));
        const loser = racers[replies.findIndex((reply) => reply.error !== undefined)] as RawClient;
        const winner = racers[replies.findIndex((reply) => reply.ok !== undefined)] as RawClient;
        await loser.waitClose();
        assert.equal(loser.messages.length, 1, `the loser got only its refusal: ${JSON.stringify(loser.texts)}`);
        await winner.waitMessage((m) => Array.isArray(m.event) && m.tick?.[1] === 2);
        assert.equal(winner.messages.filter((m) => Array.isArray(m.event)).length, 3, 'the winner got the replay once');
      });

      it('a key proves only its own session', async () => {
        const a = await openBoundSession(kind, f);
        const b = await openBoundSession(kind, f);
        track(a.client);
        track(b.client);
        a.client.destroy();
        const reply = await attempt(kind, boundCredentials(a.id, b.key, 0, 0, Date.now()));
        assert.deepEqual(reply.error?.[2], 'not_found');
      });

      it('an id-only session (a legacy client) restores by id, unless the server turns that off', async () => {
        const { client, id } = await openSession(kind, f);
        track(client);
        assert.equal(client.messages[0]?.tjstp?.key, undefined, 'no key for a client that did not ask');
        client.destroy();
        assert.equal((await attempt(kind, [id, 0])).ok, 0);
        const other = await openSession(kind, strict);
        track(other.client);
        other.client.destroy();
        assert.deepEqual((await attempt(kind, [other.id, 0, 0], strict)).error?.[2], 'not_found');
        assert.deepEqual((await attempt(kind, [other.id, 0], strict)).error?.[2], 'not_found');
      });
    });
  }

  it('with bindAddress, a session restores only from the address that opened it', async () => {
    const { client, id, key } = await openBoundSession('tcp', pinned);
    track(client);
    client.destroy();
    // 127.0.0.2 is loopback too, but another address.
    const { connectFrom } = await import('../helpers/address');
    const stranger = track(await connectFrom('127.0.0.2', pinned.port.tcp));
    assert.deepEqual((await hello(stranger, restoreText(boundCredentials(id, key, 0, 0, Date.now())))).error?.[2], 'not_found');
    const home = track(await openRaw('tcp', pinned));
    assert.deepEqual((await hello(home, restoreText(boundCredentials(id, key, 0, 0, Date.now())))).ok, [0, 0]);
  });

  for (const kind of clientKinds) {
    it(`${kind}: a tjstp client proves its key on every resume and reclaims from a ticket; the ticket carries key, nonce and user`, async () => {
      const client = await f.connect(kind);
      assert.equal(await client.call('counter', 'increment'), 1);
      const first = client.session;
      assert.match(first?.key ?? '', /^[0-9a-f]{64}$/);
      assert.equal(first?.user, null);
      const resumed: ServerSession[] = [];
      f.server.on('resume', (session) => resumed.push(session));
      for (let i = 0; i < 3; i++) {
        client.reconnect();
        await once(client, 'ready');
        assert.equal(await client.call('counter', 'increment'), i + 2);
      }
      assert.ok((client.session?.nonce ?? 0) > 0);
      await waitFor(() => resumed.length >= 3);
      // The app goes offline, persists its ticket and is restarted.
      client.reconnect(async () => {
        throw new Error('offline');
      });
      await delay(20);
      const ticket = JSON.parse(JSON.stringify(client.session));
      client.close();
      const { key: _key, ...withoutKey } = ticket;
      await assert.rejects(
        f.connect(kind, { session: withoutKey }),
        (error: unknown) => error instanceof SessionLostError && error.reason === 'not_found',
        'the ticket without its key restores nothing',
      );
      const reclaimed = await f.connect(kind, { session: ticket });
      assert.equal(await reclaimed.call('counter', 'increment'), 5);
      assert.equal(reclaimed.session?.key, ticket.key);
    });
  }

  it('a ticket of one user is not used to log in as another', async () => {
    const withLogin = await startServer({ authenticate: ({ credentials }) => (credentials as string[])[0] });
    try {
      const ann = await withLogin.connect('tcp', { login: { user: 'ann', password: 'x' } });
      assert.equal(ann.user, 'ann');
      const ticket = ann.session;
      assert.equal(ticket?.user, 'ann');
      await assert.rejects(
        withLogin.connect('tcp', { session: ticket ?? undefined, login: { user: 'bob', password: 'x' } }),
        /belongs to "ann", not to "bob"/,
      );
      // The same user reclaims it.
      ann.reconnect(async () => { throw new Error('offline'); });
      await delay(20);
      const again = await withLogin.connect('tcp', { session: ann.session ?? undefined, login: { user: 'ann', password: 'x' } });
      assert.equal(await again.call('events', 'whoami'), 'ann');
      ann.close();
    } finally {
      await withLogin.close();
    }
  });

  it('keeps serving others through all of it', async () => {
    const { client } = await openSession('tcp', f);
    track(client);
    assert.deepEqual((await rawCall(client, 1, 'calc', 'add', [40, 2])).ok, [42]);
    assert.ok(client.messages.some(isCallback(1)));
  });
});
