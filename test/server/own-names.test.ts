/**
 * Names that come off the wire find only what the application (or the
 * client's `api`) itself defines: `Object.prototype`'s names are unknown
 * interfaces (12) and unknown methods (14), never an answer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError, connect, type ServerSession } from '../../lib/index';
import { fastReconnect, kinds, startServer } from '../helpers/fixtures';
import { isCallback, openSession, rawCall } from '../helpers/raw';
import { makeApps, serve } from './loader-fixtures';

const inherited = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__'] as const;

const rejectsWithCode = (promise: Promise<unknown>, code: number, what: string): Promise<void> =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RemoteError, `${what}: ${String(error)}`);
    assert.equal(error.code, code, `${what}: ${error.message}`);
    return true;
  });

describe('names off the wire see only own names', () => {
  for (const kind of kinds) {
    it(`answers 12 and 14 for Object.prototype names over ${kind}: interfaces, methods, $tjstp, inspect, events`, async () => {
      const f = await startServer();
      try {
        const { client } = await openSession(kind, f);
        let id = 0;
        for (const name of inherited) {
          assert.deepEqual((await rawCall(client, ++id, name, 'add', [1, 2])).error, [12], `${name}.add`);
          assert.deepEqual((await rawCall(client, ++id, 'calc', name, [])).error, [14], `calc.${name}`);
          assert.deepEqual((await rawCall(client, ++id, '$tjstp', name, [])).error, [14], `$tjstp.${name}`);
          client.send(JSON.stringify({ inspect: [++id, name] }));
          assert.deepEqual((await client.waitMessage(isCallback(id))).error, [12], `inspect ${name}`);
          // No handler answers an event, inherited or not; the session carries on.
          client.send(JSON.stringify({ event: [++id, name], [name]: [] }));
          client.send(JSON.stringify({ event: [++id, 'calc'], [name]: [] }));
        }
        assert.deepEqual((await rawCall(client, ++id, 'calc', 'add', [2, 3])).ok, [5]);
        assert.equal(client.closed, false);
        client.destroy();
      } finally {
        await f.close();
      }
    });
  }

  it('answers 12 and 14 for Object.prototype names on the client api the server calls', async () => {
    const f = await startServer();
    const sessions: ServerSession[] = [];
    f.server.on('session', (session: ServerSession) => sessions.push(session));
    const client = await connect(f.url.tcp, {
      app: 'testApp',
      reconnect: fastReconnect,
      api: { device: { battery: () => 42 } },
    });
    try {
      const session = sessions[0] as ServerSession;
      assert.equal(await session.call('device', 'battery'), 42);
      for (const name of inherited) {
        await rejectsWithCode(session.call(name, 'battery'), 12, `${name}.battery`);
        await rejectsWithCode(session.call('device', name), 14, `device.${name}`);
        await rejectsWithCode(session.peer.inspect(name), 12, `inspect ${name}`);
      }
      assert.deepEqual(await session.peer.inspect('device'), ['battery']);
    } finally {
      client.close();
      await f.close();
    }
  });

  it('loads a directory or file named like an Object.prototype member as its own interface or method', async () => {
    const root = makeApps({
      'app/api/__proto__/ping.js': "module.exports = () => 'pong';\n",
      'app/api/rooms/constructor.js': "module.exports = () => 'built';\n",
      'app/api/rooms/hasOwnProperty.js': "module.exports = () => 'own';\n",
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'app' });
      assert.equal(await client.call('__proto__', 'ping'), 'pong');
      assert.equal(await client.call('rooms', 'constructor'), 'built');
      assert.equal(await client.call('rooms', 'hasOwnProperty'), 'own');
      assert.equal(({} as Record<string, unknown>).ping, undefined, 'Object.prototype untouched');
      await rejectsWithCode(client.call('rooms', 'toString'), 14, 'rooms.toString');
      await rejectsWithCode(client.call('__proto__', 'constructor'), 14, '__proto__.constructor');
      const described = (await client.call('$tjstp', 'describe')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(described).sort(), ['__proto__', 'rooms']);
      assert.deepEqual(Object.keys(described['__proto__'] as object), ['ping']);
      assert.deepEqual(await client.call('$tjstp', 'interfaces'), ['__proto__', 'rooms']);
    } finally {
      await served.close();
    }
  });
});
