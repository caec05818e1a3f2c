/**
 * A resume's early replay: what the client made while offline goes out
 * right behind its restore hello, so calls made offline are answered in
 * the same round trip as the resume; when something sent before the drop
 * is in doubt, the client waits for the reply instead. Watched on the wire through a proxy
 * (TCP, where the bytes are plain), and end to end over WebSocket.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect, ErrorCode, SessionLostError, TjstpError, transportFor, type Client, type ReadyInfo, type ServerOptions } from '../../lib/index';
import { once, startServer, waitFor, type Fixture, type Kind } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

const slowReconnect = { initialDelay: 100, maxDelay: 100, jitter: 0 };

describe('early replay on resume', { timeout: 20_000 }, () => {
  let fixture: Fixture;
  let proxy: Proxy;
  const clients: Client[] = [];
  /** What the client sent on its connections, chunk by chunk, from now on. */
  let sent: string[] = [];

  const setUp = async (kind: Kind, server: Partial<ServerOptions> = {}, client: Record<string, unknown> = {}): Promise<Client> => {
    fixture = await startServer(server);
    proxy = new Proxy(fixture.port[kind]);
    await proxy.listen();
    const opened = await connect(`${kind}://127.0.0.1:${proxy.port}`, { app: 'testApp', reconnect: slowReconnect, ...client });
    clients.push(opened);
    assert.equal(await opened.call('counter', 'increment'), 1);
    return opened;
  };

  /** Drops the connection; from then on records what the client sends. */
  const drop = async (client: Client): Promise<void> => {
    proxy.killAll();
    await waitFor(() => client.state !== 'ready', 2000, 'the drop');
    sent = [];
    proxy.options = { tap: (toServer, chunk) => toServer && sent.push(chunk.toString()) };
  };

  const calls = (chunk: string | undefined): number => (chunk?.match(/\{"call":/g) ?? []).length;

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await proxy.close();
    await fixture.close();
  });

  it('sends calls made offline right behind the hello; each runs and is answered once', async () => {
    const client = await setUp('tcp');
    await drop(client);
    const offline = [1, 2, 3].map((n) => client.call('ledger', 'record', `early-${n}`));
    client.sendEvent('calc', 'note', 'early');
    const [info] = await once<[ReadyInfo]>(client, 'ready', 3000);
    assert.deepEqual(await Promise.all(offline), ['early-1', 'early-2', 'early-3']);
    assert.equal(info.replayed, 4);
    // One write: the hello, then the three calls and the event.
    assert.match(sent[0] ?? '', /^\{"handshake":\[0,"testApp"\],"session":\[/);
    assert.equal(calls(sent[0]), 3);
    assert.match(sent[0] ?? '', /"early"\]\}\0$/);
    for (const n of [1, 2, 3]) assert.equal(fixture.app.executions.get(`early-${n}`), 1);
    assert.equal(await client.call('counter', 'increment'), 2);
  });

  it('stays within what the server queues during a handshake; the rest follows the reply', async () => {
    const client = await setUp('tcp', { maxPendingMessages: 2 });
    assert.equal(client.serverLimits?.maxPendingMessages, 2);
    await drop(client);
    const offline = Array.from({ length: 10 }, (_, n) => client.call('ledger', 'record', `bounded-${n}`));
    const results = await Promise.all(offline);
    assert.deepEqual(results, Array.from({ length: 10 }, (_, n) => `bounded-${n}`));
    assert.equal(calls(sent[0]), 2, 'two calls behind the hello');
    assert.equal(calls(sent.join('')), 10, 'each call sent once on the new connection');
    for (let n = 0; n < 10; n++) assert.equal(fixture.app.executions.get(`bounded-${n}`), 1);
  });

  it('waits for the reply when earlyReplayBytes is 0', async () => {
    const client = await setUp('tcp', {}, { earlyReplayBytes: 0 });
    await drop(client);
    const offline = client.call('ledger', 'record', 'late');
    assert.equal(await offline, 'late');
    assert.equal(calls(sent[0]), 0, 'the hello went alone');
    assert.equal(calls(sent.join('')), 1);
  });

  it('runs none of them when the session is gone: they fail with SessionLostError', async () => {
    const client = await setUp('tcp', { session: { holdTime: 30 } });
    await drop(client);
    const offline = [1, 2].map((n) => client.call('ledger', 'record', `gone-${n}`));
    const lost = once<[SessionLostError]>(client, 'sessionLost', 3000);
    for (const call of offline) await assert.rejects(call, SessionLostError);
    assert.equal((await lost)[0].reason, 'expired');
    assert.equal(calls(sent[0]), 2, 'they did go behind the hello');
    assert.equal(fixture.app.executions.get('gone-1'), undefined);
    assert.equal(fixture.app.executions.get('gone-2'), undefined);
    assert.equal(await client.call('counter', 'increment'), 1, 'a new session, with new state');
  });

  it('waits for the reply while something sent before the drop is unacknowledged', async () => {
    // The server acknowledges events only by an ack, which this one delays.
    const client = await setUp('tcp', { session: { ackDelay: 60_000, ackEvery: 1000 } });
    const notes: unknown[] = [];
    fixture.server.on('event', (_session, _iface, name, args) => {
      if (name === 'note') notes.push(args[0]);
    });
    client.sendEvent('calc', 'note', 'in-doubt');
    await waitFor(() => notes.length === 1, 2000, 'the note');
    await drop(client);
    assert.equal(await client.call('ledger', 'record', 'after-doubt'), 'after-doubt');
    assert.equal(calls(sent[0]), 0, 'the hello went alone');
    assert.doesNotMatch(sent.join(''), /in-doubt/, 'the welcome said the server had the note');
    assert.equal(calls(sent.join('')), 1);
    assert.deepEqual(notes, ['in-doubt']);
    assert.equal(fixture.app.executions.get('after-doubt'), 1);
  });

  it('says goodbye when closed during the restore handshake, since the calls behind the hello may run', async (t) => {
    const client = await setUp('tcp');
    // A server that takes the restore hello and never answers it.
    let received = '';
    const silent = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => silent.close());
    client.reconnect(transportFor(`tcp://127.0.0.1:${(silent.address() as net.AddressInfo).port}`));
    const offline = client.call('ledger', 'record', 'never-answered');
    await waitFor(() => received.includes('never-answered'), 2000, 'the hello and the call');
    assert.match(received, /^\{"handshake":\[0,"testApp"\],"session":\[/);
    client.close();
    await assert.rejects(offline, (error: TjstpError) => error.code === ErrorCode.CLIENT_CLOSED);
    await waitFor(() => received.endsWith('{"close":[0]}\0'), 2000, 'the goodbye');
  });

  it('works the same over WebSocket', async () => {
    const client = await setUp('ws');
    await drop(client);
    const offline = [1, 2, 3].map((n) => client.call('ledger', 'record', `ws-early-${n}`));
    const [info] = await once<[ReadyInfo]>(client, 'ready', 3000);
    assert.deepEqual(await Promise.all(offline), ['ws-early-1', 'ws-early-2', 'ws-early-3']);
    assert.equal(info.replayed, 3);
    for (const n of [1, 2, 3]) assert.equal(fixture.app.executions.get(`ws-early-${n}`), 1);
  });
});
