import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';

import { ErrorCode, TjstpError } from '../../lib/protocol/errors';
import {
  SocketKind,
  SocketTransport,
  connectSocket,
  createSocketServer,
} from '../../lib/transport/socket';
import type { Transport } from '../../lib/transport/transport';
import { Recorder, delay, poll } from '../helpers/recorder';
import { makeCertificate } from '../helpers/certificate';

/** A plain net server whose sockets are all destroyed on test end. */
const listenRaw = async (
  t: TestContext,
  onSocket: (socket: net.Socket) => void = () => {},
): Promise<number> => {
  const sockets = new Set<net.Socket>();
  const raw = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    raw.close();
  });
  return (raw.address() as net.AddressInfo).port;
};

interface Started {
  server: net.Server;
  accepted: Transport[];
  port: number;
  path: string;
  next(): Promise<Transport>;
  stop(): Promise<void>;
}

const start = async (
  kind: SocketKind,
  options: { maxMessageSize?: number; tls?: { key: string; cert: string } } = {},
): Promise<Started> => {
  const accepted: Transport[] = [];
  let waiting: ((t: Transport) => void) | undefined;
  const server = createSocketServer({
    kind,
    tls: options.tls,
    maxMessageSize: options.maxMessageSize,
    onTransport: (transport) => {
      accepted.push(transport);
      const wake = waiting;
      waiting = undefined;
      wake?.(transport);
    },
  });
  let socketPath = '';
  if (kind === 'ipc') {
    socketPath = path.join(
      os.tmpdir(),
      `tjstp-test-${process.pid}-${Math.random().toString(36).slice(2)}.sock`,
    );
    server.listen(socketPath);
  } else {
    server.listen(0, '127.0.0.1');
  }
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let seen = 0;
  return {
    server,
    accepted,
    port,
    path: socketPath,
    next: () => {
      const index = seen++;
      if (accepted[index]) return Promise.resolve(accepted[index]);
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    stop: async () => {
      for (const transport of accepted) transport.destroy();
      server.close();
      await once(server, 'close');
    },
  };
};

/** Binds an echo handler: every message is sent back. */
const echo = (transport: Transport): Recorder => {
  const recorder = new Recorder();
  transport.bind({
    message: (text) => {
      recorder.message(text);
      transport.send(text);
    },
    close: (error) => recorder.close(error),
  });
  return recorder;
};

describe('SocketTransport over TCP', { timeout: 20_000 }, () => {
  let started: Started;
  beforeEach(async () => {
    started = await start('tcp', { maxMessageSize: 1000 });
  });
  afterEach(async () => {
    await started.stop();
  });

  it('round-trips messages, including multi-byte text', async () => {
    const client = await connectSocket({
      kind: 'tcp',
      host: '127.0.0.1',
      port: started.port,
    });
    const serverSide = await started.next();
    const serverRecorder = echo(serverSide);
    assert.equal(client.kind, 'tcp');
    assert.equal(client.remoteAddress, `127.0.0.1:${started.port}`);
    assert.match(serverSide.remoteAddress, /^127\.0\.0\.1:\d+$/);
    assert.equal(client.open, true);
    const recorder = new Recorder();
    client.bind(recorder);
    client.send("{call:[1,'a'],b:[]}");
    client.send("{text:'привет 😀'}");
    await recorder.until(() => recorder.messages.length === 2);
    assert.deepEqual(recorder.messages, ["{call:[1,'a'],b:[]}", "{text:'привет 😀'}"]);
    assert.deepEqual(serverRecorder.messages, recorder.messages);
    client.close();
    assert.equal(client.open, false);
    client.send('{dropped:1}'); // silently ignored
    await recorder.until(() => recorder.closes.length === 1);
    await serverRecorder.until(() => serverRecorder.closes.length === 1);
    assert.equal(recorder.closes[0], undefined);
    assert.equal(serverRecorder.closes[0], undefined);
    assert.equal(serverRecorder.messages.includes('{dropped:1}'), false);
  });

  it('sends 1000 messages of one tick in order, in few writes', async (t) => {
    const chunks: Buffer[] = [];
    const port = await listenRaw(t, (socket) => {
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    });
    const socket = net.connect({ host: '127.0.0.1', port });
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    let writes = 0;
    const write = socket.write.bind(socket) as (data: string) => boolean;
    socket.write = ((data: string) => {
      writes += 1;
      return write(data);
    }) as typeof socket.write;
    const client = new SocketTransport(socket, 'tcp');
    const sent: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const message = `{event:[${i},'chat'],message:['hello ${i}']}`;
      sent.push(message);
      client.send(message);
    }
    const total = Buffer.byteLength(sent.join('\0') + '\0');
    await poll(() => chunks.reduce((n, c) => n + c.length, 0) >= total);
    const received = Buffer.concat(chunks).toString('utf8').split('\0');
    assert.equal(received.pop(), '');
    assert.deepEqual(received, sent);
    assert.equal(writes, 1, 'one socket.write for the whole tick');
    assert.ok(chunks.length <= 3, `arrived in ${chunks.length} chunks`);
  });

  it('closes only the connection that sent an oversize message', async () => {
    const good = await connectSocket({
      kind: 'tcp',
      host: '127.0.0.1',
      port: started.port,
    });
    const goodServer = echo(await started.next());
    const goodClient = new Recorder();
    good.bind(goodClient);

    // A raw peer streaming bytes with no NUL: the server must not wait.
    const bad = net.connect({ host: '127.0.0.1', port: started.port });
    bad.on('error', () => {});
    const badServer = new Recorder();
    (await started.next()).bind(badServer);
    bad.write('x'.repeat(600));
    await delay(20);
    assert.equal(badServer.closes.length, 0);
    bad.write('x'.repeat(600)); // now 1200 > 1000, still no NUL
    await badServer.until(() => badServer.closes.length === 1);
    const error = badServer.closes[0];
    assert.ok(error instanceof TjstpError);
    assert.equal(error.code, ErrorCode.MESSAGE_TOO_LARGE);
    await once(bad, 'close');

    good.send('{still:1}');
    await goodClient.until(() => goodClient.messages.length === 1);
    assert.deepEqual(goodClient.messages, ['{still:1}']);
    assert.deepEqual(goodServer.closes, []);
    good.close();
    await goodClient.until(() => goodClient.closes.length === 1);
    await delay(20);
    assert.equal(badServer.closes.length, 1, 'close reported exactly once');
  });

  it('delivers messages and the close that arrived before bind', async () => {
    const client = await connectSocket({
      kind: 'tcp',
      host: '127.0.0.1',
      port: started.port,
    });
    const serverSide = await started.next();
    client.send('{a:1}');
    client.send('{b:2}');
    client.close();
    await poll(() => !serverSide.open);
    await delay(20);
    const recorder = new Recorder();
    serverSide.bind(recorder);
    await recorder.until(() => recorder.closes.length === 1);
    assert.deepEqual(recorder.events, ['message:{a:1}', 'message:{b:2}', 'close']);
  });

  it('reports nothing after unbind', async () => {
    const client = await connectSocket({
      kind: 'tcp',
      host: '127.0.0.1',
      port: started.port,
    });
    const serverSide = await started.next();
    const recorder = new Recorder();
    serverSide.bind(recorder);
    client.send('{first:1}');
    await recorder.until(() => recorder.messages.length === 1);
    serverSide.unbind();
    client.send('{second:2}');
    client.close();
    await poll(() => !serverSide.open);
    await delay(30);
    assert.deepEqual(recorder.events, ['message:{first:1}']);
  });

  it('reports a socket error once, as the close reason', async (t) => {
    const port = await listenRaw(t, (socket) => {
      setTimeout(() => socket.resetAndDestroy(), 10);
    });
    const client = await connectSocket({ kind: 'tcp', host: '127.0.0.1', port });
    t.after(() => client.destroy());
    const recorder = new Recorder();
    client.bind(recorder);
    await recorder.until(() => recorder.closes.length === 1);
    const error = recorder.closes[0] as NodeJS.ErrnoException | undefined;
    assert.equal(error?.code, 'ECONNRESET');
    assert.equal(client.open, false);
    client.close();
    client.destroy();
    await delay(20);
    assert.equal(recorder.closes.length, 1);
  });

  it('calls close once when close and destroy are both called', async () => {
    const client = await connectSocket({
      kind: 'tcp',
      host: '127.0.0.1',
      port: started.port,
    });
    const recorder = new Recorder();
    client.bind(recorder);
    client.send('{x:1}');
    client.close();
    client.destroy();
    client.destroy();
    await recorder.until(() => recorder.closes.length === 1);
    await delay(20);
    assert.deepEqual(recorder.closes, [undefined]);
  });

  it('rejects with ECONNREFUSED when nobody listens', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as net.AddressInfo;
    probe.close();
    await once(probe, 'close');
    await assert.rejects(
      connectSocket({ kind: 'tcp', host: '127.0.0.1', port }),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
  });

  it('rejects with ETIMEDOUT when the connection does not complete in time', async (t) => {
    // A TCP server that never answers the TLS handshake.
    const port = await listenRaw(t);
    await assert.rejects(
      connectSocket({ kind: 'tls', host: '127.0.0.1', port, timeout: 100 }),
      (error: NodeJS.ErrnoException) =>
        error.code === 'ETIMEDOUT' && /timed out after 100 ms/.test(error.message),
    );
  });
});

