/**
 * Every listener kind end to end: a client connects over TLS, WSS and IPC,
 * calls, drops its connection and resumes. Listeners report what they
 * bound; a listener that cannot bind fails `listen` and leaves nothing open.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Server, connect, silentLogger } from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { makeCertificate } from '../helpers/certificate';
import { fastReconnect, once } from '../helpers/fixtures';

const credentials = makeCertificate();

describe('listeners', () => {
  it('serves TLS, WSS and IPC, and sessions resume on each', { skip: credentials ? false : 'no openssl' }, async () => {
    const { key, cert } = credentials as { key: string; cert: string };
    const server = new Server({ applications: [createTestApp().definition], logger: silentLogger });
    const ipc = path.join(os.tmpdir(), `tjstp-${process.pid}-${Date.now()}.sock`);
    const listeners = await server.listen({ tls: { port: 0, tls: { key, cert } }, wss: { port: 0, tls: { key, cert } }, ipc });
    try {
      assert.deepEqual(listeners.map((l) => l.kind), ['tls', 'ipc', 'wss']);
      for (const listener of listeners) {
        const url = listener.kind === 'ipc' ? listener.url : listener.url;
        if (listener.kind !== 'ipc') assert.match(url, new RegExp(`^${listener.kind}://127\\.0\\.0\\.1:\\d+$`));
        const client = await connect(url, { app: 'testApp', tls: { ca: cert }, reconnect: fastReconnect });
        assert.equal(await client.call('counter', 'increment'), 1);
        client.reconnect();
        const [info] = await once<[{ resumed: boolean }]>(client, 'ready');
        assert.equal(info.resumed, true, `${listener.kind} resumed`);
        assert.equal(await client.call('counter', 'increment'), 2);
        client.close();
      }
    } finally {
      await server.close();
    }
  });

  it('refuses an untrusted certificate', { skip: credentials ? false : 'no openssl' }, async () => {
    const { key, cert } = credentials as { key: string; cert: string };
    const server = new Server({ applications: [createTestApp().definition], logger: silentLogger });
    const [listener] = await server.listen({ tls: { port: 0, tls: { key, cert } } });
    try {
      await assert.rejects(connect(listener!.url, { app: 'testApp' }), /self-signed|certificate/i);
    } finally {
      await server.close();
    }
  });

  it('fails listen when a port is taken, closing what it opened', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const server = new Server({ applications: [createTestApp().definition], logger: silentLogger });
    try {
      await assert.rejects(server.listen({ tcp: 0, ws: taken }), /EADDRINUSE/);
      assert.equal(server.listeners.length, 0);
    } finally {
      await server.close();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('queues up to `backlog` connections in the kernel (default 4096), for resume storms', async () => {
    // `ss` shows a listening socket's backlog as its Send-Q; the kernel caps it at somaxconn.
    const somaxconn = ((): number | undefined => {
      try {
        return Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
      } catch {
        return undefined;
      }
    })();
    const queueOf = (port: number | undefined): number | undefined => {
      try {
        const line = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
        return Number(line.split(/\s+/)[2]);
      } catch {
        return undefined;
      }
    };
    const server = new Server({ applications: [createTestApp().definition], logger: silentLogger });
    try {
      await assert.rejects(server.listen({ tcp: 0, backlog: 0 }), /backlog must be a positive integer, got 0/);
      const [byDefault] = await server.listen({ tcp: 0 });
      const [small] = await server.listen({ ws: 0, backlog: 7 });
      const seen = queueOf(byDefault?.port);
      if (seen === undefined || somaxconn === undefined) return; // no ss or /proc here: the option is still accepted
      assert.equal(seen, Math.min(4096, somaxconn), 'the default');
      assert.equal(queueOf(small?.port), 7, 'as asked');
    } finally {
      await server.close();
    }
  });
});
