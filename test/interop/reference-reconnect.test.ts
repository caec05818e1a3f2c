/**
 * `reconnect()` against the reference server, over TCP and WebSocket. The
 * reference restores a session on the old connection object, and when the
 * old socket's close reaches it after the restore, that close silences the
 * restored connection (its bug Q13): calls still run, their replies are
 * dropped, and the client hears nothing until its heartbeat gives up. Here
 * the old socket's close is slow to reach the server (a proxy delays FINs by
 * a few ms, as a real path can), and every call made right after
 * `reconnect()` must be answered, once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Client } from '../../lib/index';
import { fastReconnect, kinds } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { seeded } from '../helpers/prng';
import { closeReference, jstp, listenReference, type Callback, type ReferenceConnection, type ReferenceServer } from '../helpers/reference';

const ROUNDS = 20;
/** Longer than any answer takes here; a call not answered by then is stalled. */
const STALL = 3000;

const api = {
  calc: {
    counter: (connection: ReferenceConnection, callback: Callback) => {
      const value = ((connection.session.get('n') as number | undefined) ?? 0) + 1;
      connection.session.set('n', value);
      callback(null, value);
    },
  },
};

for (const kind of kinds) {
  describe(`reconnect() with the reference server over ${kind}`, () => {
    let server: ReferenceServer;
    let proxy: Proxy;
    let client: Client | undefined;

    before(async () => {
      server = await listenReference(kind, { applications: [new jstp.Application('testApp', api)] });
      proxy = new Proxy(server.address().port);
      await proxy.listen();
    });

    after(async () => {
      client?.close();
      await proxy.close();
      await closeReference(server);
    });

    it('answers every call made right after reconnect() (once or twice in a row), once, when the old close reaches the server late', async (t) => {
      const random = seeded(t);
      proxy.options = { closeDelay: () => random() * 10 };
      client = await connect(`${kind}://127.0.0.1:${proxy.port}`, { app: 'testApp', reconnect: fastReconnect, heartbeatInterval: 0 });
      assert.equal(await client.call('calc', 'counter'), 1);
      const outcomes: unknown[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        client.reconnect();
        // Again while the old connection closes: still only once it is gone.
        if (round % 2 === 1) client.reconnect();
        const call = client.call('calc', 'counter');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stalled = new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve('stalled'), STALL);
        });
        const outcome = await Promise.race([call.catch((error: { code?: unknown }) => `failed ${String(error.code)}`), stalled]);
        clearTimeout(timer);
        outcomes.push(outcome);
        if (outcome === 'stalled') {
          // What an application can do about a deaf connection: drop it again.
          client.reconnect();
          outcomes.push(await call.catch((error: { code?: unknown }) => `then failed ${String(error.code)}`));
        }
      }
      const expected = Array.from({ length: ROUNDS }, (_, round) => round + 2);
      assert.deepEqual(outcomes, expected, 'each call answered with the next count: it ran once and its reply arrived');
      assert.equal(await client.call('calc', 'counter'), ROUNDS + 2);
    });
  });
}
