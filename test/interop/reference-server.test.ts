/**
 * A tjstp client against the reference server (@metarhia/jstp 2.3.0), over
 * TCP and WebSocket: handshakes and errors, calls with the reference's
 * record syntax, holes, several results and error forms, events both ways,
 * inspect, heartbeats both ways, and a restore in the reference's form, in
 * which every call still ends — with its result, or with a typed
 * CALLBACK_LOST where the reference dropped the reply — and none hangs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RemoteError, TjstpError, connect, type Client } from '../../lib/index';
import { delay, fastReconnect, kinds, once, waitFor } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { jstp, type Callback, type ReferenceConnection, type ReferenceServer } from '../helpers/reference';

type Conn = ReferenceConnection & { username: string | null };

const notes: unknown[] = [];

const api = {
  calc: {
    add: (_c: Conn, a: number, b: number, callback: Callback) => callback(null, a + b),
    echo: (_c: Conn, value: unknown, callback: Callback) => callback(null, value),
    several: (_c: Conn, callback: Callback) => callback(null, 1, 'two', [3]),
    holes: (_c: Conn, callback: Callback) => callback(null, [1, undefined, 3]),
    whoami: (connection: Conn, callback: Callback) => callback(null, connection.username),
    counter: (connection: Conn, callback: Callback) => {
      const value = ((connection.session.get('n') as number | undefined) ?? 0) + 1;
      connection.session.set('n', value);
      callback(null, value);
    },
    slowAdd: (_c: Conn, a: number, b: number, callback: Callback) => setTimeout(() => callback(null, a + b), 100),
    fire: (connection: Conn, name: string, count: number, callback: Callback) => {
      for (let i = 0; i < count; i++) connection.emitRemoteEvent('calc', 'tick', [name, i]);
      callback(null, count);
    },
    failRemote: (_c: Conn, callback: Callback) => callback(new jstp.RemoteError(1001, 'Custom failure', [{ field: 'x' }])),
    failString: (_c: Conn, callback: Callback) => callback('bad'),
    async asyncAdd(_c: Conn, a: number, b: number) {
      return a + b;
    },
  },
};

const eventHandlers = {
  calc: {
    note: (_c: Conn, text: unknown) => notes.push(text),
  },
};

for (const kind of kinds) {
  describe(`tjstp client → reference server over ${kind}`, () => {
    let server: ReferenceServer;
    let port = 0;
    const clients: Client[] = [];
    const url = (at = port): string => `${kind}://127.0.0.1:${at}`;
    const open = async (options: Record<string, unknown> = {}, at = port): Promise<Client> => {
      const client = await connect(url(at), { app: 'testApp', reconnect: fastReconnect, ...options });
      clients.push(client);
      return client;
    };

    before(async () => {
      const application = new jstp.Application('testApp', api, eventHandlers);
      const authPolicy = (_c: unknown, _app: unknown, strategy: string, credentials: [string, string], callback: Callback): void => {
        if (strategy === 'login' && credentials[1] === 'secret') callback(null, credentials[0]);
        else callback(new jstp.RemoteError(11));
      };
      const options = { applications: [application], authPolicy, heartbeatInterval: 40 };
      server = kind === 'tcp' ? jstp.net.createServer(options) : jstp.ws.createServer(options);
      // Its connections re-emit socket resets (from killed connections) as 'error'.
      const quiet = (connection: ReferenceConnection): void => connection.on('error', () => {});
      server.on('connect', quiet);
      server.on('reconnect', quiet);
      await new Promise<void>((resolve) => server.listen(0, resolve));
      port = server.address().port;
    });

    after(async () => {
      for (const client of clients) client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('handshakes anonymously and with a login, and recognises the reference', async () => {
      const anonymous = await open();
      assert.equal(anonymous.session?.legacy, true);
      assert.equal(anonymous.serverLimits, undefined);
      assert.equal(await anonymous.call('calc', 'whoami'), null);
      const ann = await open({ login: { user: 'ann', password: 'secret' } });
      assert.equal(await ann.call('calc', 'whoami'), 'ann');
      await assert.rejects(open({ login: { user: 'ann', password: 'wrong' } }), (e: unknown) => e instanceof RemoteError && e.code === 11);
      await assert.rejects(open({ app: 'noSuchApp' }), (e: unknown) => e instanceof RemoteError && e.code === 10);
    });

    it('asks for a version range', async () => {
      const client = await open({ version: '^1.0.0' });
      assert.equal(await client.call('calc', 'add', 1, 2), 3);
      await assert.rejects(open({ version: '^2.0.0' }), (e: unknown) => e instanceof RemoteError && e.code === 10);
    });

    it('calls: record syntax, holes, several results, async methods, every error form', async () => {
      const client = await open();
      const nested = { nested: [1, 'two', null, true], s: 'it\'s "q"' };
      assert.deepEqual(await client.call('calc', 'echo', nested), nested);
      assert.deepEqual(await client.callResults('calc', 'several', []), [1, 'two', [3]]);
      assert.deepEqual(await client.call('calc', 'holes'), [1, undefined, 3]);
      assert.equal(await client.call('calc', 'asyncAdd', 20, 22), 42);
      await assert.rejects(client.call('calc', 'failRemote'), (e: unknown) =>
        e instanceof RemoteError && e.code === 1001 && e.message === 'Custom failure' && JSON.stringify(e.info) === '[{"field":"x"}]');
      await assert.rejects(client.call('calc', 'failString'), (e: unknown) => e instanceof RemoteError && e.code === 1 && e.message === 'bad');
      await assert.rejects(client.call('calc', 'nope'), (e: unknown) => e instanceof RemoteError && e.code === 14);
      await assert.rejects(client.call('nope', 'x'), (e: unknown) => e instanceof RemoteError && e.code === 12);
      // The reference dispatches on the declared arity: send exactly as many arguments.
      await assert.rejects(client.call('calc', 'add', 1), (e: unknown) => e instanceof RemoteError && e.code === 17);
    });

    it('exchanges events both ways and inspects', async () => {
      const client = await open();
      const ticks: unknown[] = [];
      client.on('event', ({ iface, name, args }) => {
        if (iface === 'calc' && name === 'tick' && args[0] === 'E') ticks.push(args[1]);
      });
      assert.equal(await client.call('calc', 'fire', 'E', 4), 4);
      client.sendEvent('calc', 'note', `${kind}-hello`);
      await waitFor(() => ticks.length === 4 && notes.includes(`${kind}-hello`), 2000, 'the events');
      assert.deepEqual(ticks, [0, 1, 2, 3]);
      const names = await client.inspect('calc');
      assert.ok(names.includes('add') && names.includes('fire'));
      await assert.rejects(client.inspect('nope'), (e: unknown) => e instanceof RemoteError && e.code === 12);
    });

    it('keeps heartbeats flowing both ways without dropping the connection', async () => {
      const client = await open({ heartbeatInterval: 30 });
      let drops = 0;
      client.on('disconnect', () => drops++);
      await client.call('calc', 'fire', 'H', 3);
      await delay(250);
      assert.equal(drops, 0, 'pongs answer our pings; we answer the server pings');
      const connection = server.getClientsArray().find((c) => c.session.id === client.session?.id) as unknown as
        { session: { buffer: Map<number, string> } } | undefined;
      assert.ok(connection, 'the reference server lists our connection');
      // Between its pings the buffer empties: each of our pongs acknowledges everything before it.
      await waitFor(() => connection.session.buffer.size === 0, 1000, 'the reference server buffer to empty');
    });

    it('restores in the reference form; every call ends and none hangs', async () => {
      const proxy = new Proxy(port);
      await proxy.listen();
      try {
        const client = await open({}, proxy.port);
        assert.equal(await client.call('calc', 'counter'), 1);
        const ticks: unknown[] = [];
        client.on('event', ({ name, args }) => {
          if (name === 'tick' && args[0] === 'R') ticks.push(args[1]);
        });
        await client.call('calc', 'fire', 'R', 3);
        const inFlight = client.call('calc', 'slowAdd', 1, 2);
        await delay(20);
        proxy.killAll();
        const offline = client.call('calc', 'add', 5, 6);
        const [info] = await once<[{ resumed: boolean }]>(client, 'ready', 5000);
        assert.equal(info.resumed, true);
        // The reference does not buffer replies: the reply to a call it ran is gone.
        await assert.rejects(inFlight, (e: unknown) => e instanceof TjstpError && e.code === ErrorCode.CALLBACK_LOST);
        assert.equal(await offline, 11, 'a call made offline is sent after the restore');
        assert.equal(await client.call('calc', 'counter'), 2, 'the session state survived');
        assert.deepEqual(ticks, [0, 1, 2]);
        // After a restore the reference reuses its recent ids (its quirk Q3):
        // the new events must be delivered, not dropped as duplicates.
        const after: unknown[] = [];
        client.on('event', ({ name, args }) => {
          if (name === 'tick' && args[0] === 'S') after.push(args[1]);
        });
        await client.call('calc', 'fire', 'S', 3);
        await waitFor(() => after.length === 3, 2000, 'the events sent with reused ids');
        assert.deepEqual(after, [0, 1, 2]);
      } finally {
        await proxy.close();
      }
    });
  });
}
