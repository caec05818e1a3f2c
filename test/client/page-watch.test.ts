/**
 * `connectBrowser` listening to the page, in Node: the page's window,
 * document and navigator are plain EventTargets passed in, the WebSocket
 * is the `ws` package's, the server real, and a proxy breaks connections.
 * (The real page is driven in test/client/browser.test.ts.)
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ErrorCode, connectBrowser, type BrowserConnectOptions, type Client } from '../../lib/client/index';
import { delay, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

/** An EventTarget that counts its listeners, to prove none is left behind. */
class Target extends EventTarget {
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--;
    super.removeEventListener(...args);
  }
  fire(type: string): void {
    this.dispatchEvent(new Event(type));
  }
}

class Page {
  readonly window = new Target();
  readonly document = Object.assign(new Target(), { visibilityState: 'visible' });
  readonly navigator = { onLine: true };
  setVisibility(state: 'visible' | 'hidden'): void {
    this.document.visibilityState = state;
    this.document.fire('visibilitychange');
  }
}

/** Backoff so long that only the page can explain a prompt reconnect. */
const never = { initialDelay: 60_000, maxDelay: 60_000, jitter: 0 };

/** `promise`, or a failure once `ms` pass: far less than the backoff above. */
const soon = <T>(promise: Promise<T>, ms = 3000): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
};

describe('connectBrowser and the page', () => {
  let fixture: Fixture;
  let proxy: Proxy;
  const clients: Client[] = [];
  const open = async (page: Page, options: Partial<BrowserConnectOptions> = {}): Promise<Client> => {
    const client = await connectBrowser(`ws://127.0.0.1:${proxy.port}/`, {
      app: 'testApp',
      WebSocket,
      environment: page,
      reconnect: never,
      ...options,
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    fixture = await startServer();
    proxy = new Proxy(fixture.port.ws);
    await proxy.listen();
  });

  // The proxy's killAll() reaches every client: one left from an earlier test would
  // reconnect on its own schedule and be counted as an attempt of the next one.
  beforeEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  after(async () => {
    for (const client of clients) client.close();
    await proxy.close();
    await fixture.close();
  });

  it('reconnects at once when the page comes back online', async () => {
    const page = new Page();
    const client = await open(page);
    proxy.killAll();
    await waitFor(() => client.state === 'waiting', 2000, 'the drop');
    const call = client.call('ledger', 'record', 'online-1');
    page.window.fire('online');
    assert.equal(await soon(call), 'online-1');
    assert.equal(client.state, 'ready');
    assert.equal(fixture.app.executions.get('online-1'), 1);
  });

  it('reconnects at once when a hidden tab becomes visible, not when it hides', async () => {
    const page = new Page();
    const client = await open(page);
    proxy.killAll();
    await waitFor(() => client.state === 'waiting', 2000, 'the drop');
    const before = proxy.connections;
    page.setVisibility('hidden');
    await delay(100);
    assert.equal(client.state, 'waiting');
    assert.equal(proxy.connections, before, 'hiding the tab tried nothing');
    page.setVisibility('visible');
    assert.equal(await soon(client.call('ledger', 'record', 'visible-1')), 'visible-1');
    assert.equal(fixture.app.executions.get('visible-1'), 1);
  });

  it('tries nothing while offline, then resumes when back online', async () => {
    const page = new Page();
    const client = await open(page, { reconnect: { initialDelay: 10, maxDelay: 20 } });
    page.navigator.onLine = false;
    page.window.fire('offline');
    proxy.killAll();
    await waitFor(() => client.state === 'connecting', 2000, 'the drop');
    const before = proxy.connections;
    const call = client.call('ledger', 'record', 'offline-1');
    // Visible while offline is no reason to try either.
    page.setVisibility('visible');
    await delay(300);
    assert.equal(proxy.connections, before, 'no connection attempt while offline');
    assert.equal(client.state, 'connecting');
    assert.equal(fixture.app.executions.get('offline-1'), undefined);
    page.navigator.onLine = true;
    page.window.fire('online');
    assert.equal(await soon(call), 'offline-1');
    assert.equal(fixture.app.executions.get('offline-1'), 1);
  });

  it('still tries, rarely, while the page says it is offline', async () => {
    const page = new Page();
    page.navigator.onLine = false;
    // navigator.onLine is false from the start: the first attempt waits too.
    const started = Date.now();
    const client = await open(page, { offlineRetryDelay: 150 });
    assert.ok(Date.now() - started >= 140, 'the first attempt waited for offlineRetryDelay');
    assert.equal(await client.call('ledger', 'record', 'rare-1'), 'rare-1');
  });

  it('removes its page listeners on close, and close() fails an attempt held offline', async () => {
    const page = new Page();
    const client = await open(page);
    assert.ok(page.window.listeners > 0 && page.document.listeners > 0, 'it listens to the page');
    client.close();
    assert.equal(page.window.listeners, 0);
    assert.equal(page.document.listeners, 0);

    // A reconnection held while offline is dropped by close(), not made later.
    const offline = new Page();
    const held = await open(offline, { reconnect: { initialDelay: 10, maxDelay: 20 }, offlineRetryDelay: 100 });
    offline.navigator.onLine = false;
    proxy.killAll();
    await waitFor(() => held.state === 'connecting', 2000, 'the drop');
    const before = proxy.connections;
    const pending = held.call('ledger', 'record', 'closed-offline');
    held.close();
    await assert.rejects(pending, { code: ErrorCode.CLIENT_CLOSED });
    assert.equal(offline.window.listeners, 0);
    assert.equal(offline.document.listeners, 0);
    await delay(200);
    assert.equal(proxy.connections, before, 'nothing tried after close()');
    assert.equal(fixture.app.executions.get('closed-offline'), undefined);
  });

  it('degrades to the plain client where there is no page', async () => {
    const client = await open(new Page(), { environment: { window: null, document: null, navigator: null } });
    assert.equal(await client.call('calc', 'add', 2, 3), 5);
    proxy.killAll();
    await waitFor(() => client.state === 'waiting', 2000, 'the drop');
    client.reconnect();
    assert.equal(await client.call('calc', 'add', 1, 1), 2);
  });
});
