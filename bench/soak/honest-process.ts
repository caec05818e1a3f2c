/**
 * The honest client of the memory attack, in its own process so that its
 * round trips measure the server and not the attackers' event loop:
 * `dist/bench/soak/honest-process.js`, driven over IPC (`serveRequests`).
 *
 * Two real tjstp clients from 127.0.0.1, acknowledging as any client does:
 * one in `chat` over TCP (joined to its own room, calling `rooms.say`),
 * one in `counter` over WS (`counter.increment`, whose result must be the
 * previous one plus one: a lost or repeated call shows). One call at a
 * time, alternating, started every `intervalMs`. Every round trip is kept
 * with when it started and the phase it belongs to (before or during the
 * attack).
 */
import { connect, type Client } from '../../lib/index';
import { serveRequests } from '../common';

/** What `stop` answers. Imported as a type only: importing this file would start serving. */
export interface HonestResults {
  /** [ms since start, round trip ms, phase index] per call. */
  samples: Array<[number, number, number]>;
  phases: string[];
  calls: number;
  failures: string[];
  /** Calls still unanswered when stopped (after a grace period). */
  hung: number;
  sessionsLost: number;
  disconnects: number;
}

let chat: Client | undefined;
let counter: Client | undefined;
let running = false;
let loop: Promise<void> | undefined;
let pending = 0;
const startedAt = performance.now();
const results: HonestResults = { samples: [], phases: [], calls: 0, failures: [], hung: 0, sessionsLost: 0, disconnects: 0 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const watch = (client: Client): void => {
  client.on('sessionLost', () => {
    results.sessionsLost++;
  });
  client.on('disconnect', () => {
    results.disconnects++;
  });
};

const timed = async (what: string, call: () => Promise<unknown>, checkResult: (value: unknown) => string | undefined): Promise<void> => {
  const start = performance.now();
  pending++;
  results.calls++;
  try {
    const value = await call();
    const wrong = checkResult(value);
    if (wrong !== undefined) results.failures.push(`${what}: ${wrong}`);
  } catch (error) {
    results.failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    pending--;
  }
  results.samples.push([start - startedAt, performance.now() - start, results.phases.length - 1]);
};

const run = async (intervalMs: number): Promise<void> => {
  let n = 0;
  let expected = 0;
  let next = performance.now();
  while (running) {
    n++;
    if (n % 2 === 1) {
      await timed('rooms.say', () => chat!.call('rooms', 'say', 'honest', `honest message ${n}`), (id) =>
        Number.isInteger(id) ? undefined : `answered ${JSON.stringify(id)}`);
    } else {
      expected++;
      await timed('counter.increment', () => counter!.call('counter', 'increment'), (value) =>
        value === expected ? undefined : `answered ${JSON.stringify(value)}, expected ${expected}`);
    }
    next += intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else next = performance.now();
  }
};

serveRequests(
  {
    start: async ({ tcpPort, wsUrl, intervalMs, phase }) => {
      chat = await connect(`tcp://127.0.0.1:${Number(tcpPort)}`, { app: 'chat' });
      counter = await connect(String(wsUrl), { app: 'counter' });
      watch(chat);
      watch(counter);
      await chat.call('rooms', 'join', 'honest');
      results.phases.push(String(phase));
      running = true;
      loop = run(Number(intervalMs));
      return null;
    },
    phase: ({ name }) => {
      results.phases.push(String(name));
      return { calls: results.calls, failures: results.failures.length };
    },
    progress: () => ({ calls: results.calls, failures: results.failures.length, pending, sessionsLost: results.sessionsLost }),
    stop: async ({ graceMs }) => {
      running = false;
      const deadline = Date.now() + Number(graceMs ?? 10_000);
      while (pending > 0 && Date.now() < deadline) await sleep(20);
      results.hung = pending;
      if (pending === 0) await loop;
      chat?.close();
      counter?.close();
      return results;
    },
  },
  { pid: process.pid },
);
