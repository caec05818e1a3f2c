/**
 * The reference client (@metarhia/jstp 2.3.0) against a tjstp server, over
 * TCP and WebSocket: handshakes and their errors, calls and the reference's
 * error forms, events both ways, inspect, heartbeats, version ranges, and a
 * restore in the reference's own form after a connection killed mid-stream
 * — counting that it gets everything it is owed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerSession } from '../../lib/index';
import { delay, kinds, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { connectReference, referenceCall, type ReferenceConnection } from '../helpers/reference';

for (const kind of kinds) {
  describe(`reference client → tjstp server over ${kind}`, () => {
    let fixture: Fixture;
    const connections: ReferenceConnection[] = [];
    const open = async (app = 'testApp', options: Parameters<typeof connectReference>[3] = {}, port = fixture.port[kind]): Promise<ReferenceConnection> => {
      const connection = await connectReference(kind, app, port, options);
      connections.push(connection);
      return connection;
    };

    before(async () => {
      fixture = await startServer({
        heartbeatInterval: 50,
        authenticate: ({ credentials }) => {
          const [user, password] = credentials as [string, string];
          return password === 'secret' ? user : null;
        },
      });
    });

    after(async () => {
      for (const connection of connections) connection.close();
      await fixture.close();
    });

    it('handshakes anonymously and with a login; errors 10 and 11', async () => {
      const anonymous = await open();
      assert.ok(anonymous.session.id.length >= 22, 'the session id tjstp issued');
      assert.deepEqual(await referenceCall(anonymous, 'events', 'whoami', []), [null]);
      const ann = await open('testApp', { login: 'ann', password: 'secret' });
      assert.deepEqual(await referenceCall(ann, 'events', 'whoami', []), ['ann']);
      await assert.rejects(open('testApp', { login: 'ann', password: 'wrong', reconnector: null }), (e: { code: number }) => e.code === 11);
      await assert.rejects(open('noSuchApp', { reconnector: null }), (e: { code: number }) => e.code === 10);
    });

    it('resolves an application version range', async () => {
      const ranged = await open('testApp@^1.0.0');
      assert.deepEqual(await referenceCall(ranged, 'calc', 'add', [2, 3]), [5]);
      await assert.rejects(open('testApp@^2.0.0', { reconnector: null }), (e: { code: number }) => e.code === 10);
    });

    it('calls, with results and the reference error forms', async () => {
      const connection = await open();
      assert.deepEqual(await referenceCall(connection, 'calc', 'add', [2, 3]), [5]);
      const nested = { nested: [1, 'two', null, true], s: 'it\'s "q"' };
      assert.deepEqual(await referenceCall(connection, 'calc', 'echo', [nested]), [nested]);
      assert.deepEqual(await referenceCall(connection, 'calc', 'nothing', []), []);
      await assert.rejects(referenceCall(connection, 'fail', 'remote', []), (e: { code: number; message: string; info: unknown }) =>
        e.code === 1001 && e.message === 'Custom failure' && JSON.stringify(e.info) === '[{"field":"x"}]');
      await assert.rejects(referenceCall(connection, 'fail', 'throws', []), (e: { code: number }) => e.code === 16);
      await assert.rejects(referenceCall(connection, 'calc', 'nope', []), (e: { code: number }) => e.code === 14);
      await assert.rejects(referenceCall(connection, 'nope', 'x', []), (e: { code: number }) => e.code === 12);
    });

    it('exchanges events both ways, once and in order', async () => {
      const connection = await open();
      const received: unknown[] = [];
      connection.on('event', (iface: string, name: string, args: unknown[]) => {
        if (iface === 'events' && name === 'tick') received.push(args[1]);
      });
      const notes: unknown[] = [];
      const onEvent = (_s: ServerSession, iface: string, name: string, args: unknown[]): void => {
        if (iface === 'calc' && name === 'note') notes.push(args[0]);
      };
      fixture.server.on('event', onEvent);
      await referenceCall(connection, 'events', 'start', ['S', 5, 0]);
      connection.emitRemoteEvent('calc', 'note', ['one']);
      connection.emitRemoteEvent('calc', 'note', ['two']);
      await waitFor(() => received.length === 5 && notes.length === 2, 2000, 'the events');
      fixture.server.off('event', onEvent);
      assert.deepEqual(received, [0, 1, 2, 3, 4]);
      assert.deepEqual(notes, ['one', 'two']);
    });

    it('inspects an interface and calls through the proxy', async () => {
      const connection = await open();
      const proxy = await new Promise<Record<string, (...args: unknown[]) => void>>((resolve, reject) => {
        connection.inspectInterface('calc', (error, result) => (error ? reject(error) : resolve(result)));
      });
      assert.equal(typeof proxy.add, 'function');
      const sum = await new Promise((resolve, reject) => {
        (proxy.add as (...args: unknown[]) => void)(20, 22, (error: unknown, value: unknown) => (error ? reject(error) : resolve(value)));
      });
      assert.equal(sum, 42);
    });

    it('answers its pings, and its pongs to the server heartbeat empty the server buffer', async () => {
      const connection = await open('testApp', { heartbeatInterval: 30 });
      await referenceCall(connection, 'events', 'start', ['P', 20, 0]);
      const session = [...fixture.server.sessions.values()].find((s) => s.attached && s.peer.state.lastSeq >= 21);
      assert.ok(session);
      // The reference never acknowledges on its own: only its pong to our ping can.
      await waitFor(() => session.peer.state.outbox.size === 0, 2000, 'the server buffer to drain');
      const before = session.peer.state.received;
      await delay(100);
      assert.ok(session.peer.state.received > before, 'its pings (which take ids) arrived and were counted');
      assert.deepEqual(await referenceCall(connection, 'calc', 'add', [1, 1]), [2]);
    });

    it('restores in its own form after a drop mid-stream and gets everything it is owed', async () => {
      const proxy = new Proxy(fixture.port[kind]);
      await proxy.listen();
      try {
        const connection = await open('testApp', {}, proxy.port);
        const ticks: unknown[] = [];
        connection.on('event', (iface: string, name: string, args: unknown[]) => {
          if (iface === 'events' && name === 'tick' && args[0] === 'R') ticks.push(args[1]);
        });
        const outcomes = new Map<string, string>();
        const call = (token: string, ms: number): void => {
          connection.callMethod('ledger', 'record', [token, ms], (error, result) => {
            outcomes.set(token, error === null || error === undefined ? String(result) : `error ${String(error?.code ?? error)}`);
          });
        };
        await referenceCall(connection, 'events', 'start', ['R', 40, 5]);
        for (let i = 0; i < 5; i++) call(`${kind}-ref-${i}`, i % 2 === 0 ? 80 : 0);
        await delay(40);
        proxy.killAll();
        await delay(5);
        for (let i = 5; i < 8; i++) call(`${kind}-ref-${i}`, 0); // made while offline
        await waitFor(() => outcomes.size === 8 && ticks.length >= 40, 5000, 'every call answered and every event delivered');
        await delay(100);
        for (let i = 0; i < 8; i++) {
          const token = `${kind}-ref-${i}`;
          assert.equal(outcomes.get(token), token, `call ${i} answered with its result, not lost`);
          assert.equal(fixture.app.executions.get(token), 1, `call ${i} ran once`);
        }
        assert.deepEqual(ticks, [...Array(40).keys()], 'every event once, in order');
        assert.ok(proxy.kills >= 1);
      } finally {
        await proxy.close();
      }
    });
  });
}
