/**
 * Chaos: clients on TCP and on WebSocket make calls and exchange events in
 * both directions while a proxy kills every connection after a random
 * number of bytes — mid-message, mid-handshake, mid-replay, between a call
 * running and its reply arriving — hundreds of times. Then everything is
 * counted: every call ran once and was answered once, every event arrived
 * once and in order, nothing hung.
 *
 * The seed is printed; rerun one with CHAOS_SEED=<seed>. CHAOS_SCALE=<x>
 * multiplies the calls and the client's events (default 1, as `npm test`
 * runs it); `npm run soak` runs it at 42, over 100,000 calls per transport.
 * CHAOS_PATHS=slow adds slow paths: a quarter of the connections deliver
 * what the client sends 50–750 ms late, past the client's 300 ms handshake
 * timeout, so hellos arrive after the client gave up on them and resumed
 * elsewhere (late handshakes), and closes reach the other side late.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Client, type ServerSession } from '../lib/index';
import { fastReconnect, kinds, startServer, waitFor } from './helpers/fixtures';
import { Proxy } from './helpers/proxy';
import { seeded } from './helpers/prng';

/** A positive number; anything else is refused rather than run at some size nobody asked for. */
const SCALE = ((): number => {
  const scale = Number(process.env.CHAOS_SCALE ?? 1);
  if (!(Number.isFinite(scale) && scale > 0)) throw new Error(`CHAOS_SCALE must be a positive number, got ${process.env.CHAOS_SCALE}`);
  return scale;
})();
const PATHS = process.env.CHAOS_PATHS ?? 'kill';
if (PATHS !== 'kill' && PATHS !== 'slow') throw new Error(`CHAOS_PATHS must be kill or slow, got ${PATHS}`);
const SLOW = PATHS === 'slow';
const CLIENTS = 2;
/** Per client. A stream of STREAM_EVENTS server events starts every 150 calls, so those scale too. */
const CALLS = Math.max(1, Math.round(1200 * SCALE));
const CONCURRENCY = 16;
const STREAM_EVENTS = 300;
const NOTES = Math.max(1, Math.round(600 * SCALE));
/** Drops scale with the bytes exchanged: at least a hundred at the default size. */
const MIN_KILLS = Math.ceil(100 * Math.min(1, SCALE));

interface Tally {
  answered: Map<string, number>;
  failed: string[];
  ticks: Map<string, number[]>;
}

