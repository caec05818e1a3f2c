/**
 * The ledger application, written to a temporary directory for
 * `tjstp serve`: each call it runs is logged in the session's state and
 * announced in an event, so a test can count every call and event across
 * restarts and moves between nodes. And a driver that keeps calls coming.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type Client, type RemoteEvent, type SessionLostError } from '../../lib/index';

/** An application that logs every call it runs in the session's state, and says so in an event. */
export const makeLedgerApplications = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-restart-'));
  const api = path.join(dir, 'applications', 'ledger', 'api', 'ledger');
  fs.mkdirSync(api, { recursive: true });
  fs.writeFileSync(path.join(dir, 'applications', 'ledger', 'application.json'), JSON.stringify({ name: 'ledger', version: '1.0.0' }));
  const record = `const log = (context.state.log ??= []); log.push(n); context.emit('ledger', 'added', n); return n;`;
  fs.writeFileSync(path.join(api, 'add.js'), `module.exports = (context, n) => { ${record} };`);
  fs.writeFileSync(path.join(api, 'slow.js'), `module.exports = async (context, ms, n) => { await new Promise((resolve) => setTimeout(resolve, ms)); ${record} };`);
  fs.writeFileSync(path.join(api, 'log.js'), `module.exports = (context) => context.state.log ?? [];`);
  return dir;
};

/** Calls `add(1…total)`, a few in flight, paced so that a restart lands mid-stream. */
export const drive = (client: Client, total: number): { done: Promise<void>; results: Map<number, unknown>; failures: [number, unknown][]; settled: () => number } => {
  const results = new Map<number, unknown>();
  const failures: [number, unknown][] = [];
  let next = 1;
  let running = 0;
  let settled = 0;
  const done = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      while (running < 4 && next <= total) {
        const n = next++;
        running++;
        client.call('ledger', 'add', n).then(
          (value) => results.set(n, value),
          (error: unknown) => failures.push([n, error]),
        ).finally(() => {
          running--;
          settled++;
          if (settled === total) {
            clearInterval(timer);
            resolve();
          }
        });
      }
    }, 2);
  });
  return { done, results, failures, settled: () => settled };
};

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);


export interface LedgerClient {
  client: Client;
  /** The numbers of the `added` events, as they came. */
  events: number[];
  lost: SessionLostError[];
}

/** A client of the ledger that records its events and session losses; `opened` collects it for cleanup. */
export const openLedgerClient = async (url: string, opened: Client[]): Promise<LedgerClient> => {
  const events: number[] = [];
  const lost: SessionLostError[] = [];
  const client = await connect(url, {
    app: 'ledger',
    reconnect: { initialDelay: 20, maxDelay: 100, jitter: 0 },
    onEvent: (event: RemoteEvent) => {
      if (event.name === 'added') events.push(event.args[0] as number);
    },
  });
  client.on('sessionLost', (error) => lost.push(error));
  opened.push(client);
  return { client, events, lost };
};
