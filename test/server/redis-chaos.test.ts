/**
 * Chaos across nodes: two servers sharing a real Redis behind a proxy
 * that cuts every connection after a random number of bytes and sends
 * each new one to either node at random, so sessions move between the
 * nodes again and again, often while events are on their way. Counted at
 * the end: every call ran once and was answered once; every broadcast
 * reached every session once and in order. CHAOS_PATHS=slow also delays
 * what a quarter of the connections send (50–750 ms, past the clients'
 * 300 ms handshake timeout): late hellos on either node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RedisSessionStore, Server, connect, silentLogger, type Client, type RemoteEvent } from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { unlimitedAddress, waitFor } from '../helpers/fixtures';
import { prng } from '../helpers/prng';
import { Proxy } from '../helpers/proxy';
import { redisMissing, startRedis, type RedisServer } from '../helpers/redis';

const skip = redisMissing();
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
const SLOW = process.env.CHAOS_PATHS === 'slow';

describe(`sessions moving between nodes under chaos (seed ${seed})`, { skip }, () => {
  let redis: RedisServer;
  const servers: Server[] = [];
  const clients: Client[] = [];
  let proxy: Proxy;
  let flipper: ReturnType<typeof setInterval>;

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    clearInterval(flipper);
    for (const client of clients) client.close();
    proxy?.server.close();
    await Promise.all(servers.map((server) => server.close()));
    await redis.stop();
  });

  it('every call once, every broadcast to every session once and in order', { timeout: 60_000 }, async (t) => {
    const random = prng(seed);
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const server = new Server({
        applications: [createTestApp().definition],
        logger: silentLogger,
        ...unlimitedAddress,
        store: new RedisSessionStore({ url: redis.url, prefix: 'chaos:' }),
      });
      servers.push(server);
      const [listener] = await server.listen({ tcp: 0 });
      ports.push(listener!.port!);
    }
    proxy = new Proxy(ports[0]!);
    await proxy.listen();
    flipper = setInterval(() => {
      proxy.targetPort = ports[Math.floor(random() * ports.length)]!;
    }, 3);
    const news: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const heard: string[] = [];
      news.push(heard);
      clients.push(await connect(`tcp://127.0.0.1:${proxy.port}`, {
        app: 'testApp',
        reconnect: { initialDelay: 2, maxDelay: 20, jitter: 0.5 },
        ...(SLOW && { handshakeTimeout: 300 }),
        onEvent: (event: RemoteEvent) => {
          if (event.name === 'news') heard.push(event.args[0] as string);
        },
      }));
    }
    // The chaos starts once every client is in (a first connect that fails is an error by design).
    proxy.options = {
      killAfterBytes: () => 300 + Math.floor(random() * 3000),
      ...(SLOW && { delayToServer: () => (random() < 0.25 ? 50 + Math.floor(random() * 700) : 0) }),
    };
    proxy.killAll();
    const lost: string[] = [];
    for (const client of clients) client.on('sessionLost', (error) => lost.push(error.reason));
    const total = 150;
    const [publisher, ...others] = clients;
    const publishing = (async () => {
      for (let i = 1; i <= total; i++) await publisher!.call('events', 'broadcast', String(i));
    })();
    const counting = others.map(async (client) => {
      const results: unknown[] = [];
      for (let i = 0; i < 100; i++) results.push(await client.call('counter', 'increment'));
      return results;
    });
    const counted = await Promise.all(counting);
    await publishing;
    for (const results of counted) assert.deepEqual(results, Array.from({ length: 100 }, (_, i) => i + 1), 'each call ran once, in order');
    const expected = Array.from({ length: total }, (_, i) => String(i + 1));
    await waitFor(() => news.every((heard) => heard.length >= total), 20_000, `every broadcast everywhere: ${news.map((heard) => heard.length).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const [i, heard] of news.entries()) assert.deepEqual(heard, expected, `client ${i}: each broadcast once, in order`);
    t.diagnostic(`${SLOW ? 'slow' : 'kill'} paths: ${proxy.kills} drops over ${proxy.connections} connections to 2 nodes, ` +
      `${total + 300} calls, ${news.reduce((sum, heard) => sum + heard.length, 0)} broadcast deliveries`);
    assert.deepEqual(lost, [], 'no session lost');
    assert.ok(proxy.kills + proxy.connections > 20, `the sessions moved (${proxy.connections} connections)`);
  });
});
