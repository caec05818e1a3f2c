/**
 * `connectBrowser({ persist })` in Node: the ticket kept in a Storage
 * passed in (an in-memory one with the Web Storage methods), a real server,
 * the `ws` package's WebSocket. A "reload" is a new client object on the
 * same storage after the page went away (`pagehide`). The real page's
 * `sessionStorage` is driven in test/client/browser.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectBrowser, type BrowserConnectOptions, type Client, type RemoteEvent, type SessionTicket, type TicketStorage } from '../../lib/client/index';
import { delay, startServer, waitFor, type Fixture } from '../helpers/fixtures';

class MemoryStorage implements TicketStorage {
  readonly items = new Map<string, string>();
  refuse = false;
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.refuse) throw new Error('QuotaExceededError');
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  ticket(key: string): SessionTicket | undefined {
    const text = this.items.get(key);
    return text === undefined ? undefined : JSON.parse(text) as SessionTicket;
  }
}

const KEY = 'chat-tab';

describe('connectBrowser({ persist })', () => {
  let fixture: Fixture;
  const clients: Client[] = [];

  const open = async (storage: TicketStorage, options: Partial<BrowserConnectOptions> = {}): Promise<{ client: Client; window: EventTarget; events: RemoteEvent[] }> => {
    const window = new EventTarget();
    const events: RemoteEvent[] = [];
    const client = await connectBrowser(fixture.url.ws, {
      app: 'testApp',
      WebSocket,
      persist: { storage, key: KEY },
      environment: { window, document: null, navigator: null },
      reconnect: { initialDelay: 5, maxDelay: 50 },
      onEvent: (event) => events.push(event),
      ...options,
    });
    clients.push(client);
    return { client, window, events };
  };

  /** The page goes away as a reload does: `pagehide`, then its socket dies. */
  const unload = (page: { client: Client; window: EventTarget }): void => {
    page.window.dispatchEvent(new Event('pagehide'));
    // Not close(): that would end the session. The socket just goes.
    page.client.reconnect(() => new Promise(() => undefined));
  };

  before(async () => {
    fixture = await startServer();
  });

  after(async () => {
    for (const client of clients) client.close();
    await fixture.close();
  });

  it('keeps the ticket, and a reload reclaims the session with nothing lost', async () => {
    const storage = new MemoryStorage();
    const first = await open(storage);
    assert.equal(storage.ticket(KEY)?.id, first.client.session?.id, 'saved once ready');
    assert.equal(await first.client.call('counter', 'increment'), 1);
    await first.client.call('events', 'start', 'reload', 20, 10);
    await waitFor(() => first.events.length >= 5, 3000, 'some ticks');
    unload(first);
    const second = await open(storage);
    assert.equal(second.client.session?.id, first.client.session?.id, 'the same session');
    assert.equal(await second.client.call('counter', 'increment'), 2, 'its state survived');
    await waitFor(() => first.events.length + second.events.length >= 20, 3000, 'every tick');
    await delay(50);
    const ticks = [...first.events, ...second.events].map((event) => event.args[1]);
    assert.deepEqual(ticks, Array.from({ length: 20 }, (_, n) => n), 'each tick once, in order');
  });

  it('updates the ticket on rotation and removes it on close()', async () => {
    const storage = new MemoryStorage();
    const { client } = await open(storage);
    const before = storage.ticket(KEY)?.id;
    assert.equal(await client.rotateSession(), true);
    await waitFor(() => storage.ticket(KEY)?.id !== before, 2000, 'the rotated ticket');
    assert.equal(storage.ticket(KEY)?.id, client.session?.id);
    client.close();
    assert.equal(storage.items.has(KEY), false);
  });

  it('drops a stored ticket the server no longer has and starts a new session', async () => {
    const storage = new MemoryStorage();
    const first = await open(storage);
    const stale = storage.items.get(KEY) as string;
    first.client.close();
    storage.items.set(KEY, stale);
    const second = await open(storage);
    assert.notEqual(second.client.session?.id, first.client.session?.id);
    assert.equal(storage.ticket(KEY)?.id, second.client.session?.id);
  });

  it('ignores a malformed ticket and a ticket of another application', async () => {
    const storage = new MemoryStorage();
    storage.items.set(KEY, '{not json');
    const { client } = await open(storage);
    assert.equal(storage.ticket(KEY)?.id, client.session?.id);
    storage.items.set(KEY, JSON.stringify({ ...storage.ticket(KEY), app: 'other' }));
    const other = await open(storage);
    assert.notEqual(other.client.session?.id, client.session?.id);
  });

  it('keeps working when the storage refuses, and keeps the ticket when the network fails', async () => {
    const storage = new MemoryStorage();
    storage.refuse = true;
    const { client } = await open(storage);
    assert.equal(await client.call('calc', 'add', 1, 2), 3);
    assert.equal(storage.items.size, 0);

    storage.refuse = false;
    const full = await open(storage);
    assert.equal(storage.ticket(KEY)?.id, full.client.session?.id);
    storage.refuse = true;
    await full.client.rotateSession();
    await waitFor(() => !storage.items.has(KEY), 2000, 'the older ticket dropped with the refused one');

    storage.refuse = false;
    const kept = await open(storage);
    const saved = storage.items.get(KEY);
    unload(kept);
    // The next load finds no server: the ticket stays for the one after.
    await assert.rejects(connectBrowser('ws://127.0.0.1:1/', { app: 'testApp', WebSocket, persist: { storage, key: KEY }, environment: {} }));
    assert.equal(storage.items.get(KEY) !== undefined, true);
    assert.equal(storage.ticket(KEY)?.id, JSON.parse(saved as string).id);
  });
});
