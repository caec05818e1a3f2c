/**
 * A late hello must not kill a live session. Through a relay that
 * delivers one path's bytes late (a congested or dying network), a client
 * that switches transports twice in quick succession, or whose own
 * handshake timeout fires and who reconnects, resumes over the newer
 * connection; when its old restore hello finally arrives, the server
 * refuses that connection only (`stale`) and the session goes on: no
 * `sessionLost`, no call lost or run twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { transportFor, type Client, type ServerSession } from '../../lib/index';
import { delay, kinds, once, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

describe('a late restore hello', () => {
  let f: Fixture;
  const proxies = new Map<string, Proxy>();
  /** What the server sent back through the proxies, to see the late hello's answer. */
  let answers = '';
  const tap = (toServer: boolean, chunk: Buffer): void => {
    if (!toServer) answers += chunk.toString('latin1');
  };

  before(async () => {
    f = await startServer();
    for (const kind of kinds) {
      const proxy = new Proxy(f.port[kind]);
      await proxy.listen();
      proxies.set(kind, proxy);
    }
  });

  after(async () => {
    for (const proxy of proxies.values()) await proxy.close();
    await f.close();
  });

  /** Runs calls and an event stream on `client` and checks every one lands once. */
  const steady = async (client: Client, label: string): Promise<() => Promise<void>> => {
    const ticks: number[] = [];
    client.on('event', (event) => {
      if (event.args[0] === label) ticks.push(event.args[1] as number);
    });
    await client.call('events', 'start', label, 40, 5);
    const calls = Array.from({ length: 20 }, (_v, i) => client.call('ledger', 'record', `${label}:${i}`, 3));
    return async () => {
      assert.deepEqual(await Promise.all(calls), Array.from({ length: 20 }, (_v, i) => `${label}:${i}`));
      await waitFor(() => ticks.length >= 40, 3000, 'the event stream');
      assert.deepEqual(ticks, [...Array(40).keys()]);
      for (let i = 0; i < 20; i++) assert.equal(f.app.executions.get(`${label}:${i}`), 1, `${label}:${i} ran once`);
    };
  };

  const urlThrough = (kind: string): string => `${kind}://127.0.0.1:${(proxies.get(kind) as Proxy).port}`;

  for (const kind of kinds) {
    it(`${kind}: two transport switches in quick succession, the first one's hello delivered last`, async () => {
      const client = await f.connect(kind, { handshakeTimeout: 5000 });
      let lost = false;
      client.on('sessionLost', () => {
        lost = true;
      });
      const check = await steady(client, `switch-${kind}`);
      const proxy = proxies.get(kind) as Proxy;
      answers = '';
      proxy.options = { delayToServer: () => 250, tap };
      const ended: string[] = [];
      f.server.on('end', (_session: ServerSession, reason: string) => ended.push(reason));
      client.reconnect(transportFor(urlThrough(kind)));
      await delay(30);
      client.reconnect(transportFor(f.url[kind]));
      await once(client, 'ready');
      // The first hello arrives now, 250 ms late, and is refused for its connection only.
      await waitFor(() => answers.includes('"stale"'), 2000, 'the late hello to be refused as stale');
      proxy.options = {};
      await check();
      assert.equal(lost, false, 'no sessionLost');
      assert.deepEqual(ended, [], 'the session was not ended');
      assert.equal(client.state, 'ready');
      assert.equal(await client.call('counter', 'increment'), 1);
      client.close();
    });

    it(`${kind}: its own handshake timeout fires, it reconnects and resumes; the slow hello arrives after`, async () => {
      const proxy = proxies.get(kind) as Proxy;
      const client = await f.connect(kind, { handshakeTimeout: 150 });
      let lost = false;
      client.on('sessionLost', () => {
        lost = true;
      });
      const check = await steady(client, `timeout-${kind}`);
      let slow = 1;
      answers = '';
      proxy.options = { delayToServer: () => (slow-- > 0 ? 400 : 0), tap };
      client.reconnect(transportFor(urlThrough(kind)));
      await once(client, 'ready', 3000);
      await waitFor(() => answers.includes('"stale"'), 2000, 'the slow hello to be refused as stale');
      proxy.options = {};
      await check();
      assert.equal(lost, false, 'no sessionLost');
      assert.equal(client.state, 'ready');
      client.close();
    });
  }
});
