import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';

import WebSocket, { WebSocketServer } from 'ws';

import { ErrorCode, TjstpError } from '../../lib/protocol/errors';
import { Recorder, delay, poll } from '../helpers/recorder';
import { WebSocketTransport } from '../../lib/transport/websocket';
import { connectWebSocket } from '../../lib/transport/websocket-client';
import { createWebSocketServer } from '../../lib/transport/websocket-server';
import { rawClient, start, type Started } from '../helpers/websocket';
import {
  JSTP_SUBPROTOCOL,
  W3CCloseEvent,
  W3CMessageEvent,
  W3CWebSocket,
  connectW3CWebSocket,
} from '../../lib/transport/w3c-websocket';

const httpRequest = (
  port: number,
  headers: http.OutgoingHttpHeaders,
): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers });
    req.on('error', reject);
    req.on('upgrade', () => reject(new Error('unexpected upgrade')));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });

describe('WebSocketTransport', { timeout: 20_000 }, () => {
  let started: Started;
  beforeEach(async () => {
    started = await start(1000);
  });
  afterEach(async () => {
    await started.stop();
  });

  it('round-trips messages in order', async () => {
    const chunks: number[] = [];
    const countChunks = (_req: http.IncomingMessage, socket: net.Socket) =>
      socket.on('data', (chunk: Buffer) => chunks.push(chunk.length));
    started.server.on('upgrade', countChunks);
    const client = await connectWebSocket(started.url);
    started.server.off('upgrade', countChunks);
    const serverRecorder = await started.nextEcho();
    assert.equal(client.kind, 'ws');
    assert.equal(client.open, true);
    assert.match(started.accepted.at(-1)?.remoteAddress ?? '', /^127\.0\.0\.1:\d+$/);
    const recorder = new Recorder();
    client.bind(recorder);
    const sent = Array.from({ length: 100 }, (_, i) => `{event:[${i},'e'],x:['ж${i}']}`);
    for (const message of sent) client.send(message);
    await poll(() => recorder.messages.length === 100);
    assert.deepEqual(recorder.messages, sent);
    assert.deepEqual(serverRecorder.messages, sent);
    // 100 frames sent in one tick leave corked together.
    assert.ok(chunks.length <= 3, `arrived in ${chunks.length} chunks`);
    client.close();
    assert.equal(client.open, false);
    client.send('{dropped:1}');
    await poll(() => recorder.closes.length === 1 && serverRecorder.closes.length === 1);
    assert.deepEqual(recorder.closes, [undefined]);
    assert.deepEqual(serverRecorder.closes, [undefined]);
    assert.equal(serverRecorder.messages.length, 100);
  });

  it('refuses a handshake without metarhia-jstp and keeps serving', async (t) => {
    const withoutProtocol = await httpRequest(started.port, {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    assert.equal(withoutProtocol.status, 403);
    assert.match(withoutProtocol.body, /metarhia-jstp/);

    const other = rawClient(t, started.url, ['chat']);
    const [error] = (await once(other, 'error')) as [Error];
    assert.match(error.message, /403/);

    const client = await connectWebSocket(started.url);
    const serverRecorder = await started.nextEcho();
    client.send('{still:1}');
    await poll(() => serverRecorder.messages.length === 1);
    client.close();
  });

  it('corks the socket once per tick of sends', async (t) => {
    const ws = rawClient(t, started.url, [JSTP_SUBPROTOCOL]);
    const [[res]] = (await Promise.all([once(ws, 'upgrade'), once(ws, 'open')])) as [
      [http.IncomingMessage],
      unknown,
    ];
    const real = res.socket;
    const calls: string[] = [];
    const spy = {
      cork: () => {
        calls.push('cork');
        real.cork();
      },
      uncork: () => {
        calls.push('uncork');
        real.uncork();
      },
    };
    const client = new WebSocketTransport(ws, 'ws', { remoteAddress: 'x', socket: spy });
    const serverRecorder = await started.nextEcho();
    for (let i = 0; i < 50; i++) client.send(`{n:${i}}`);
    assert.deepEqual(calls, ['cork']);
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(calls, ['cork', 'uncork']);
    await poll(() => serverRecorder.messages.length === 50);
    assert.equal(serverRecorder.messages[49], '{n:49}');
  });

  it('serves only its path when given one', async (t) => {
    const { server } = createWebSocketServer({
      path: '/jstp',
      onTransport: (transport) => transport.close(),
    });
    const httpServer = server as http.Server;
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    t.after(() => {
      httpServer.closeAllConnections();
      httpServer.close();
    });
    const { port } = httpServer.address() as net.AddressInfo;
    await assert.rejects(
      connectWebSocket(`ws://127.0.0.1:${port}/other`),
      /Unexpected server response: 404/,
    );
    const client = await connectWebSocket(`ws://127.0.0.1:${port}/jstp?v=1`);
    const recorder = new Recorder();
    client.bind(recorder);
    await poll(() => recorder.closes.length === 1);
    assert.deepEqual(recorder.closes, [undefined]);
  });

  it('answers a plain HTTP GET with 426', async () => {
    const response = await httpRequest(started.port, {});
    assert.equal(response.status, 426);
    assert.match(response.body, /Upgrade Required/);
  });

  it('delivers any text frame and decodes binary frames as UTF-8', async (t) => {
    const raw = rawClient(t, started.url, [JSTP_SUBPROTOCOL]);
    await once(raw, 'open');
    assert.equal(raw.protocol, JSTP_SUBPROTOCOL);
    const serverSide = await started.next();
    const recorder = new Recorder();
    serverSide.bind(recorder);
    raw.send('null');
    raw.send(Buffer.from("{binary:'ж😀'}"), { binary: true });
    raw.send('{two:1}\0{messages:2}');
    await poll(() => recorder.messages.length === 3);
    assert.deepEqual(recorder.messages, [
      'null',
      "{binary:'ж😀'}",
      '{two:1}\0{messages:2}',
    ]);
  });

  it('closes an oversize sender with 1009 and MESSAGE_TOO_LARGE only', async (t) => {
    const good = await connectWebSocket(started.url);
    t.after(() => good.destroy());
    const goodServer = await started.nextEcho();
    const goodRecorder = new Recorder();
    good.bind(goodRecorder);

    const bad = rawClient(t, started.url, [JSTP_SUBPROTOCOL]);
    await once(bad, 'open');
    const badServer = new Recorder();
    (await started.next()).bind(badServer);
    bad.send('x'.repeat(1001));
    const [status] = (await once(bad, 'close')) as [number];
    assert.equal(status, 1009);
    await poll(() => badServer.closes.length === 1);
    const error = badServer.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.MESSAGE_TOO_LARGE);
    assert.deepEqual(badServer.messages, []);

    good.send('{fine:1}');
    await poll(() => goodRecorder.messages.length === 1);
    assert.deepEqual(goodServer.closes, []);
    await delay(20);
    assert.equal(badServer.closes.length, 1);
  });

  it('tells our client the peer found its message too large', async () => {
    const client = await connectWebSocket(started.url);
    const serverRecorder = await started.nextEcho();
    const recorder = new Recorder();
    client.bind(recorder);
    client.send(`'${'y'.repeat(2000)}'`);
    await poll(() => recorder.closes.length === 1 && serverRecorder.closes.length === 1);
    const error = recorder.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(client.open, false);
  });

  it('maps close codes to WebSocket statuses', async (t) => {
    const cases: [number | undefined, number, string][] = [
      [ErrorCode.PROTOCOL_ERROR, 1002, 'Protocol error'],
      [ErrorCode.MESSAGE_TOO_LARGE, 1009, 'Message too large'],
      [ErrorCode.SERVER_CLOSING, 1001, 'Server is shutting down'],
      [ErrorCode.AUTH_FAILED, 1000, 'Authentication failed'],
      [undefined, 1000, ''],
    ];
    for (const [code, status, reason] of cases) {
      const raw = rawClient(t, started.url, [JSTP_SUBPROTOCOL]);
      await once(raw, 'open');
      const serverSide = await started.next();
      const serverRecorder = new Recorder();
      serverSide.bind(serverRecorder);
      serverSide.close(code);
      const [gotStatus, gotReason] = (await once(raw, 'close')) as [number, Buffer];
      assert.equal(gotStatus, status);
      assert.equal(gotReason.toString(), reason);
      await poll(() => serverRecorder.closes.length === 1);
      assert.deepEqual(serverRecorder.closes, [undefined], 'we closed: no error');
    }
  });

  it('reports the peer closing with a protocol error as an error', async () => {
    const client = await connectWebSocket(started.url);
    const serverSide = await started.next();
    const recorder = new Recorder();
    client.bind(recorder);
    serverSide.close(ErrorCode.PROTOCOL_ERROR);
    await poll(() => recorder.closes.length === 1);
    const error = recorder.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
  });

  it('reports destroy as an abnormal close to the peer, once', async () => {
    const client = await connectWebSocket(started.url);
    const serverRecorder = await started.nextEcho();
    const recorder = new Recorder();
    client.bind(recorder);
    client.destroy();
    client.close();
    client.destroy();
    await poll(() => recorder.closes.length === 1 && serverRecorder.closes.length === 1);
    assert.deepEqual(recorder.closes, [undefined]);
    assert.match(String(serverRecorder.closes[0]?.message), /1006/);
    await delay(20);
    assert.equal(recorder.closes.length, 1);
  });

  it('delivers messages and the close that arrived before bind; nothing after unbind', async () => {
    const client = await connectWebSocket(started.url);
    const serverSide = await started.next();
    client.send('{a:1}');
    client.send('{b:2}');
    client.close();
    await poll(() => !serverSide.open);
    await delay(20);
    const recorder = new Recorder();
    serverSide.bind(recorder);
    assert.deepEqual(recorder.events, ['message:{a:1}', 'message:{b:2}', 'close']);

    const second = await connectWebSocket(started.url);
    const secondServer = await started.next();
    const unbound = new Recorder();
    secondServer.bind(unbound);
    second.send('{first:1}');
    await poll(() => unbound.messages.length === 1);
    secondServer.unbind();
    second.send('{second:2}');
    second.close();
    await poll(() => !secondServer.open);
    await delay(30);
    assert.deepEqual(unbound.events, ['message:{first:1}']);
  });

  it('rejects with ECONNREFUSED when nobody listens', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as net.AddressInfo;
    probe.close();
    await once(probe, 'close');
    await assert.rejects(
      connectWebSocket(`ws://127.0.0.1:${port}/`),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
  });

  it('rejects a server that does not select metarhia-jstp', async (t) => {
    const plain = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: () => false,
    });
    t.after(() => plain.close());
    await once(plain, 'listening');
    const { port } = plain.address() as net.AddressInfo;
    await assert.rejects(
      connectWebSocket(`ws://127.0.0.1:${port}/`),
      /failed: Server sent no subprotocol/,
    );
    await assert.rejects(
      connectW3CWebSocket(`ws://127.0.0.1:${port}/`, {
        WebSocket,
      }),
      /failed: Server sent no subprotocol/,
    );
  });

  it('rejects with a timeout when the handshake never completes', async (t) => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const { port } = silent.address() as net.AddressInfo;
    await assert.rejects(
      connectWebSocket(`ws://127.0.0.1:${port}/`, { timeout: 100 }),
      (error: NodeJS.ErrnoException) =>
        error.code === 'ETIMEDOUT' && /timed out after 100 ms/.test(error.message),
    );
    await assert.rejects(
      connectW3CWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket, timeout: 100 }),
      /timed out after 100 ms/,
    );
  });
});