/** One client's workload: calls with bounded concurrency, notes, event streams. */
const work = async (client: Client, name: string, random: () => number, tally: Tally): Promise<void> => {
  client.on('event', (event) => {
    if (event.name !== 'tick') return;
    const [stream, n] = event.args as [string, number];
    const list = tally.ticks.get(stream) ?? [];
    list.push(n);
    tally.ticks.set(stream, list);
  });
  let next = 0;
  let notes = 0;
  const worker = async (): Promise<void> => {
    while (next < CALLS) {
      const token = `${name}:${next++}`;
      if (notes < NOTES && random() < 0.8) client.sendEvent('ledger', 'note', name, notes++);
      if (next % 150 === 0) {
        const stream = `${name}/s${next / 150}`;
        await client.call('events', 'start', stream, STREAM_EVENTS, 0);
      }
      try {
        const result = await client.call('ledger', 'record', token, random() < 0.2 ? Math.floor(random() * 4) : 0);
        assert.equal(result, token);
        tally.answered.set(token, (tally.answered.get(token) ?? 0) + 1);
      } catch (error) {
        tally.failed.push(`${token}: ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  while (notes < NOTES) client.sendEvent('ledger', 'note', name, notes++);
};

describe('chaos', () => {
  for (const kind of kinds) {
    it(`over ${kind}: connections killed at random points, then every call and event counted`, async (t) => {
      const random = seeded(t);
      const fixture = await startServer({ heartbeatInterval: 0 });
      const notes = new Map<string, number[]>();
      fixture.server.on('event', (_session: ServerSession, iface: string, name: string, args: unknown[]) => {
        if (iface !== 'ledger' || name !== 'note') return;
        const [client, n] = args as [string, number];
        const list = notes.get(client) ?? [];
        list.push(n);
        notes.set(client, list);
      });
      const proxy = new Proxy(fixture.port[kind]);
      const proxyPort = await proxy.listen();
      // WS spends ~300 bytes on its upgrade before the first message.
      const floor = kind === 'ws' ? 450 : 150;
      // Half the cuts leave the server's socket open and silent (a network switch).
      let delayed = 0;
      let stale = 0;
      proxy.options = {
        killAfterBytes: () => floor + Math.floor(random() * 2500),
        freezeChance: () => random() < 0.5,
        ...(SLOW && {
          delayToServer: () => {
            if (random() >= 0.25) return 0;
            delayed++;
            return 50 + Math.floor(random() * 700);
          },
          closeDelay: () => Math.floor(random() * 150),
          // A hello that came after its client moved on is refused as stale, for that connection only.
          tap: (toServer: boolean, chunk: Buffer) => {
            if (!toServer && chunk.includes('"stale"')) stale++;
          },
        }),
      };
      const tally: Tally = { answered: new Map(), failed: [], ticks: new Map() };
      const clients: Client[] = [];
      const started = Date.now();
      try {
        for (let i = 0; i < CLIENTS; i++) {
          let client: Client | undefined;
          for (let attempt = 0; !client && attempt < 50; attempt++) {
            // The very first handshake may be cut too; connect() then fails and we retry.
            client = await connect(`${kind}://127.0.0.1:${proxyPort}`, {
              app: 'testApp', reconnect: fastReconnect, heartbeatInterval: 0, ...(SLOW && { handshakeTimeout: 300 }),
            })
              .catch(() => undefined);
          }
          assert.ok(client, 'connected through the chaos proxy');
          clients.push(client);
        }
        await Promise.all(clients.map((client, i) => work(client, `${kind}${i}`, random, tally)));
        const streams = CLIENTS * Math.floor(CALLS / 150);
        await waitFor(
          () => [...tally.ticks.values()].filter((list) => list.length >= STREAM_EVENTS).length >= streams &&
            clients.every((_c, i) => (notes.get(`${kind}${i}`)?.length ?? 0) >= NOTES),
          20_000 * Math.max(1, SCALE),
          'all events',
        );
      } finally {
        proxy.options = {};
        for (const client of clients) client.close();
        await proxy.close();
        await fixture.close();
      }

      const tokens = clients.flatMap((_c, i) => Array.from({ length: CALLS }, (_v, n) => `${kind}${i}:${n}`));
      const executions = tokens.map((token) => fixture.app.executions.get(token) ?? 0);
      const answers = tokens.map((token) => tally.answered.get(token) ?? 0);
      const lostCalls = executions.filter((n) => n === 0).length + answers.filter((n) => n === 0).length;
      const duplicatedCalls = executions.filter((n) => n > 1).length + answers.filter((n) => n > 1).length;
      let events = 0;
      let eventProblems = 0;
      for (const list of [...tally.ticks.values(), ...notes.values()]) {
        events += list.length;
        const expected = list.map((_v, i) => i);
        if (list.some((n, i) => n !== expected[i])) eventProblems++;
      }
      t.diagnostic(
        `${kind} (${PATHS}${SLOW ? `, ${delayed} of ${proxy.connections} connections delayed, ${stale} late hellos refused as stale` : ''}): ${proxy.kills} drops, ${tokens.length} calls, ${events} events, ` +
        `lost ${lostCalls}, duplicated ${duplicatedCalls}, events out of order or repeated in ${eventProblems} streams, ` +
        `${Date.now() - started} ms`,
      );
      assert.deepEqual(tally.failed, []);
      assert.equal(lostCalls, 0, 'no call lost');
      assert.equal(duplicatedCalls, 0, 'no call run or answered twice');
      for (const [stream, list] of tally.ticks) {
        assert.deepEqual(list, [...Array(STREAM_EVENTS).keys()], `server events of ${stream}`);
      }
      for (const [client, list] of notes) {
        assert.deepEqual(list, [...Array(NOTES).keys()], `client events of ${client}`);
      }
      assert.ok(proxy.kills >= MIN_KILLS, `at least ${MIN_KILLS} drops (${proxy.kills})`);
    });
  }
});
