/**
 * The browser client in a real browser: headless Chromium loads a page
 * that imports the bundle (dist/browser/tjstp-client.js) and connects with
 * `connectBrowser({ persist: true })` through a proxy to a tjstp server.
 * The proxy breaks the connection as networks do (killed, frozen), the
 * browser goes offline, the page reloads; every call is counted where it
 * runs, on the server, and every event where it lands, in the page.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { staticHandler } from '../../lib/cli/static-files';
import { sessionKey, type ServerSession } from '../../lib/server/session';
import { browserMissing, launchBrowser, pageProblems } from '../helpers/browser';
import { delay, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

const BUNDLE = path.join(__dirname, '..', '..', 'browser', 'tjstp-client.js');
const HEARTBEAT = 300;

/** The page: connects, and keeps what happened on `window.t` for the test to read. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tjstp browser test</title>
<script type="module">
import { connectBrowser } from '/tjstp-client.js';
const query = new URLSearchParams(location.search);
const LOAD = crypto.randomUUID();
const t = window.t = { events: [], early: 0, states: [], readies: [], disconnects: 0, lost: [], errors: [], results: {} };
const client = await connectBrowser(query.get('ws'), {
  app: 'testApp',
  persist: true,
  heartbeatInterval: Number(query.get('heartbeat')),
  // ?backoff=ms: every wait that long, so that only the page's events can end it.
  reconnect: query.has('backoff') ? { initialDelay: Number(query.get('backoff')), maxDelay: Number(query.get('backoff')), jitter: 0 } : { initialDelay: 50, maxDelay: 200 },
  onEvent: (event) => {
    t.events.push(event);
    if (!t.client) t.early++;
    // Kept where a reload cannot lose it: what a load received must be known after it is gone.
    const seen = JSON.parse(sessionStorage.getItem('test:events') ?? '[]');
    seen.push({ load: LOAD, name: event.name, args: event.args });
    sessionStorage.setItem('test:events', JSON.stringify(seen));
  },
});
client.on('state', (state) => t.states.push(state));
client.on('ready', (info) => t.readies.push({ ...info, id: client.session.id, at: Date.now() }));
client.on('sessionLost', (error) => t.lost.push(error.reason));
client.on('disconnect', () => t.disconnects++);
client.on('error', (error) => t.errors.push(String(error)));
/** Starts a call; its outcome lands in t.results[key]. */
t.call = (key, ...args) => {
  client.call(...args).then((value) => { t.results[key] = { value }; }, (error) => { t.results[key] = { error: String(error) }; });
};
t.client = client;
</script>
`;

interface PageResult {
  value?: unknown;
  error?: string;
}

const skip = browserMissing();

describe('the browser client in Chromium', { skip }, () => {
  let fixture: Fixture;
  let proxy: Proxy;
  let site: http.Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  /** How long the next request for the bundle is held: a reload on a slow network. */
  let bundleDelay = 0;
  /** Every ledger token the page used: each must have run exactly once. */
  const tokens = new Set<string>();

  const ran = (token: string): number | undefined => fixture.app.executions.get(token);
  /** What the test does in one tab: start calls, read results and the page's state, follow its events. */
  const tabTools = (tab: () => Page) => {
    const result = async (key: string, ms = 5000): Promise<PageResult> => {
      await tab().waitForFunction((k) => (globalThis as unknown as { t: { results: Record<string, unknown> } }).t.results[k] !== undefined, key, { timeout: ms });
      return tab().evaluate((k) => (globalThis as unknown as { t: { results: Record<string, PageResult> } }).t.results[k] as PageResult, key);
    };
    const call = async (key: string, iface: string, method: string, ...args: unknown[]): Promise<void> => {
      if (iface === 'ledger') tokens.add(args[0] as string);
      await tab().evaluate(([k, i, m, a]) => (globalThis as unknown as { t: { call(...x: unknown[]): void } }).t.call(k, i, m, ...(a as unknown[])), [key, iface, method, args] as const);
    };
    const read = <T>(expression: string): Promise<T> => tab().evaluate(expression) as Promise<T>;
    /** The events of one stream every load of the page received, in order. */
    const received = async (stream: string): Promise<{ load: string; tick: number }[]> => {
      const all = await read<{ load: string; args: [string, number] }[]>(`JSON.parse(sessionStorage.getItem('test:events') ?? '[]')`);
      return all.filter((event) => event.args[0] === stream).map((event) => ({ load: event.load, tick: event.args[1] }));
    };
    const ticksOf = async (stream: string): Promise<number[]> => (await received(stream)).map((event) => event.tick);
    /** Polls the page until `stream` has `count` events. */
    const awaitTicks = async (stream: string, count: number): Promise<void> => {
      const start = Date.now();
      while ((await received(stream)).length < count) {
        if (Date.now() - start > 5000) assert.fail(`${stream}: ${count} events expected, got ${JSON.stringify(await ticksOf(stream))}`);
        await delay(20);
      }
    };
    return { result, call, read, received, ticksOf, awaitTicks };
  };
  const { result, call, read, received, ticksOf, awaitTicks } = tabTools(() => page);
  /** The server's side of the session `tab` is in. */
  const serverSession = async (tab: Page = page): Promise<ServerSession> => {
    const id = await tab.evaluate(() => (globalThis as unknown as { t: { client: { session: { id: string } } } }).t.client.session.id);
    const session = fixture.server.sessions.get(sessionKey(id));
    assert.ok(session, 'the server has the session');
    return session;
  };
  /** Until the tab's client is in `state`. */
  const untilState = (tab: Page, state: string, ms = 5000): Promise<unknown> =>
    tab.waitForFunction((s) => (globalThis as unknown as { t: { client: { state: string } } }).t.client.state === s, state, { timeout: ms });
  /** Loads the test page in `tab`; `query` adds to its URL (e.g. `&backoff=60000`). */
  const open = async (tab: Page = page, query = ''): Promise<void> => {
    await tab.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/?ws=ws://127.0.0.1:${proxy.port}/&heartbeat=${HEARTBEAT}${query}`);
    await tab.waitForFunction(() => (globalThis as unknown as { t?: { client?: unknown } }).t?.client !== undefined, undefined, { timeout: 5000 });
  };

  before(async () => {
    fixture = await startServer();
    proxy = new Proxy(fixture.port.ws);
    await proxy.listen();
    const serve = staticHandler(new Map([
      ['/', { type: 'text/html; charset=utf-8', body: () => PAGE }],
      ['/tjstp-client.js', { type: 'text/javascript; charset=utf-8', file: BUNDLE, missing: 'run npm run build' }],
      ['/tjstp-client.js.map', { type: 'application/json', file: `${BUNDLE}.map` }],
      // Same origin, no client: where a test writes a tab's sessionStorage before the page loads.
      ['/blank', { type: 'text/html; charset=utf-8', body: () => '<!doctype html><title>blank</title>' }],
    ]));
    site = http.createServer((req, res) => {
      const held = req.url === '/tjstp-client.js' ? bundleDelay : 0;
      bundleDelay = 0;
      setTimeout(() => serve(req, res), held);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    browser = await launchBrowser();
    context = await browser.newContext();
    page = await context.newPage();
    problems = pageProblems(page);
  });

  after(async () => {
    await browser?.close();
    site?.closeAllConnections();
    await new Promise((resolve) => site?.close(resolve));
    await proxy?.close();
    await fixture?.close();
  });

  it('loads the bundle, calls, receives events and keeps the ticket in sessionStorage', async () => {
    await open();
    await call('add', 'calc', 'add', 2, 3);
    assert.deepEqual(await result('add'), { value: 5 });
    await call('hello', 'events', 'start', 'hello', 3, 0);
    await awaitTicks('hello', 3);
    assert.deepEqual(await ticksOf('hello'), [0, 1, 2]);
    const stored = await read<{ key: string; id: string; session: string } | null>(`(() => {
      const key = Object.keys(sessionStorage).find((k) => k.startsWith('tjstp-session:testApp:'));
      return key ? { key, id: JSON.parse(sessionStorage.getItem(key)).id, session: t.client.session.id } : null;
    })()`);
    assert.ok(stored, 'a ticket in sessionStorage');
    assert.equal(stored.id, stored.session);
    assert.deepEqual(problems, [], 'no console errors');
  });

  it('the path kills the socket (both sides at the proxy): the call in flight is answered once, events go on in order', async () => {
    const drops = await read<number>('t.disconnects');
    await call('kill', 'ledger', 'record', 'kill-1', 300);
    await call('stream', 'events', 'start', 'kill', 10, 30);
    await waitFor(() => ran('kill-1') === 1, 5000, 'the call running');
    assert.ok(proxy.killAll() > 0);
    assert.deepEqual(await result('kill'), { value: 'kill-1' });
    await awaitTicks('kill', 10);
    assert.deepEqual(await ticksOf('kill'), [...Array(10).keys()]);
    assert.equal(await read<number>('t.disconnects'), drops + 1);
    assert.equal(await read<boolean>('t.readies.at(-1).resumed'), true);
    assert.equal(ran('kill-1'), 1);
  });

  it('the server destroys the session\'s connection: the call in flight is answered once, events go on in order', async () => {
    const drops = await read<number>('t.disconnects');
    const session = await serverSession();
    const transport = session.transport;
    assert.ok(transport, 'attached');
    await call('destroyed', 'ledger', 'record', 'destroy-1', 300);
    await call('stream', 'events', 'start', 'destroy', 20, 40);
    await waitFor(() => ran('destroy-1') === 1, 5000, 'the call running');
    await awaitTicks('destroy', 2);
    const before = (await ticksOf('destroy')).length;
    // The server's own end, no proxy involved: its socket destroyed under the session.
    transport.destroy();
    assert.ok(before < 20, `events were still streaming (${before} of 20 in)`);
    assert.deepEqual(await result('destroyed'), { value: 'destroy-1' });
    await awaitTicks('destroy', 20);
    await delay(100);
    assert.deepEqual(await ticksOf('destroy'), [...Array(20).keys()], 'each event once, in order');
    assert.equal(await read<number>('t.disconnects'), drops + 1);
    assert.equal(await read<boolean>('t.readies.at(-1).resumed'), true);
    assert.equal(await serverSession(), session, 'the same session on the server');
    assert.ok(session.transport !== null && session.transport !== transport, 'on a new connection');
    assert.equal(ran('destroy-1'), 1);
  });

  it('tries nothing while the browser is offline; a call made offline is answered once after it is back', async () => {
    await context.setOffline(true);
    assert.equal(await read<boolean>('navigator.onLine'), false);
    proxy.killAll();
    await page.waitForFunction(() => (globalThis as unknown as { t: { states: string[] } }).t.states.at(-1) === 'connecting', undefined, { timeout: 5000 });
    const attempts = proxy.connections;
    await call('offline', 'ledger', 'record', 'offline-1');
    // Backoff alone would have tried a few times in this while (50–200 ms apart).
    await delay(500);
    assert.equal(proxy.connections, attempts, 'no connection attempt while offline');
    assert.equal(ran('offline-1'), undefined);
    const online = Date.now();
    await context.setOffline(false);
    assert.deepEqual(await result('offline'), { value: 'offline-1' });
    assert.ok(Date.now() - online < 3000, 'resumed as soon as the browser was online');
    assert.equal(ran('offline-1'), 1);
  });

  it('a frozen connection is found by the heartbeat and the session resumes', async () => {
    const drops = await read<number>('t.disconnects');
    proxy.stallAll();
    const frozen = Date.now();
    await call('frozen', 'ledger', 'record', 'frozen-1');
    assert.deepEqual(await result('frozen', 10_000), { value: 'frozen-1' });
    // Two silent intervals, then a reconnect: well under the 10 s default.
    assert.ok(Date.now() - frozen < 8 * HEARTBEAT + 2000, `found in ${Date.now() - frozen} ms`);
    assert.equal(await read<number>('t.disconnects'), drops + 1);
    assert.equal(await read<boolean>('t.readies.at(-1).resumed'), true);
    assert.equal(ran('frozen-1'), 1);
  });

  it('a reload reclaims the session from sessionStorage: events sent meanwhile arrive after, nothing runs twice', async () => {
    await call('before', 'counter', 'increment');
    const count = (await result('before')).value as number;
    const session = await read<string>('t.client.session.id');
    await call('stream', 'events', 'start', 'reload', 40, 20);
    await awaitTicks('reload', 1);
    // In flight across the reload: its answer goes to a page that is gone; it must still run once.
    await call('inflight', 'ledger', 'record', 'reload-inflight', 100);
    bundleDelay = 300;
    await open();
    assert.equal(await read<string>('t.client.session.id'), session, 'the same session');
    await call('after', 'counter', 'increment');
    assert.deepEqual(await result('after'), { value: count + 1 }, 'its state survived');
    await awaitTicks('reload', 40);
    await delay(100);
    const ticks = await received('reload');
    assert.deepEqual(ticks.map((event) => event.tick), [...Array(40).keys()], 'each event once, in order, across the reload');
    assert.equal(new Set(ticks.map((event) => event.load)).size, 2, 'both loads received some');
    assert.ok(await read<number>('t.early') > 0, 'what was sent while the page reloaded came with the resume');
    await waitFor(() => ran('reload-inflight') === 1, 3000, 'the call in flight');
  });

  describe('a client waiting out a long backoff (60 s)', () => {
    let other: BrowserContext;
    let tab: Page;
    let tabProblems: string[];
    const tools = tabTools(() => tab);
    /** The tab's document.visibilityState, set by the test: headless Chromium has no way to hide a tab. */
    const setVisibility = (state: 'hidden' | 'visible'): Promise<void> => tab.evaluate((value) => {
      const page = globalThis as unknown as { document: { dispatchEvent(event: unknown): boolean }; Event: new (type: string) => unknown };
      Object.defineProperty(page.document, 'visibilityState', { get: () => value, configurable: true });
      page.document.dispatchEvent(new page.Event('visibilitychange'));
    }, state);
    /** The server drops the tab's connection; resolves once the client is waiting out its backoff. */
    const dropToWaiting = async (): Promise<number> => {
      const readies = await tools.read<number>('t.readies.length');
      (await serverSession(tab)).transport?.destroy();
      await untilState(tab, 'waiting');
      return readies;
    };
    /** Until the tab has resumed (a ready after `readies`); how long that took from `since`. */
    const resumedWithin = async (readies: number, since: number): Promise<number> => {
      await tab.waitForFunction((n) => (globalThis as unknown as { t: { readies: unknown[] } }).t.readies.length > n, readies, { timeout: 10_000 });
      assert.equal(await tools.read<boolean>('t.readies.at(-1).resumed'), true);
      return Date.now() - since;
    };

    before(async () => {
      other = await browser.newContext();
      tab = await other.newPage();
      tabProblems = pageProblems(tab);
      await open(tab, '&backoff=60000');
    });

    after(async () => {
      await other?.close();
    });

    it('a hidden tab becoming visible reconnects at once; hiding it does not', async () => {
      const readies = await dropToWaiting();
      const attempts = proxy.connections;
      await tools.call('visible', 'counter', 'increment');
      await setVisibility('hidden');
      await delay(300);
      assert.equal(await tools.read<string>('t.client.state'), 'waiting', 'hidden: still waiting');
      assert.equal(proxy.connections, attempts, 'no attempt while hidden');
      const shown = Date.now();
      await setVisibility('visible');
      const took = await resumedWithin(readies, shown);
      assert.ok(took < 3000, `resumed ${took} ms after the tab became visible, not after the 60 s backoff`);
      assert.equal(typeof (await tools.result('visible')).value, 'number');
    });

    it('the browser coming back online reconnects at once', async () => {
      const readies = await dropToWaiting();
      const attempts = proxy.connections;
      await other.setOffline(true);
      assert.equal(await tools.read<boolean>('navigator.onLine'), false);
      await delay(300);
      assert.equal(proxy.connections, attempts, 'no attempt while offline');
      const online = Date.now();
      await other.setOffline(false);
      const took = await resumedWithin(readies, online);
      assert.ok(took < 3000, `resumed ${took} ms after the browser was online, not after the 60 s backoff`);
      assert.deepEqual(await tools.read<string[]>('t.errors'), []);
      assert.deepEqual(tabProblems, []);
    });
  });

  // The newer restore takes the session; the tab it was taken from hears
  // error 32 on the connection it is using, and (having restored nothing
  // elsewhere) gives the session up rather than take it back.
  it('a duplicated tab (sessionStorage copied) claims the same session: the duplicate keeps it, the first starts a new one, no thrashing', async () => {
    const other = await browser.newContext();
    try {
      const [first, second] = [await other.newPage(), await other.newPage()];
      const seen = [first, second].map((tab) => pageProblems(tab));
      const [one, two] = [tabTools(() => first), tabTools(() => second)];
      await open(first);
      const session = await one.read<string>('t.client.session.id');
      const storage = await one.read<[string, string][]>('Object.entries(sessionStorage)');
      assert.ok(storage.some(([key]) => key.startsWith('tjstp-session:')), 'a ticket to copy');
      // What a browser's "duplicate tab" does: the same sessionStorage in a new tab.
      await second.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/blank`);
      await second.evaluate((entries) => {
        const store = (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage;
        for (const [key, value] of entries) store.setItem(key, value);
      }, storage);
      const duplicated = Date.now();
      await open(second);
      // Let whatever follows settle, then look at the last second: nothing may still be moving.
      await delay(2500);
      const report = async (tools: typeof one): Promise<{ id: string; readies: { id: string; at: number }[]; disconnects: number; lost: string[] }> => ({
        id: await tools.read<string>('t.client.session.id'),
        readies: await tools.read<{ id: string; at: number }[]>('t.readies'),
        disconnects: await tools.read<number>('t.disconnects'),
        lost: await tools.read<string[]>('t.lost'),
      });
      const [a, b] = [await report(one), await report(two)];
      const detail = JSON.stringify({ first: a, second: b, duplicated });
      const lastReady = Math.max(...[...a.readies, ...b.readies].map((ready) => ready.at));
      assert.ok(lastReady - duplicated < 2000, `settled within 2 s of the duplicate: ${detail}`);
      assert.equal(a.disconnects + b.disconnects, 1, `one connection lost, no thrashing: ${detail}`);
      assert.equal(b.id, session, `the duplicate keeps the session: ${detail}`);
      assert.notEqual(a.id, session, `the first tab starts a new session: ${detail}`);
      assert.deepEqual(a.lost, ['stale'], detail);
      assert.deepEqual(b.lost, [], detail);
      await one.call('a', 'counter', 'increment');
      await two.call('b', 'counter', 'increment');
      assert.equal((await one.result('a')).value, 1, 'the new session has its own state');
      assert.equal(typeof (await two.result('b')).value, 'number');
      const ticket = await one.read<string | undefined>(`JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.startsWith('tjstp-session:')))).id`);
      assert.equal(ticket, a.id, 'the first tab stored its new ticket: its next reload reclaims its own session');
      assert.deepEqual(seen.flat(), []);
    } finally {
      await other.close();
    }
  });

  it('ran every call exactly once, and the page saw no errors', async () => {
    await delay(100);
    for (const token of tokens) assert.equal(ran(token), 1, token);
    assert.ok(tokens.size >= 4);
    assert.deepEqual(await read<string[]>('t.errors'), []);
    assert.deepEqual(problems, []);
  });
});
