/**
 * Resuming a session after the connection is lost, on both transports,
 * through a proxy that breaks connections the way networks do.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, transportFor, type Client, type RemoteEvent } from '../../lib/index';
import { decodeMessage } from '../../lib/protocol/message';
import { delay, fastReconnect, kinds, once, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

const ticks = (events: RemoteEvent[], stream: string): number[] =>
  events.filter((e) => e.name === 'tick' && e.args[0] === stream).map((e) => e.args[1] as number);

for (const kind of kinds) {
  describe(`resume over ${kind}`, () => {
    let fixture: Fixture;
    let proxy: Proxy;
    const clients: Client[] = [];
    const open = async (options: Record<string, unknown> = {}): Promise<Client> => {
      const url = kind === 'tcp' ? `tcp://127.0.0.1:${proxy.port}` : `ws://127.0.0.1:${proxy.port}`;
      const client = await connect(url, { app: 'testApp', reconnect: fastReconnect, ...options });
      clients.push(client);
      return client;
    };

    before(async () => {
      fixture = await startServer();
      proxy = new Proxy(fixture.port[kind]);
      await proxy.listen();
    });

    after(async () => {
      for (const client of clients) client.close();
      await proxy.close();
      await fixture.close();
    });

    it('answers calls in flight and keeps session state across a drop', async () => {
      const client = await open();
      assert.deepEqual(client.serverLimits, { maxBufferedBytes: 4 * 1024 * 1024, holdTime: 120_000, maxPendingMessages: 1000, maxPendingBytes: 4 * 1024 * 1024 });
      assert.equal(await client.call('counter', 'increment'), 1);
      const slow = client.call('ledger', 'record', `${kind}-inflight`, 60);
      await delay(20);
      assert.equal(proxy.killAll() > 0, true);
      const [info] = await once<[{ resumed: boolean }]>(client, 'ready');
      assert.equal(info.resumed, true);
      assert.equal(await slow, `${kind}-inflight`);
      assert.equal(fixture.app.executions.get(`${kind}-inflight`), 1);
      assert.equal(await client.call('counter', 'increment'), 2);
    });

    it('sends calls made while disconnected after the restore, in order', async () => {
      const client = await open({ reconnect: { initialDelay: 100, maxDelay: 100, jitter: 0 } });
      proxy.killAll();
      await waitFor(() => client.state !== 'ready', 2000, 'the drop');
      const offline = [1, 2, 3].map((n) => client.call('ledger', 'record', `${kind}-offline-${n}`));
      client.sendEvent('calc', 'note', 'offline');
      assert.deepEqual(await Promise.all(offline), [1, 2, 3].map((n) => `${kind}-offline-${n}`));
      for (const n of [1, 2, 3]) assert.equal(fixture.app.executions.get(`${kind}-offline-${n}`), 1);
    });

    it('delivers every event once and in order across repeated drops', async () => {
      const client = await open();
      const events: RemoteEvent[] = [];
      client.on('event', (event) => events.push(event));
      await client.call('events', 'start', 'E', 200, 1);
      for (let i = 0; i < 5; i++) {
        await delay(15);
        proxy.killAll();
      }
      await waitFor(() => ticks(events, 'E').length >= 200, 5000, 'all events');
      await delay(30);
      assert.deepEqual(ticks(events, 'E'), [...Array(200).keys()]);
    });

    it('acknowledges as it goes: an event-only stream does not pile up on the server', async () => {
      const client = await open();
      const events: RemoteEvent[] = [];
      client.on('event', (event) => events.push(event));
      await client.call('events', 'start', 'F', 2000, 0);
      await waitFor(() => ticks(events, 'F').length === 2000, 5000, 'the stream');
      const session = [...fixture.server.sessions.values()].find((s) => s.attached && s.peer.state.lastSeq >= 2000);
      assert.ok(session, 'the session exists');
      // Acks go every ackEvery (64) messages or ackDelay (200 ms) after one arrives.
      await waitFor(() => session.peer.state.outbox.size === 0, 1000, 'everything acknowledged');
    });

    it('resumes while the old socket is still open on the server (network switch)', async () => {
      const client = await open();
      assert.equal(await client.call('counter', 'increment'), 1);
      const before = fixture.server.sessions.size;
      proxy.freezeAll();
      const [info] = await once<[{ resumed: boolean }]>(client, 'ready');
      assert.equal(info.resumed, true);
      assert.equal(await client.call('counter', 'increment'), 2, 'answered, not deaf');
      assert.equal(fixture.server.sessions.size, before);
    });

    it('notices a silent connection by its heartbeat and resumes', async () => {
      const client = await open({ heartbeatInterval: 40 });
      assert.equal(await client.call('counter', 'increment'), 1);
      proxy.stallAll();
      const pending = client.call('counter', 'increment');
      const [info] = await once<[{ resumed: boolean }]>(client, 'ready', 3000);
      assert.equal(info.resumed, true);
      assert.equal(await pending, 2);
    });

    it('reconnectNow() ends a backoff wait at once (the network is back)', async () => {
      const client = await open({ reconnect: { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 } });
      assert.equal(await client.call('counter', 'increment'), 1);
      assert.equal(client.reconnectNow(), false, 'nothing to end while connected');
      proxy.killAll();
      await waitFor(() => client.state === 'waiting', 2000, 'the backoff wait');
      const pending = client.call('counter', 'increment');
      const started = Date.now();
      assert.equal(client.reconnectNow(), true);
      const [info] = await once<[{ resumed: boolean }]>(client, 'ready', 2000);
      assert.equal(info.resumed, true);
      assert.ok(Date.now() - started < 1000, 'not after the 60 s backoff delay');
      assert.equal(await pending, 2);
    });

    it('never reuses a message id, whatever the number of restores', async () => {
      const seen = { toServer: new Map<number, string>(), toClient: new Map<number, string>() };
      const violations: string[] = [];
      const check = (map: Map<number, string>, id: number, text: string, rising: boolean): void => {
        const previous = map.get(id);
        if (previous !== undefined) {
          if (previous !== text) violations.push(`id ${id} reused for a different message`);
          return;
        }
        const last = map.size === 0 ? 0 : [...map.keys()].at(-1) as number;
        if (rising ? id <= last : id >= last) violations.push(`id ${id} out of order after ${last}`);
        map.set(id, text);
      };
      if (kind === 'tcp') {
        proxy.options = {
          tap: (toServer, chunk) => {
            for (const text of chunk.toString().split('\0')) {
              if (!text.startsWith('{"call"') && !text.startsWith('{"event"') && !text.startsWith('{"callback"')) continue;
              let message;
              try {
                message = decodeMessage(text);
              } catch {
                continue; // a message split across chunks
              }
              if (message.kind === 'call' || message.kind === 'event') check(toServer ? seen.toServer : seen.toClient, message.id, text, toServer);
              if (message.kind === 'callback' && message.seq !== undefined) check(toServer ? seen.toServer : seen.toClient, message.seq, text, toServer);
            }
          },
        };
      }
      const client = await open();
      for (let round = 0; round < 4; round++) {
        await Promise.all([1, 2, 3].map(() => client.call('counter', 'increment')));
        await client.call('events', 'start', `R${round}`, 3, 0);
        proxy.killAll();
        await once(client, 'ready');
      }
      assert.equal(await client.call('counter', 'increment'), 13);
      proxy.options = {};
      const ticket = client.session;
      assert.equal(ticket?.lastSeq, 17, 'client ids kept counting across restores: 4 rounds of 4 calls, then 1');
      assert.deepEqual(violations, []);
      if (kind === 'tcp') assert.ok(seen.toClient.size >= 20, 'the tap saw the server messages');
    });
  });
}

describe('resume over another transport', () => {
  it('starts on TCP, resumes on WebSocket and back, with state and pending calls', async () => {
    const fixture = await startServer();
    try {
      const client = await fixture.connect('tcp');
      assert.equal(await client.call('counter', 'increment'), 1);
      const slow = client.call('ledger', 'record', 'switch', 50);
      client.reconnect(transportFor(fixture.url.ws));
      const [info] = await once<[{ resumed: boolean }]>(client, 'ready');
      assert.equal(info.resumed, true);
      assert.equal(await slow, 'switch');
      assert.equal(await client.call('counter', 'increment'), 2);
      client.reconnect(transportFor(fixture.url.tcp));
      await once(client, 'ready');
      assert.equal(await client.call('counter', 'increment'), 3);
      assert.equal(fixture.app.executions.get('switch'), 1);
    } finally {
      await fixture.close();
    }
  });
});