describe('W3CWebSocketTransport (driven by the ws package)', { timeout: 20_000 }, () => {
  let started: Started;
  beforeEach(async () => {
    started = await start(1000);
  });
  afterEach(async () => {
    await started.stop();
  });

  it('round-trips against the Node server', async () => {
    const client = await connectW3CWebSocket(started.url, { WebSocket });
    const serverRecorder = await started.nextEcho();
    assert.equal(client.kind, 'ws');
    assert.equal(client.remoteAddress, started.url);
    assert.equal(client.open, true);
    const recorder = new Recorder();
    client.bind(recorder);
    client.send("{call:[1,'app'],m:['ж😀']}");
    client.send('{second:2}');
    await poll(() => recorder.messages.length === 2);
    assert.deepEqual(recorder.messages, ["{call:[1,'app'],m:['ж😀']}", '{second:2}']);
    assert.deepEqual(serverRecorder.messages, recorder.messages);
    client.close(ErrorCode.PROTOCOL_ERROR);
    assert.equal(client.open, false);
    await poll(() => recorder.closes.length === 1 && serverRecorder.closes.length === 1);
    assert.deepEqual(recorder.closes, [undefined]);
    // Browsers may only send 1000 here, which the server reads as orderly.
    assert.deepEqual(serverRecorder.closes, [undefined]);
  });

  it('decodes binary frames and maps the peer close status', async (t) => {
    const plain = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    t.after(() => plain.close());
    plain.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.send(Buffer.from("{bin:'ж'}"), { binary: true });
      ws.send('{text:1}');
      ws.close(1002, 'Protocol error');
    });
    await once(plain, 'listening');
    const { port } = plain.address() as net.AddressInfo;
    const client = await connectW3CWebSocket(`ws://127.0.0.1:${port}/`, { WebSocket });
    const recorder = new Recorder();
    client.bind(recorder);
    await poll(() => recorder.closes.length === 1);
    assert.deepEqual(recorder.messages, ["{bin:'ж'}", '{text:1}']);
    const error = recorder.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
  });

  it('reports destroy at once and only once', async () => {
    const client = await connectW3CWebSocket(started.url, { WebSocket });
    const recorder = new Recorder();
    client.bind(recorder);
    client.destroy();
    client.destroy();
    await poll(() => recorder.closes.length === 1);
    await delay(30);
    assert.deepEqual(recorder.closes, [undefined]);
  });

  it('checks the subprotocol itself and refuses Blob data', async () => {
    // A minimal fake: a browser accepts a 101 without a subprotocol.
    const opened: FakeSocket[] = [];
    class FakeSocket implements W3CWebSocket {
      readyState = 0;
      protocol: string;
      binaryType = 'blob';
      closed: [number | undefined, string | undefined][] = [];
      onopen: ((event: unknown) => void) | null = null;
      onmessage: ((event: W3CMessageEvent) => void) | null = null;
      onclose: ((event: W3CCloseEvent) => void) | null = null;
      onerror: ((event: unknown) => void) | null = null;
      constructor(url: string) {
        this.protocol = url.endsWith('/jstp') ? JSTP_SUBPROTOCOL : '';
        opened.push(this);
        setTimeout(() => {
          this.readyState = 1;
          this.onopen?.({});
        }, 1);
      }
      send(): void {}
      close(code?: number, reason?: string): void {
        this.closed.push([code, reason]);
        this.readyState = 3;
      }
    }
    await assert.rejects(
      connectW3CWebSocket('ws://fake/other', { WebSocket: FakeSocket }),
      /did not select the metarhia-jstp subprotocol/,
    );
    assert.equal(opened[0].closed.length, 1);

    const client = await connectW3CWebSocket('wss://fake/jstp', { WebSocket: FakeSocket });
    assert.equal(client.kind, 'wss');
    assert.equal(opened[1].binaryType, 'arraybuffer');
    const recorder = new Recorder();
    client.bind(recorder);
    opened[1].onmessage?.({ data: new Uint8Array(Buffer.from('{u8:1}')) });
    opened[1].onmessage?.({ data: { size: 3, type: '' } }); // a Blob
    await poll(() => recorder.closes.length === 1);
    assert.deepEqual(recorder.messages, ['{u8:1}']);
    const error = recorder.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.PROTOCOL_ERROR);
  });

  it('rejects without an implementation', async () => {
    const global = globalThis as { WebSocket?: unknown };
    const saved = global.WebSocket;
    delete global.WebSocket;
    try {
      await assert.rejects(connectW3CWebSocket(started.url), /No WebSocket implementation/);
    } finally {
      if (saved !== undefined) global.WebSocket = saved;
    }
  });
});
