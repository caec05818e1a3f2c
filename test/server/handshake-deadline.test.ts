/**
 * What comes before the JSTP handshake is bounded by `handshakeTimeout` too:
 * a WebSocket upgrade that stalls (after its request line, or before a
 * byte), a plain HTTP request, a TLS handshake that never completes, on the
 * TLS and WSS listeners. The server drops those connections in time, and
 * clients that did complete their upgrade are never cut.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Server, connect, silentLogger, type Client } from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { makeCertificate } from '../helpers/certificate';
import { delay, fastReconnect, waitFor } from '../helpers/fixtures';

const credentials = makeCertificate();
const TIMEOUT = 200;

interface Stalled {
  what: string;
  openedAt: number;
  /** ms from open to the close the server caused; undefined while open. */
  closedAfter: number | undefined;
  socket: net.Socket;
}

/** Once `socket` emits `ready`, sends `data` (or nothing) and stalls, noting when it closes. */
const stallOn = (what: string, socket: net.Socket, ready: string, data?: string | Buffer): Promise<Stalled> =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once(ready, () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      const stalled: Stalled = { what, openedAt: Date.now(), closedAfter: undefined, socket };
      socket.once('close', () => {
        stalled.closedAfter = Date.now() - stalled.openedAt;
      });
      socket.resume();
      if (data !== undefined) socket.write(data);
      resolve(stalled);
    });
  });

/** A raw connection that sends `data` (or nothing) and then stalls. */
const stall = (what: string, port: number, data?: string | Buffer): Promise<Stalled> =>
  stallOn(what, net.connect({ host: '127.0.0.1', port }), 'connect', data);

/** A TLS connection that completes its handshake, then sends `data` and stalls. */
const stallAfterTls = (what: string, port: number, ca: string, data: string): Promise<Stalled> =>
  stallOn(what, tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }), 'secureConnect', data);

const times = <T>(count: number, make: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: count }, make));

describe('deadlines before the JSTP handshake', () => {
  it('drops stalled upgrades, plain requests and TLS handshakes within handshakeTimeout; completed ones stay', { skip: credentials ? false : 'no openssl' }, async () => {
    const { key, cert } = credentials as { key: string; cert: string };
    const server = new Server({ applications: [createTestApp().definition], logger: silentLogger, handshakeTimeout: TIMEOUT });
    const listeners = await server.listen({ ws: 0, tls: { port: 0, tls: { key, cert } }, wss: { port: 0, tls: { key, cert } } });
    const at = (kind: string): { port: number; url: string } => {
      const listener = listeners.find((l) => l.kind === kind);
      return { port: listener?.port as number, url: listener?.url as string };
    };
    const clients: Client[] = [];
    const stalled: Stalled[] = [];
    try {
      // Clients that complete their upgrade and handshake, before and during the attack.
      const disconnects: string[] = [];
      const honest = async (kind: string): Promise<Client> => {
        const client = await connect(at(kind).url, { app: 'testApp', tls: { ca: cert }, reconnect: fastReconnect });
        client.on('disconnect', () => disconnects.push(kind));
        clients.push(client);
        return client;
      };
      const [ws, wss, secure] = [await honest('ws'), await honest('wss'), await honest('tls')];
      stalled.push(
        ...await times(50, () => stall('ws: request line only', at('ws').port, 'GET / HTTP/1.1\r\n')),
        ...await times(50, () => stall('ws: nothing', at('ws').port)),
        ...await times(5, () => stall('ws: plain request', at('ws').port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
        ...await times(20, () => stall('tls: nothing', at('tls').port)),
        ...await times(5, () => stall('tls: part of a ClientHello', at('tls').port, Buffer.from('16030100c8010000c40303', 'hex'))),
        ...await times(20, () => stall('wss: nothing', at('wss').port)),
        ...await times(5, () => stallAfterTls('wss: request line only, after TLS', at('wss').port, cert, 'GET / HTTP/1.1\r\n')),
      );
      const late = await honest('ws');
      for (const client of [ws, wss, secure, late]) assert.equal(await client.call('calc', 'add', 1, 2), 3);
      await waitFor(() => stalled.every((s) => s.closedAfter !== undefined), 3000, 'every stalled connection to be closed');
      for (const s of stalled) {
        const after = s.closedAfter as number;
        // Not at once (it was the deadline), and long before Node's own limits (60 s, 120 s).
        assert.ok(after >= TIMEOUT / 2 && after < 2000, `${s.what}: closed after ${after} ms`);
      }
      // Well past the deadline, the completed connections are still there.
      await delay(3 * TIMEOUT);
      for (const client of [ws, wss, secure, late]) assert.equal(await client.call('calc', 'add', 2, 2), 4);
      assert.deepEqual(disconnects, [], 'no completed connection was cut');
    } finally {
      for (const s of stalled) s.socket.destroy();
      for (const client of clients) client.close();
      await server.close();
    }
  });
});