describe('SocketTransport over IPC', { timeout: 20_000 }, () => {
  it('round-trips over a Unix socket', async () => {
    const started = await start('ipc');
    try {
      const client = await connectSocket({ kind: 'ipc', path: started.path });
      const serverSide = await started.next();
      echo(serverSide);
      assert.equal(client.kind, 'ipc');
      assert.equal(client.remoteAddress, started.path);
      assert.equal(serverSide.remoteAddress, started.path);
      const recorder = new Recorder();
      client.bind(recorder);
      for (let i = 0; i < 100; i++) client.send(`{n:${i}}`);
      await recorder.until(() => recorder.messages.length === 100);
      assert.deepEqual(
        recorder.messages,
        Array.from({ length: 100 }, (_, i) => `{n:${i}}`),
      );
      client.close();
      await recorder.until(() => recorder.closes.length === 1);
    } finally {
      await started.stop();
      fs.rmSync(started.path, { force: true });
    }
  });
});

describe('SocketTransport over TLS', { timeout: 20_000 }, () => {
  const credentials = makeCertificate();
  const skip = credentials ? false : 'openssl not available to make a certificate';

  it('round-trips over TLS with a trusted certificate', { skip }, async () => {
    const started = await start('tls', { tls: credentials });
    try {
      const client = await connectSocket({
        kind: 'tls',
        host: '127.0.0.1',
        port: started.port,
        tls: { ca: credentials?.cert },
      });
      echo(await started.next());
      assert.equal(client.kind, 'tls');
      const recorder = new Recorder();
      client.bind(recorder);
      client.send("{secure:'да'}");
      await recorder.until(() => recorder.messages.length === 1);
      assert.deepEqual(recorder.messages, ["{secure:'да'}"]);
      client.close();
      await recorder.until(() => recorder.closes.length === 1);
      assert.equal(recorder.closes[0], undefined);
    } finally {
      await started.stop();
    }
  });

  it('rejects an untrusted certificate', { skip }, async () => {
    const started = await start('tls', { tls: credentials });
    try {
      await assert.rejects(
        connectSocket({ kind: 'tls', host: '127.0.0.1', port: started.port }),
        (error: NodeJS.ErrnoException) => error.code === 'DEPTH_ZERO_SELF_SIGNED_CERT',
      );
    } finally {
      await started.stop();
    }
  });
});
