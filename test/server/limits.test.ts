/**
 * Limits that protect the server from one bad peer: a client that never
 * reads, a peer that never finishes closing, and a flood of messages before
 * an (asynchronous) login completes. Each is dropped; others never notice.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { delay, startServer, waitFor } from '../helpers/fixtures';
import { Healthy, isCallback, openRaw, openSession } from '../helpers/raw';

describe('server limits', () => {
  it('drops a client that floods pings without reading the pongs', async () => {
    const fixture = await startServer({ maxUnsentBytes: 64 * 1024 });
    const healthy = await Healthy.open('tcp', fixture);
    const socket = net.connect(fixture.port.tcp, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('{"handshake":[0,"testApp"]}\0');
    await new Promise((resolve) => socket.once('data', resolve)); // the welcome
    socket.pause(); // never read again
    let closed = false;
    socket.once('close', () => {
      closed = true;
    });
    const flood = Buffer.from('{"ping":[0]}\0'.repeat(10_000));
    for (let i = 0; i < 200 && !closed; i++) {
      socket.write(flood);
      await delay(5);
    }
    await waitFor(() => closed, 5000, 'the flooding client to be dropped');
    await healthy.check();
    healthy.client.destroy();
    await fixture.close();
  });

  it('does not keep a socket whose peer never finishes closing', async () => {
    const fixture = await startServer({ handshakeTimeout: 100 });
    const socket = net.connect({ port: fixture.port.tcp, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    let ended = false;
    let closed = false;
    socket.on('end', () => {
      ended = true; // the server's FIN; we never send ours
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.resume();
    await waitFor(() => ended, 2000, 'the handshake timeout to end the connection');
    // A half-open peer learns the server dropped its socket when it next writes.
    const poke = setInterval(() => socket.write('x'), 100);
    try {
      await waitFor(() => closed, 4000, 'the server to drop the half-closed socket');
    } finally {
      clearInterval(poke);
    }
    await fixture.close();
  });

  it('closes a connection that queues too much while its login runs', async () => {
    const fixture = await startServer({
      maxPendingBytes: 4096,
      authenticate: async () => {
        await delay(200);
        return 'ann';
      },
    });
    const client = await openRaw('tcp', fixture);
    client.send('{"handshake":[0,"testApp"],"login":["ann","pw"]}');
    const big = JSON.stringify({ call: [1, 'calc'], echo: ['x'.repeat(1000)] });
    for (let i = 0; i < 6; i++) client.send(big.replace('[1,', `[${i + 1},`));
    const goodbye = await client.waitMessage((m) => Array.isArray(m.handshake) || Array.isArray(m.close), 2000, 'the refusal');
    assert.ok(JSON.stringify(goodbye).includes('Too many messages before the handshake completed'));
    await client.waitClose(2000);
    await fixture.close();
  });

  it('holds what comes with a restore hello to no login limit: a resume with calls made offline', async () => {
    const fixture = await startServer({ maxPendingMessages: 2, maxPendingBytes: 100 });
    const { client: first, id } = await openSession('tcp', fixture);
    first.destroy();
    await waitFor(() => fixture.server.sessions.size === 1 && [...fixture.server.sessions.values()][0]!.connection === null, 2000, 'the detach');
    const client = await openRaw('tcp', fixture);
    const calls = Array.from({ length: 5 }, (_, i) => JSON.stringify({ call: [i + 1, 'ledger'], record: [`pending-${i}`] }));
    // One write: the hello, then five calls, far past both limits.
    client.sendRaw(`${JSON.stringify({ handshake: [0, 'testApp'], session: [id, 5, 0] })}\0${calls.join('\0')}\0`);
    for (let i = 1; i <= 5; i++) await client.waitMessage(isCallback(i), 2000, `the reply to call ${i}`);
    assert.equal(client.closed, false);
    for (let i = 0; i < 5; i++) assert.equal(fixture.app.executions.get(`pending-${i}`), 1);
    client.destroy();
    await fixture.close();
  });
});
