/**
 * The handshake as seen on the wire, over raw TCP and raw WebSocket: new
 * sessions, application versions, login, handshake errors and timeouts,
 * and what the server logs. Restores are in handshake-restore.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';

import type { AuthenticationRequest, Logger } from '../../lib/index';
import { readErrorArguments } from '../../lib/server/options';
import { kinds, startServer, type Fixture } from '../helpers/fixtures';
import {
  hello,
  isClose,
  isHandshake,
  openRaw,
  openSession,
  rawCall,
  type Msg,
  type RawClient,
} from '../helpers/raw';

const SESSION_ID = /^[A-Za-z0-9_-]+$/;

/** The hook of the login server: users by password, plus misbehaving ones. */
const authenticate = (request: AuthenticationRequest): string | null | Promise<string | null> => {
  const [user, password] = Array.isArray(request.credentials) ? request.credentials as unknown[] : [];
  if (request.strategy !== 'login') return null;
  if (user === 'thrower') throw new Error('hook exploded');
  if (user === 'rejecter') return Promise.reject(new Error('hook rejected'));
  if (user === 'later') {
    return new Promise((resolve) => setTimeout(() => resolve(password === 'pw' ? 'later-user' : null), 20));
  }
  return user === 'user' && password === 'pw' ? 'user' : null;
};

const expectHandshakeError = async (client: RawClient, expected: unknown[]): Promise<Msg> => {
  const reply = await client.waitMessage(isHandshake);
  assert.equal(reply.ok, undefined, `expected an error, got ${JSON.stringify(reply)}`);
  assert.deepEqual(reply.handshake, [0]);
  assert.deepEqual(reply.error.slice(0, expected.length), expected);
  await client.waitClose();
  return reply;
};

