/**
 * The `tjstp-batch` subprotocol end to end: who selects it, that a tick's
 * messages leave in one frame both ways, and that a peer breaking its
 * framing or the message limit is refused as on TCP.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';

import WebSocket from 'ws';

import { ErrorCode, TjstpError } from '../../lib/protocol/errors';
import { BATCH_MAX_CHARS, BATCH_SUBPROTOCOL, JSTP_SUBPROTOCOL } from '../../lib/transport/subprotocol';
import type { Transport, TransportHandler } from '../../lib/transport/transport';
import { connectW3CWebSocket } from '../../lib/transport/w3c-websocket';
import { WebSocketTransport } from '../../lib/transport/websocket';
import { connectWebSocket } from '../../lib/transport/websocket-client';
import { Recorder, delay, poll } from '../helpers/recorder';
import { rawClient, start, type Started } from '../helpers/websocket';

const batching = (transport: Transport): boolean => (transport as WebSocketTransport).batching;

/** A raw `ws` client that records each frame it receives as one string. */
const openRaw = async (t: Parameters<typeof rawClient>[0], url: string, protocols: string[]): Promise<{ ws: WebSocket; frames: string[] }> => {
  const ws = rawClient(t, url, protocols);
  const frames: string[] = [];
  ws.on('message', (data: Buffer) => frames.push(data.toString('utf8')));
  await once(ws, 'open');
  return { ws, frames };
};

