/**
 * Several servers sharing sessions through a real Redis: a client that
 * drops from node A resumes on node B with nothing lost and nothing run
 * twice; broadcasts and channels reach every node's sessions, and parked
 * ones on resume; two resumes racing on two nodes get one winner and a
 * clear refusal; an id without its key moves nothing. (Nodes that stop or
 * die as processes: test/bin/cluster.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { restoreProof } from '../../lib/client/proof';
import {
  RedisSessionStore,
  Server,
  connect,
  silentLogger,
  type Client,
  type RemoteEvent,
  type ServerSession,
} from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { delay, once, unlimitedAddress, waitFor } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { hello, openBoundSession, openRaw, rawCall, type RawClient } from '../helpers/raw';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redis';

const skip = redisMissing();

interface Node {
  server: Server;
  tcp: number;
  url: { tcp: string; ws: string };
  port: { tcp: number; ws: number };
}

const restoreText = (id: string, key: string, sent: number, received: number, nonce = Date.now()): string =>
  JSON.stringify({ handshake: [0, 'testApp'], session: [id, sent, received, nonce, restoreProof(key, id, sent, received, nonce)] });

describe('sessions shared through Redis', { skip }, () => {
  let redis: RedisServer;
  const nodes: Node[] = [];
  const clients: Client[] = [];
  const raws: RawClient[] = [];
  const proxies: Proxy[] = [];
  let prefix = 0;

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const raw of raws) raw.destroy();
    for (const proxy of proxies) proxy.server.close();
    await Promise.all(nodes.map((node) => node.server.close().catch(() => {})));
    await redis.stop();
  });

  /** `count` nodes sharing one prefix (each test its own). */
  const cluster = async (count: number, options: { drainTimeout?: number } = {}): Promise<Node[]> => {
    prefix++;
    const started: Node[] = [];
    for (let i = 0; i < count; i++) {
      const server = new Server({
        applications: [createTestApp().definition],
        logger: silentLogger,
        ...unlimitedAddress,
        ...options,
        store: new RedisSessionStore({ url: redis.url, prefix: `t${prefix}:` }),
      });
      const listeners = await server.listen({ tcp: 0, ws: 0 });
      const get = (kind: string) => listeners.find((listener) => listener.kind === kind)!;
      const node = { server, tcp: get('tcp').port!, url: { tcp: get('tcp').url, ws: get('ws').url }, port: { tcp: get('tcp').port!, ws: get('ws').port! } };
      nodes.push(node);
      started.push(node);
    }
    return started;
  };

  /** A load balancer in front: new connections go wherever `targetPort` says. */
  const balancer = async (to: Node): Promise<Proxy> => {
    const proxy = new Proxy(to.tcp);
    proxies.push(proxy);
    await proxy.listen();
    return proxy;
  };

  it('a client moved from node A to node B mid-stream: every call answered once and run once, its state and events along', async () => {
    const [a, b] = await cluster(2);
    const proxy = await balancer(a!);
    const events: RemoteEvent[] = [];
    const client = await connect(`tcp://127.0.0.1:${proxy.port}`, {
      app: 'testApp',
      reconnect: { initialDelay: 5, maxDelay: 20, jitter: 0 },
      onEvent: (event) => events.push(event),
    });
    clients.push(client);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      calls.push(client.call('counter', 'increment'));
      if (i === 100) {
        proxy.targetPort = b!.tcp;
        proxy.killAll();
      }
      if (i % 10 === 0) await delay(1);
    }
    const results = await Promise.all(calls);
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i + 1), 'each call ran once, in order, across the move');
    assert.equal(a!.server.sessions.size, 0, 'A handed it over');
    assert.equal(b!.server.sessions.size, 1, 'B serves it');
    assert.equal(await client.call('counter', 'increment'), 201);
    // Events from B reach it; events from A (the other node) too.
    await client.call('events', 'start', 's', 3, 0);
    assert.equal(a!.server.broadcast('testApp', 'events', 'news', ['from A']), 0, 'no session of A had it');
    await waitFor(() => events.some((event) => event.name === 'news'), 3000, 'the broadcast from the other node');
    assert.deepEqual(events.filter((event) => event.name === 'tick').map((event) => event.args[1]), [0, 1, 2]);
  });

  it('channels reach members on every node, and a parked session gets what was published while it was away', async () => {
    const [a, b] = await cluster(2);
    const proxy = await balancer(a!);
    const heard: RemoteEvent[] = [];
    const member = await connect(`tcp://127.0.0.1:${proxy.port}`, {
      app: 'testApp',
      reconnect: { initialDelay: 50, maxDelay: 100, jitter: 0 },
      onEvent: (event) => heard.push(event),
    });
    clients.push(member);
    a!.server.channels.join([...a!.server.sessions.values()][0] as ServerSession, 'room');
    assert.equal(b!.server.channels.publish('testApp', 'room', 'events', 'news', ['1 from B']), 0);
    await waitFor(() => heard.length === 1, 3000, 'the channel event from the other node');
    // A stops gracefully: its sessions are parked in Redis, with their channels.
    proxy.targetPort = b!.tcp;
    const parked = once(member, 'disconnect');
    await a!.server.suspend();
    assert.equal(await a!.server.park(), 1);
    await parked;
    b!.server.channels.publish('testApp', 'room', 'events', 'news', ['2 while parked']);
    b!.server.broadcast('testApp', 'events', 'news', ['3 to all, while parked']);
    await waitFor(() => heard.length === 3, 5000, 'the events published while parked');
    assert.deepEqual(heard.map((event) => event.args[0]), ['1 from B', '2 while parked', '3 to all, while parked']);
    assert.equal(b!.server.sessions.size, 1);
    assert.deepEqual([...([...b!.server.sessions.values()][0] as ServerSession).channels], ['room'], 'still a member, on B');
  });

  it('an id without its key moves nothing; two restores racing on two nodes: one wins, the other is refused, the session unharmed', async () => {
    const [a, b, c] = await cluster(3);
    const { client, id, key } = await openBoundSession('tcp', a!);
    raws.push(client);
    assert.deepEqual((await rawCall(client, 1, 'counter', 'increment', [])).ok, [1]);
    const thief = await openRaw('tcp', b!);
    raws.push(thief);
    assert.deepEqual((await hello(thief, JSON.stringify({ handshake: [0, 'testApp'], session: [id, 1, 1] }))).error?.[2], 'not_found');
    assert.equal(a!.server.sessions.size, 1, 'still on A');
    assert.equal(client.closed, false, 'its connection untouched');
    client.destroy();
    await client.waitClose();
    const nonce = Date.now();
    const racers = await Promise.all([openRaw('tcp', b!), openRaw('tcp', c!)]);
    raws.push(...racers);
    const replies = await Promise.all(racers.map((racer, i) => hello(racer, restoreText(id, key, 1, 1, nonce + i))));
    const won = replies.filter((reply) => reply.ok !== undefined);
    const refused = replies.filter((reply) => reply.error !== undefined);
    assert.equal(won.length, 1, JSON.stringify(replies));
    assert.equal(refused.length, 1);
    assert.ok(['restoreRace', 'stale'].includes(String(refused[0]!.error?.[2])), JSON.stringify(refused[0]));
    const winner = racers[replies.indexOf(won[0]!)]!;
    assert.deepEqual((await rawCall(winner, 2, 'counter', 'increment', [])).ok, [2], 'the winner has the session, state and all');
  });
  it('Redis restarted empty: attached sessions carry on; one moved then is told it is gone, and nothing runs twice', async () => {
    const [a, b] = await cluster(2);
    const proxy = await balancer(a!);
    const lost: string[] = [];
    const client = await connect(`tcp://127.0.0.1:${proxy.port}`, { app: 'testApp', reconnect: { initialDelay: 20, maxDelay: 100, jitter: 0 } });
    clients.push(client);
    client.on('sessionLost', (error) => lost.push(error.reason));
    for (let i = 1; i <= 5; i++) assert.equal(await client.call('counter', 'increment'), i);
    const news: string[] = [];
    client.on('event', (event) => {
      if (event.name === 'news') news.push(event.args[0] as string);
    });
    for (let i = 0; i < 100; i++) a!.server.broadcast('testApp', 'events', 'news', ['before']);
    await waitFor(() => news.length === 100, 3000, 'the broadcasts before the restart');
    await redis.restart();
    assert.equal(await client.call('counter', 'increment'), 6, 'the session lives on its node: no Redis on the call path');
    // The store's event numbers start over at 1: broadcasts must still arrive, not wait for number 101.
    let attempts = 0;
    while (!news.includes('after') && attempts < 100) {
      attempts++;
      b!.server.broadcast('testApp', 'events', 'news', ['after']);
      await delay(50);
    }
    assert.ok(news.includes('after') && attempts < 60, `a broadcast after the restart arrived (after ${attempts} tries)`);
    proxy.targetPort = b!.tcp;
    proxy.killAll();
    await waitFor(() => lost.length === 1, 10_000, 'the loss to be told');
    assert.deepEqual(lost, ['not_found']);
    await waitFor(() => client.state === 'ready', 10_000, 'a new session on B');
    assert.equal(await client.call('counter', 'increment'), 1, 'a new session; the old counter never ran again');
  });
});

