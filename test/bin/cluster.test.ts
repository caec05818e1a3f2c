/**
 * `tjstp serve --redis` as a cluster of processes behind a load balancer
 * (a TCP proxy whose target the test moves), with a real redis-server:
 * a node SIGTERMed under load hands every session to the other with
 * nothing lost, run twice or out of order, over TCP and WS; a node
 * SIGKILLed takes its sessions with it and every call is accounted for
 * (29 if it may have run, 26 if it did not, none run twice); `--workers 2`
 * serves clients that land on either worker as they reconnect.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, OutcomeUnknownError, SessionLostError, type Client } from '../../lib/index';
import { delay, once, waitFor } from '../helpers/fixtures';
import { drive, makeLedgerApplications, openLedgerClient, range, type LedgerClient } from '../helpers/ledger';
import { Proxy } from '../helpers/proxy';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redis';
import { startServe, type ServeChild } from '../helpers/serve-child';

const skip = redisMissing();

describe('tjstp serve --redis: several processes', { skip }, () => {
  let redis: RedisServer;
  let dir: string;
  let prefix = 0;
  const clients: Client[] = [];
  const children: ServeChild[] = [];
  const proxies: Proxy[] = [];

  before(async () => {
    redis = await startRedis();
    dir = makeLedgerApplications();
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const child of children) child.child.kill('SIGKILL');
    for (const proxy of proxies) proxy.server.close();
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A node; each test flushes nothing but uses its own database number, so tests never meet. */
  const node = async (extra: string[] = []): Promise<ServeChild> => {
    const child = await startServe([
      '--applications', path.join(dir, 'applications'), '--no-watch', '--tcp', '0', '--ws', '0',
      '--redis', `${redis.url}/${prefix}`, ...extra,
    ], 2);
    children.push(child);
    return child;
  };

  const ports = (child: ServeChild): { tcp: number; ws: number } => {
    const [tcp, ws] = child.urls.map((url) => Number(new URL(url).port));
    return { tcp: tcp!, ws: ws! };
  };

  const balancer = async (port: number): Promise<Proxy> => {
    const proxy = new Proxy(port);
    proxies.push(proxy);
    await proxy.listen();
    return proxy;
  };

  const open = (url: string): Promise<LedgerClient> => openLedgerClient(url, clients);

  it('a node SIGTERMed under load: its clients, TCP and WS, carry on at the other node, every call once, every event once and in order', async () => {
    prefix = 1;
    const [a, b] = [await node(), await node()];
    const tcp = await balancer(ports(a).tcp);
    const ws = await balancer(ports(a).ws);
    const peers = [await open(`tcp://127.0.0.1:${tcp.port}`), await open(`ws://127.0.0.1:${ws.port}`)];
    const total = 1500;
    const loads = peers.map(({ client }) => drive(client, total));
    await waitFor(() => loads.every((load) => load.settled() >= 300), 10_000, 'calls before the stop');
    tcp.targetPort = ports(b).tcp;
    ws.targetPort = ports(b).ws;
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output());
    assert.match(a.output(), /parked 2 session\(s\) in Redis/);
    await Promise.all(loads.map((load) => load.done));
    for (const [i, { client, events, lost }] of peers.entries()) {
      const load = loads[i]!;
      assert.deepEqual(load.failures, [], 'no call failed');
      assert.deepEqual(range(1, total).filter((n) => load.results.get(n) !== n), [], 'every call answered with its own result');
      const log = await client.call('ledger', 'log') as number[];
      assert.deepEqual([...log].sort((x, y) => x - y), range(1, total), 'every call ran exactly once');
      assert.deepEqual(events, range(1, total), 'every event once, in order');
      assert.deepEqual(lost, [], 'no session lost');
    }
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
  });

  it('a node SIGKILLed: its sessions go with it; a sent call fails 29, a call made offline 26, none runs twice, a new session works', async () => {
    prefix = 2;
    const [a, b] = [await node(), await node()];
    const tcp = await balancer(ports(a).tcp);
    const { client, lost } = await open(`tcp://127.0.0.1:${tcp.port}`);
    assert.equal(await client.call('ledger', 'add', 1), 1);
    const inFlight = client.call('ledger', 'slow', 5000, 2);
    await delay(100);
    tcp.targetPort = ports(b).tcp;
    const down = once(client, 'disconnect');
    a.child.kill('SIGKILL');
    await a.exited;
    await down;
    const offline = client.call('ledger', 'add', 3);
    await assert.rejects(inFlight, (error: unknown) => error instanceof OutcomeUnknownError && error.code === ErrorCode.OUTCOME_UNKNOWN);
    await assert.rejects(offline, (error: unknown) => error instanceof SessionLostError && error.code === ErrorCode.SESSION_LOST);
    assert.deepEqual(lost.map((error) => error.reason), ['not_found'], 'B does not serve a session it cannot have whole');
    await waitFor(() => client.state === 'ready', 5000, 'a new session on B');
    assert.deepEqual(await client.call('ledger', 'log'), []);
    assert.equal(await client.call('ledger', 'add', 4), 4);
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
  });

  it('--workers 2: clients reconnecting land on either worker and lose nothing', async () => {
    prefix = 3;
    const server = await node(['--workers', '2']);
    assert.match(server.output(), /started 2 worker\(s\)/);
    const [tcpUrl] = server.urls;
    const peers = await Promise.all(Array.from({ length: 6 }, () => open(tcpUrl!)));
    let n = 0;
    for (let round = 0; round < 5; round++) {
      await Promise.all(peers.map(async ({ client }) => {
        for (let i = 0; i < 10; i++) await client.call('ledger', 'add', ++n);
        const back = once(client, 'ready');
        client.reconnect();
        await back;
      }));
    }
    let ran = 0;
    for (const { client, lost } of peers) {
      const log = await client.call('ledger', 'log') as number[];
      assert.equal(log.length, 50, 'every call of the session, across its reconnects');
      assert.equal(new Set(log).size, 50, 'none twice');
      assert.deepEqual(lost, []);
      ran += log.length;
    }
    assert.equal(ran, n);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    assert.match(server.output(), /worker \d+: parked \d+ session\(s\)/);
  });
});