describe('server handshake', () => {
  let main: Fixture;
  let login: Fixture;
  let quick: Fixture;
  const clients: RawClient[] = [];
  const open = async (kind: (typeof kinds)[number], fixture: Fixture = main): Promise<RawClient> => {
    const client = await openRaw(kind, fixture);
    clients.push(client);
    return client;
  };

  before(async () => {
    main = await startServer();
    login = await startServer({ authenticate });
    quick = await startServer({ handshakeTimeout: 100 });
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await Promise.all([main.close(), login.close(), quick.close()]);
  });

  for (const kind of kinds) {
    describe(kind, () => {
      it('anonymous hello gets a fresh unguessable session id and the tjstp limits', async () => {
        const first = await open(kind);
        const second = await open(kind);
        const a = await hello(first);
        const b = await hello(second);
        for (const reply of [a, b]) {
          assert.deepEqual(reply.handshake, [0]);
          assert.equal(typeof reply.ok, 'string');
          assert.match(reply.ok, SESSION_ID, 'base64url');
          // 22 base64url characters carry 132 bits.
          assert.ok(reply.ok.length >= 22, `session id too short: ${reply.ok.length}`);
          assert.equal(reply.tjstp.version, 1);
          assert.equal(reply.tjstp.maxBufferedBytes, main.server.limits.maxBufferedBytes);
          assert.equal(reply.tjstp.holdTime, main.server.limits.holdTime);
          assert.ok(Number.isSafeInteger(reply.tjstp.maxBufferedBytes) && reply.tjstp.maxBufferedBytes > 0);
          assert.ok(Number.isSafeInteger(reply.tjstp.holdTime) && reply.tjstp.holdTime > 0);
        }
        assert.notEqual(a.ok, b.ok);
        // The raw handshake text is exactly the documented form.
        assert.match(first.texts[0] as string, /^\{"handshake":\[0\],"ok":"[A-Za-z0-9_-]+","tjstp":\{/);
        // The session works.
        const reply = await rawCall(first, 1, 'calc', 'add', [2, 3]);
        assert.deepEqual(reply.ok, [5]);
        assert.equal(first.closed, false);
      });

      it('accepts app@version, a version header and a matching range', async () => {
        for (const text of [
          '{"handshake":[0,"testApp@1.0.0"]}',
          '{"handshake":[0,"testApp","1.0.0"]}',
          '{"handshake":[0,"testApp","^1.0.0"]}',
          "{handshake:[0,'testApp','>=0.1 <2']}",
        ]) {
          const client = await open(kind);
          const reply = await hello(client, text);
          assert.equal(typeof reply.ok, 'string', `${text} -> ${JSON.stringify(reply)}`);
          const call = await rawCall(client, 1, 'calc', 'add', [1, 1]);
          assert.deepEqual(call.ok, [2], text);
        }
      });

      it('answers an unmatched version or range with [10] and closes', async () => {
        for (const text of [
          '{"handshake":[0,"testApp","^2.0.0"]}',
          '{"handshake":[0,"testApp","1.0.1"]}',
          '{"handshake":[0,"testApp@2.0.0"]}',
          '{"handshake":[0,"testApp","not a range!"]}',
        ]) {
          const client = await open(kind);
          client.send(text);
          await expectHandshakeError(client, [10]);
        }
      });

      it('answers an unknown application with [10] and closes', async () => {
        const client = await open(kind);
        client.send('{"handshake":[0,"noSuchApp"]}');
        const reply = await expectHandshakeError(client, [10]);
        assert.equal(client.texts.length, 1, 'nothing but the error');
        assert.deepEqual(reply.error, [10]);
      });

      it('answers a login with [11] when the server has no authenticate hook', async () => {
        const client = await open(kind);
        client.send('{"handshake":[0,"testApp"],"login":["user","pw"]}');
        await expectHandshakeError(client, [11]);
        const custom = await open(kind);
        custom.send('{"handshake":[0,"testApp"],"token":"abc"}');
        await expectHandshakeError(custom, [11]);
      });

      it('logs in through the hook (sync and Promise) and names the user', async () => {
        for (const [credentials, user] of [[['user', 'pw'], 'user'], [['later', 'pw'], 'later-user']] as const) {
          const client = await open(kind, login);
          const reply = await hello(client, JSON.stringify({ handshake: [0, 'testApp'], login: credentials }));
          assert.equal(typeof reply.ok, 'string', JSON.stringify(reply));
          assert.ok(reply.ok.length >= 22);
          const whoami = await rawCall(client, 1, 'events', 'whoami', []);
          assert.deepEqual(whoami.ok, [user]);
        }
        // Anonymous still works on a server with a hook.
        const anonymous = await open(kind, login);
        const reply = await hello(anonymous);
        assert.equal(typeof reply.ok, 'string');
        assert.deepEqual((await rawCall(anonymous, 1, 'events', 'whoami', [])).ok, [null]);
      });

      it('answers refused credentials with [11] and closes', async () => {
        for (const credentials of [['user', 'wrong'], ['later', 'wrong'], ['nobody', 'pw'], 'not-an-array']) {
          const client = await open(kind, login);
          client.send(JSON.stringify({ handshake: [0, 'testApp'], login: credentials }));
          await expectHandshakeError(client, [11]);
        }
      });

      it('answers a hook that throws or rejects with an error, and keeps serving', async () => {
        for (const user of ['thrower', 'rejecter']) {
          const client = await open(kind, login);
          client.send(JSON.stringify({ handshake: [0, 'testApp'], login: [user, 'pw'] }));
          const reply = await client.waitMessage(isHandshake);
          assert.equal(reply.ok, undefined);
          assert.ok(Array.isArray(reply.error) && typeof reply.error[0] === 'number', JSON.stringify(reply));
          // The hook's own message is not leaked to the client.
          assert.doesNotMatch(JSON.stringify(reply), /hook (exploded|rejected)/);
          await client.waitClose();
        }
        const healthy = await open(kind, login);
        assert.equal(typeof (await hello(healthy, '{"handshake":[0,"testApp"],"login":["user","pw"]}')).ok, 'string');
        assert.deepEqual((await rawCall(healthy, 1, 'calc', 'add', [20, 22])).ok, [42]);
      });

      it('answers a silent client with [22] after handshakeTimeout and closes', async () => {
        const client = await open(kind, quick);
        const started = Date.now();
        const reply = await client.waitMessage(isHandshake, 2000);
        assert.deepEqual(reply.error.slice(0, 1), [22]);
        assert.equal(typeof reply.error[1], 'string');
        assert.ok(Date.now() - started >= 80, 'not before the timeout');
        await client.waitClose();
        // A client that does say hello in time is not affected.
        const prompt = await open(kind, quick);
        assert.equal(typeof (await hello(prompt)).ok, 'string');
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(prompt.closed, false);
        assert.deepEqual((await rawCall(prompt, 1, 'calc', 'add', [1, 2])).ok, [3]);
      });

      it('closes with error 20 on a second handshake', async () => {
        const client = await open(kind);
        assert.equal(typeof (await hello(client)).ok, 'string');
        client.send('{"handshake":[0,"testApp"]}');
        const close = await client.waitMessage(isClose);
        assert.deepEqual(close.close, [0]);
        assert.equal(close.error[0], 20);
        assert.match(close.error[1], /handshake/i);
        await client.waitClose();
        if (kind === 'ws') assert.equal(client.closeCode, 1002);
        assert.equal(client.messages.filter(isHandshake).length, 1, 'no second welcome');
      });

      it('closes with a clear error on a call before the handshake', async () => {
        const client = await open(kind);
        client.send('{"call":[1,"calc"],"add":[1,2]}');
        const reply = await client.waitMessage((m) => isHandshake(m) || isClose(m));
        assert.equal(reply.error[0], 20, JSON.stringify(reply));
        assert.match(reply.error[1], /handshake/i);
        await client.waitClose();
        assert.equal(client.messages.some((m) => Array.isArray(m.callback)), false, 'the call must not run');
        if (kind === 'ws') assert.equal(client.closeCode, 1002);
      });
    });
  }
});

describe('server logging', () => {
  it('never logs the session id', async () => {
    const lines: string[] = [];
    const capture = (level: string) => (message: string, error?: unknown): void => {
      lines.push(`${level} ${message} ${error === undefined ? '' : inspect(error, { depth: 10 })}`);
    };
    const logger: Logger = {
      info: capture('info'),
      warn: capture('warn'),
      error: (first: string | object, second?: string) => {
        const { message, thrown } = readErrorArguments(first, second);
        capture('error')(message, thrown);
      },
    };
    const f = await startServer({ logger, session: { holdTime: 50 } });
    const ids: string[] = [];
    try {
      for (const kind of kinds) {
        const { client, id } = await openSession(kind, f);
        ids.push(id);
        assert.deepEqual((await rawCall(client, 1, 'calc', 'echo', [id])).ok, [id]);
        for (const [n, method] of [[2, 'throws'], [3, 'rejects'], [4, 'remote'], [5, 'bigint']] as const) {
          const reply = await rawCall(client, n, 'fail', method, [id]);
          assert.ok(Array.isArray(reply.error), `${method}: ${JSON.stringify(reply)}`);
        }
        await rawCall(client, 6, 'nope', 'nope', [id]);
        client.destroy();
        // Restore with the id, with a wrong id, then break the protocol.
        const again = await openRaw(kind, f);
        const restored = await hello(again, JSON.stringify({ handshake: [0, 'testApp'], session: [id, 6, 6] }));
        assert.deepEqual(restored.ok, [6, 6]);
        again.send('{"call":[7,"calc"],"add":5}');
        await again.waitClose();
        const wrong = await openRaw(kind, f);
        wrong.send(JSON.stringify({ handshake: [0, 'testApp'], session: [id.slice(1), 0, 0] }));
        await wrong.waitClose();
        const lost = await openRaw(kind, f);
        const reply = await hello(lost, JSON.stringify({ handshake: [0, 'testApp'], session: [id, 0, 0] }));
        assert.deepEqual(reply.error, [11, 'Session closed after a protocol error', 'protocol']);
        await lost.waitClose();
      }
      // A session that expires while detached.
      const { client, id } = await openSession('tcp', f);
      ids.push(id);
      client.destroy();
      await new Promise((resolve) => setTimeout(resolve, 150));
    } finally {
      await f.close();
    }
    const text = lines.join('\n');
    assert.ok(lines.length >= 2, `the failing methods should have been logged: ${text}`);
    for (const id of ids) {
      assert.equal(text.includes(id), false, `session id leaked into the log:\n${text}`);
    }
  });
});
