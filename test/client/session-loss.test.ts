/**
 * When a session cannot be resumed — the server restarted, the session
 * expired or overflowed, a persisted ticket is stale — the client must say
 * so with a typed error, never retry the dead session, and carry on with a
 * new one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  ErrorCode,
  SessionLostError,
  TjstpError,
  connect,
  type Client,
  type ServerSession,
} from '../../lib/index';
import { delay, fastReconnect, kinds, once, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

const serverScript = path.join(__dirname, '..', 'helpers', 'server-process.js');

const startChild = (tcp = 0, ws = 0): Promise<{ child: ChildProcess; tcp: number; ws: number }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverScript, String(tcp), String(ws)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready (\d+) (\d+)/.exec(output);
      if (match) resolve({ child, tcp: Number(match[1]), ws: Number(match[2]) });
    });
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });

const killed = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

for (const kind of kinds) {
  describe(`session loss over ${kind}`, () => {
    it('after a server restart: pending calls fail typed, sessionLost fires, a new session serves', async () => {
      let server = await startChild();
      const port = kind === 'tcp' ? server.tcp : server.ws;
      const client = await connect(`${kind}://127.0.0.1:${port}`, { app: 'testApp', reconnect: fastReconnect });
      try {
        assert.equal(await client.call('counter', 'increment'), 1);
        const before = client.session?.id;
        await killed(server.child);
        const pending = client.call('calc', 'add', 1, 2);
        const lost = once<[SessionLostError]>(client, 'sessionLost', 10_000);
        server = await startChild(server.tcp, server.ws);
        const [error] = await lost;
        assert.ok(error instanceof SessionLostError);
        assert.equal(error.reason, 'not_found');
        await assert.rejects(pending, (e: unknown) => e instanceof SessionLostError && e.code === ErrorCode.SESSION_LOST);
        const [info] = await once<[{ resumed: boolean }]>(client, 'ready', 5000);
        assert.equal(info.resumed, false);
        assert.equal(await client.call('counter', 'increment'), 1, 'a new session, new state');
        assert.notEqual(client.session?.id, before);
      } finally {
        client.close();
        await killed(server.child);
      }
    });
  });
}

describe('session loss on one server', () => {
  let fixture: Fixture;
  let proxy: Proxy;
  const clients: Client[] = [];

  before(async () => {
    fixture = await startServer({ session: { holdTime: 150, maxBufferedBytes: 64 * 1024 } });
    proxy = new Proxy(fixture.port.tcp);
    await proxy.listen();
  });

  after(async () => {
    for (const client of clients) client.close();
    await proxy.close();
    await fixture.close();
  });

  const open = async (options: Record<string, unknown> = {}): Promise<Client> => {
    const client = await connect(`tcp://127.0.0.1:${proxy.port}`, { app: 'testApp', reconnect: fastReconnect, ...options });
    clients.push(client);
    return client;
  };

  it('an expired session is reported as expired and replaced', async () => {
    const client = await open({ reconnect: { initialDelay: 400, maxDelay: 400, jitter: 0 } });
    await client.call('counter', 'increment');
    proxy.killAll();
    const [error] = await once<[SessionLostError]>(client, 'sessionLost', 3000);
    assert.equal(error.reason, 'expired');
    await once(client, 'ready');
    assert.equal(await client.call('counter', 'increment'), 1);
    client.close();
  });

  it('a detached session that overflows its buffer is reported as overflow', async () => {
    const client = await open({ reconnect: { initialDelay: 100, maxDelay: 100, jitter: 0 } });
    const sessions: ServerSession[] = [];
    fixture.server.once('detach', (session: ServerSession) => sessions.push(session));
    proxy.killAll();
    await waitFor(() => sessions.length === 1, 2000, 'the detach');
    const ended = once<[ServerSession, string]>(fixture.server, 'end', 2000);
    const session = sessions[0] as ServerSession;
    for (let i = 0; i < 2000 && !session.ended; i++) session.emit('events', 'tick', ['x'.repeat(100), i]);
    const [, reason] = await ended;
    assert.equal(reason, 'overflow');
    const [error] = await once<[SessionLostError]>(client, 'sessionLost', 3000);
    assert.equal(error.reason, 'overflow');
    const [info] = await once<[{ resumed: boolean }]>(client, 'ready', 3000);
    assert.equal(info.resumed, false);
    client.close();
  });

  it('a persisted ticket is reclaimed by a new client object', async () => {
    const first = await open({ reconnect: false });
    const events: number[] = [];
    await first.call('counter', 'increment');
    await first.call('counter', 'increment');
    let ticket = first.session;
    first.on('disconnect', () => {
      ticket = first.session;
    });
    first.on('event', (event) => events.push(event.args[1] as number));
    await first.call('events', 'start', 'T', 3, 0);
    await waitFor(() => events.length === 3, 2000, 'the first events');
    proxy.killAll();
    await waitFor(() => first.state === 'closed', 2000, 'the first client to stop');
    const persisted = JSON.parse(JSON.stringify(ticket));
    const second = await open({ session: persisted });
    assert.equal(await second.call('counter', 'increment'), 3);
    assert.equal(second.session?.id, persisted.id);
    second.close();
  });

  it('reclaiming a session the server no longer has fails with a typed error', async () => {
    const ticket = { id: 'x'.repeat(32), app: 'testApp', legacy: false, lastSeq: 3, received: 2, acked: 3, outbox: [] };
    await assert.rejects(
      connect(`tcp://127.0.0.1:${proxy.port}`, { app: 'testApp', session: ticket }),
      (error: unknown) => error instanceof SessionLostError && error.reason === 'not_found',
    );
  });

  it('two clients with one ticket (a copied ticket): the newer keeps the session, the older gives it up (stale) once, no tug of war', async () => {
    const older = await open();
    assert.equal(await older.call('counter', 'increment'), 1);
    const ticket = older.session;
    assert.ok(ticket);
    const lost: string[] = [];
    older.on('sessionLost', (error) => lost.push(error.reason));
    let readies = 0;
    older.on('ready', () => readies++);
    const newer = await open({ session: ticket });
    newer.on('ready', () => readies++);
    await waitFor(() => lost.length > 0 && older.state === 'ready', 5000, 'the older client on a new session');
    const connections = proxy.connections;
    // A tug of war would reconnect every few ms (fastReconnect): none may follow.
    await delay(500);
    assert.equal(proxy.connections, connections, 'settled');
    assert.deepEqual(lost, ['stale']);
    assert.equal(readies, 1, 'one new session, and nothing else');
    assert.equal(newer.session?.id, ticket.id, 'the newer restore keeps the session');
    assert.notEqual(older.session?.id, ticket.id);
    assert.equal(await newer.call('counter', 'increment'), 2, 'with its state');
    assert.equal(await older.call('counter', 'increment'), 1, 'a new session, its own state');
  });

  it('close() ends the session on the server and fails pending calls', async () => {
    const client = await open();
    const ended = once<[ServerSession, string]>(fixture.server, 'end', 2000);
    const pending = client.call('calc', 'slowEcho', 1, 200);
    await delay(10);
    client.close();
    await assert.rejects(pending, (e: unknown) => e instanceof TjstpError && e.code === ErrorCode.CLIENT_CLOSED);
    const [, reason] = await ended;
    assert.equal(reason, 'closed');
    assert.equal(client.state, 'closed');
    const connections = proxy.connections;
    await delay(100);
    assert.equal(proxy.connections, connections, 'no reconnect after close()');
  });
});

describe('transient handshake failures', () => {
  it('keep reconnecting: a slow login that times out once is retried, not fatal', async () => {
    let slow = false;
    const fixture = await startServer({
      handshakeTimeout: 150,
      authenticate: async () => {
        if (slow) {
          slow = false;
          await delay(400);
        }
        return 'ann';
      },
    });
    try {
      const client = await fixture.connect('tcp', { login: { user: 'ann', password: 'x' } });
      const session = [...fixture.server.sessions.values()][0] as ServerSession;
      slow = true;
      const lost = once<[SessionLostError]>(client, 'sessionLost', 3000);
      fixture.server.endSession(session, 'expired');
      await lost;
      const [info] = await once<[{ resumed: boolean }]>(client, 'ready', 5000);
      assert.equal(info.resumed, false, 'a new session after the timed-out login was retried');
      assert.equal(await client.call('events', 'whoami'), 'ann');
    } finally {
      await fixture.close();
    }
  });

  it('a client refuses events beyond its buffer while offline', async () => {
    const fixture = await startServer();
    try {
      const client = await fixture.connect('tcp', { maxBufferedBytes: 300, reconnect: { initialDelay: 5000 } });
      client.reconnect(async () => {
        throw new Error('offline');
      });
      await waitFor(() => client.state !== 'ready', 1000, 'the drop');
      assert.throws(() => {
        for (let i = 0; i < 100; i++) client.sendEvent('calc', 'note', 'x'.repeat(20));
      }, (e: unknown) => e instanceof TjstpError && e.code === ErrorCode.BUFFER_FULL);
      await assert.rejects(client.call('calc', 'echo', 'y'.repeat(400)), (e: unknown) => e instanceof TjstpError && e.code === ErrorCode.BUFFER_FULL);
    } finally {
      await fixture.close();
    }
  });
});
