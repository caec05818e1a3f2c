/**
 * Sessions outlive the process, with the embedded default (a session
 * file): `tjstp serve` stopped with SIGTERM under load and started again,
 * and its clients, over TCP and WS, carry on with no call lost, none run
 * twice, no event missing. Killed with SIGKILL it comes back without
 * sessions, and every call is accounted for: a call that may have run
 * fails with code 29, one that surely did not with code 26.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, OutcomeUnknownError, SessionLostError, type Client } from '../../lib/index';
import { delay, once, waitFor } from '../helpers/fixtures';
import { startServe, type ServeChild } from '../helpers/serve-child';
import { drive, makeLedgerApplications, openLedgerClient, range, type LedgerClient } from '../helpers/ledger';

const dirs: string[] = [];
const clients: Client[] = [];
const children: ServeChild[] = [];

after(() => {
  for (const client of clients) client.close();
  for (const child of children) child.child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  dir: string;
  sessionFile: string;
  serve: (extra?: string[], ports?: number[]) => Promise<ServeChild>;
}

const setup = (): Setup => {
  const dir = makeLedgerApplications();
  dirs.push(dir);
  const sessionFile = path.join(dir, 'state', 'sessions.json');
  return {
    dir,
    sessionFile,
    serve: async (extra = [], ports = [0, 0]) => {
      const child = await startServe([
        '--applications', path.join(dir, 'applications'), '--no-watch', '--session-file', sessionFile,
        '--tcp', String(ports[0]), '--ws', String(ports[1]), ...extra,
      ], 2);
      children.push(child);
      return child;
    },
  };
};

const portsOf = (server: ServeChild): number[] => server.urls.map((url) => Number(new URL(url).port));

const stop = async (server: ServeChild, signal: NodeJS.Signals): Promise<number | null> => {
  server.child.kill(signal);
  return server.exited;
};

const open = (url: string): Promise<LedgerClient> => openLedgerClient(url, clients);

describe('tjstp serve with a session file', () => {
  it('restarts under load over TCP and WS: every call answered once, run once, every event once and in order', async () => {
    const { serve, sessionFile } = setup();
    const first = await serve();
    const ports = portsOf(first);
    const peers = await Promise.all(first.urls.map((url) => open(url)));
    const total = 1500;
    const loads = peers.map(({ client }) => drive(client, total));
    const slow = peers.map(({ client }, i) => {
      const call = (async () => {
        await waitFor(() => loads[i]!.settled() >= 300, 10_000, 'calls before the restart');
        return client.call('ledger', 'slow', 300, 100_000);
      })();
      return call;
    });
    await waitFor(() => loads.every((load) => load.settled() >= 300), 10_000, 'calls before the restart');
    await delay(50);
    assert.equal(await stop(first, 'SIGTERM'), 0, first.output());
    assert.match(first.output(), /saved 2 session\(s\) to /);
    assert.equal(fs.existsSync(sessionFile), true, 'the file is written');
    assert.equal(fs.statSync(sessionFile).mode & 0o077, 0, 'readable by its owner only');
    const second = await serve([], ports);
    assert.match(second.output(), /revived 2 session\(s\) from .*saved [\d.]+ s ago/);
    assert.equal(fs.existsSync(sessionFile), false, 'a file is used once');
    await Promise.all(loads.map((load) => load.done));
    assert.deepEqual(await Promise.all(slow), [100_000, 100_000], 'the call running at SIGTERM finished and its reply came after the restart');
    for (const [i, { client, events, lost }] of peers.entries()) {
      const load = loads[i]!;
      assert.deepEqual(load.failures, [], 'no call failed');
      assert.deepEqual(range(1, total).filter((n) => load.results.get(n) !== n), [], 'every call answered with its own result');
      const log = await client.call('ledger', 'log') as number[];
      assert.deepEqual([...log].sort((a, b) => a - b), [...range(1, total), 100_000], 'every call ran exactly once');
      assert.deepEqual(events.filter((n) => n !== 100_000), range(1, total), 'every event once, in order');
      assert.equal(events.filter((n) => n === 100_000).length, 1);
      assert.deepEqual(lost, [], 'no session lost');
    }
    assert.equal(await stop(second, 'SIGTERM'), 0);
  });

  it('after SIGKILL comes back without sessions: a sent call fails 29 (may have run), a call never sent 26, nothing hangs; an old file is never revived', async () => {
    const { serve, sessionFile } = setup();
    const first = await serve();
    const ports = portsOf(first);
    const [tcp] = await Promise.all(first.urls.slice(0, 1).map((url) => open(url)));
    const { client, lost } = tcp!;
    assert.equal(await client.call('ledger', 'add', 1), 1);
    // A graceful restart first: its file is used up by the next start.
    assert.equal(await stop(first, 'SIGTERM'), 0);
    const second = await serve([], ports);
    assert.match(second.output(), /revived 1 session\(s\)/);
    assert.equal(await client.call('ledger', 'add', 2), 2);
    const inFlight = client.call('ledger', 'slow', 5000, 3);
    await delay(100);
    const closed = once(client, 'disconnect');
    second.child.kill('SIGKILL');
    await second.exited;
    await closed;
    const offline = client.call('ledger', 'add', 4);
    await delay(200); // the client retries meanwhile: refused, backoff
    const third = await serve([], ports);
    assert.doesNotMatch(third.output(), /revived/, 'nothing to revive: the file went when the second server started');
    await assert.rejects(inFlight, (error: unknown) => {
      assert.ok(error instanceof OutcomeUnknownError, String(error));
      assert.equal(error.code, ErrorCode.OUTCOME_UNKNOWN);
      assert.equal(error.reason, 'not_found');
      return true;
    });
    await assert.rejects(offline, (error: unknown) => {
      assert.ok(error instanceof SessionLostError && !(error instanceof OutcomeUnknownError), String(error));
      assert.equal(error.code, ErrorCode.SESSION_LOST);
      return true;
    });
    assert.deepEqual(lost.map((error) => error.reason), ['not_found']);
    await waitFor(() => client.state === 'ready', 5000, 'the new session');
    assert.deepEqual(await client.call('ledger', 'log'), [], 'a new session, nothing carried over');
    assert.equal(fs.existsSync(sessionFile), false);
    assert.equal(await stop(third, 'SIGTERM'), 0);
  });

  it('answers 29 for a call still running when the drain timed out, and never runs it again', async () => {
    const { serve } = setup();
    const first = await serve(['--drain-timeout', '200']);
    const ports = portsOf(first);
    const [{ client }] = [await open(first.urls[0]!)];
    assert.equal(await client.call('ledger', 'add', 1), 1);
    const running = client.call('ledger', 'slow', 3000, 7);
    await delay(100);
    assert.equal(await stop(first, 'SIGTERM'), 0);
    assert.match(first.output(), /1 call\(s\) still running after 200 ms/);
    const second = await serve([], ports);
    assert.match(second.output(), /revived 1 session\(s\).*1 call\(s\) that were running answered 29/);
    await assert.rejects(running, (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, ErrorCode.OUTCOME_UNKNOWN);
      return true;
    });
    await delay(100);
    assert.deepEqual(await client.call('ledger', 'log'), [1], 'the interrupted call did not run again');
    assert.equal(await client.call('ledger', 'add', 2), 2);
    assert.equal(await stop(second, 'SIGTERM'), 0);
  });
});