describe('tjstp-batch', { timeout: 20_000 }, () => {
  let started: Started;
  beforeEach(async () => {
    started = await start(1000);
  });
  afterEach(async () => {
    await started.stop();
  });

  it('is what two tjstp peers speak; a tick of sends leaves in one frame', async (t) => {
    const client = await connectWebSocket(started.url);
    const serverRecorder = await started.nextEcho();
    assert.equal(client.batching, true);
    assert.equal(batching(started.accepted[0]!), true);
    const recorder = new Recorder();
    client.bind(recorder);
    const sent = Array.from({ length: 50 }, (_, i) => `{event:[${i},'e'],x:['ж${i}']}`);
    for (const message of sent) client.send(message);
    await poll(() => recorder.messages.length === 50);
    assert.deepEqual(serverRecorder.messages, sent);
    assert.deepEqual(recorder.messages, sent);

    // On the wire: what the server sent in one tick, as few frames as the limit allows.
    const raw = await openRaw(t, started.url, [BATCH_SUBPROTOCOL]);
    assert.equal(raw.ws.protocol, BATCH_SUBPROTOCOL);
    const serverSide = await started.next();
    serverSide.bind(new Recorder());
    for (const message of sent) serverSide.send(message);
    await poll(() => raw.frames.join('').split('\0').length === 51);
    const bytes = sent.reduce((sum, message) => sum + message.length + 1, 0);
    assert.ok(raw.frames.length <= Math.ceil(bytes / (BATCH_MAX_CHARS - 40)), `${raw.frames.length} frames`);
    assert.ok(raw.frames.every((frame) => frame.endsWith('\0') && frame.length <= BATCH_MAX_CHARS));
    assert.deepEqual(raw.frames.join('').slice(0, -1).split('\0'), sent);
  });

  it('falls back to metarhia-jstp when either side turns it off', async (t) => {
    const plainClient = await connectWebSocket(started.url, { batching: false });
    await started.nextEcho();
    assert.equal(plainClient.batching, false);
    assert.equal(batching(started.accepted[0]!), false);
    plainClient.destroy();

    const plainServer = await start(1000, { batching: false });
    t.after(() => plainServer.stop());
    const client = await connectWebSocket(plainServer.url);
    const serverRecorder = await plainServer.nextEcho();
    assert.equal(client.batching, false);
    const recorder = new Recorder();
    client.bind(recorder);
    client.send('{a:1}');
    client.send('{b:2}');
    await poll(() => recorder.messages.length === 2);
    assert.deepEqual(serverRecorder.messages, ['{a:1}', '{b:2}']);
    // A client that offers only tjstp-batch cannot talk to it.
    const only = rawClient(t, plainServer.url, [BATCH_SUBPROTOCOL]);
    const [error] = (await once(only, 'error')) as [Error];
    assert.match(error.message, /403/);
  });

  it('speaks one message per frame to a client that offers only metarhia-jstp', async (t) => {
    const raw = await openRaw(t, started.url, [JSTP_SUBPROTOCOL]);
    const serverSide = await started.next();
    serverSide.bind(new Recorder());
    serverSide.send('{a:1}');
    serverSide.send('{b:2}');
    await poll(() => raw.frames.length === 2);
    assert.deepEqual(raw.frames, ['{a:1}', '{b:2}']);
  });

  it('delivers each message of a frame, including a large one alone', async (t) => {
    const big = await start(200_000);
    t.after(() => big.stop());
    const raw = await openRaw(t, big.url, [BATCH_SUBPROTOCOL]);
    const recorder = new Recorder();
    (await big.next()).bind(recorder);
    raw.ws.send('{a:1}\0{b:2}\0\0');
    const large = `'${'z'.repeat(150_000)}'`;
    raw.ws.send(`${large}\0`);
    raw.ws.send(Buffer.from("{bin:'ж😀'}\0"), { binary: true });
    await poll(() => recorder.messages.length === 5);
    assert.deepEqual(recorder.messages, ['{a:1}', '{b:2}', '', large, "{bin:'ж😀'}"]);
    assert.deepEqual(recorder.closes, []);
  });

  it('refuses a frame without a final terminator with 1002', async (t) => {
    const raw = await openRaw(t, started.url, [BATCH_SUBPROTOCOL]);
    const recorder = new Recorder();
    (await started.next()).bind(recorder);
    raw.ws.send('{a:1}\0{b:2}');
    raw.ws.send('{c:3}\0');
    const [status] = (await once(raw.ws, 'close')) as [number];
    assert.equal(status, 1002);
    await poll(() => recorder.closes.length === 1);
    // The broken frame is refused whole, and nothing after it is read.
    assert.deepEqual(recorder.messages, []);
    const error = recorder.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
    assert.match(error.message, /must end with a message terminator/);
  });

  it('refuses a message over the limit inside a batch with 1009; others are unharmed', async (t) => {
    const good = await connectWebSocket(started.url);
    t.after(() => good.destroy());
    const goodServer = await started.nextEcho();
    const goodRecorder = new Recorder();
    good.bind(goodRecorder);

    const raw = await openRaw(t, started.url, [BATCH_SUBPROTOCOL]);
    const recorder = new Recorder();
    (await started.next()).bind(recorder);
    raw.ws.send(`{ok:1}\0${'x'.repeat(1001)}\0{after:1}\0`);
    const [status] = (await once(raw.ws, 'close')) as [number];
    assert.equal(status, 1009);
    await poll(() => recorder.closes.length === 1);
    assert.deepEqual(recorder.messages, ['{ok:1}']);
    const error = recorder.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.MESSAGE_TOO_LARGE);

    good.send('{fine:1}');
    await poll(() => goodRecorder.messages.length === 1);
    assert.deepEqual(goodServer.closes, []);
  });

  it('lets the handler say why before the close, as on TCP', async (t) => {
    const raw = await openRaw(t, started.url, [BATCH_SUBPROTOCOL]);
    const serverSide = await started.next();
    const seen: Error[] = [];
    const handler: TransportHandler = {
      message: () => {},
      close: () => {},
      violation: (error) => {
        seen.push(error);
        serverSide.send('{close:[0],error:[21]}');
        serverSide.close(ErrorCode.MESSAGE_TOO_LARGE);
      },
    };
    serverSide.bind(handler);
    raw.ws.send(`${'x'.repeat(1001)}\0`);
    const [status] = (await once(raw.ws, 'close')) as [number];
    assert.equal(status, 1009);
    assert.equal(seen.length, 1);
    assert.deepEqual(raw.frames, ['{close:[0],error:[21]}\0']);
  });

  it('delivers nothing more of a frame once the handler closes or destroys the transport', async (t) => {
    for (const end of ['close', 'destroy'] as const) {
      const raw = await openRaw(t, started.url, [BATCH_SUBPROTOCOL]);
      const serverSide = await started.next();
      const seen: string[] = [];
      serverSide.bind({
        message: (text) => {
          seen.push(text);
          serverSide[end]();
        },
        close: () => {},
      });
      raw.ws.send('{a:1}\0{b:2}\0{c:3}\0');
      raw.ws.send('{d:4}\0');
      await once(raw.ws, 'close');
      await delay(20);
      assert.deepEqual(seen, ['{a:1}'], end);
    }
  });

  it('sends what is queued before the close frame; destroy drops it', async () => {
    const client = await connectWebSocket(started.url);
    const serverSide = await started.next();
    const recorder = new Recorder();
    serverSide.bind(recorder);
    client.send('{a:1}');
    client.send('{b:2}');
    client.close();
    await poll(() => recorder.closes.length === 1);
    assert.deepEqual(recorder.events, ['message:{a:1}', 'message:{b:2}', 'close']);

    const dropped = await connectWebSocket(started.url);
    const droppedServer = new Recorder();
    (await started.next()).bind(droppedServer);
    dropped.send('{lost:1}');
    dropped.destroy();
    await poll(() => droppedServer.closes.length === 1);
    await delay(20);
    assert.deepEqual(droppedServer.messages, []);
  });

  it('works the same over the W3C transport', async (t) => {
    const client = await connectW3CWebSocket(started.url, { WebSocket });
    const serverRecorder = await started.nextEcho();
    assert.equal(client.batching, true);
    const recorder = new Recorder();
    client.bind(recorder);
    for (let i = 0; i < 30; i++) client.send(`{n:${i}}`);
    await poll(() => recorder.messages.length === 30);
    assert.deepEqual(serverRecorder.messages, recorder.messages);
    assert.equal(recorder.messages[29], '{n:29}');

    const plain = await connectW3CWebSocket(started.url, { WebSocket, batching: false });
    await started.nextEcho();
    assert.equal(plain.batching, false);
    plain.close();

    // A server breaking the framing is refused.
    const { WebSocketServer } = await import('ws');
    const broken = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => BATCH_SUBPROTOCOL });
    t.after(() => broken.close());
    broken.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.send('{a:1}\0{no:terminator}');
    });
    await once(broken, 'listening');
    const { port } = broken.address() as { port: number };
    const victim = await connectW3CWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket });
    const victimRecorder = new Recorder();
    victim.bind(victimRecorder);
    await poll(() => victimRecorder.closes.length === 1);
    assert.deepEqual(victimRecorder.messages, []);
    assert.match(String(victimRecorder.closes[0]?.message), /must end with a message terminator/);
  });
});
