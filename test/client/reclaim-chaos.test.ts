/**
 * Chaos for reclaims: a server streams numbered events to one session while
 * its client object is replaced again and again. Each object runs with
 * `reconnect: false`, so a cut connection stops it without ending the
 * session; the test takes its ticket (as the README says: on `disconnect`)
 * and opens a new object from it, then attaches its listener after
 * `connect()` resolves. Connections are cut on a timer and after a random
 * number of bytes (mid-message, mid-handshake, mid-replay). The union of
 * what the objects received must be the whole stream, in order, once.
 *
 * The seed is printed; rerun one with CHAOS_SEED=<seed>.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SessionLostError, connect, type Client, type SessionTicket } from '../../lib/index';
import { kinds, startServer, waitFor } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { seeded } from '../helpers/prng';

const EVENTS = 1500;

describe('reclaim chaos', () => {
  for (const kind of kinds) {
    it(`over ${kind}: client objects replaced mid-stream, every event received once and in order`, async (t) => {
      const random = seeded(t);
      const fixture = await startServer({ heartbeatInterval: 0 });
      const proxy = new Proxy(fixture.port[kind]);
      await proxy.listen();
      const url = `${kind}://127.0.0.1:${proxy.port}`;
      const received: number[] = [];
      let ticket: SessionTicket | null = null;
      let objects = 0;
      let failedConnects = 0;
      let client: Client | undefined;

      /** A new client object for the session, as the README says to make one. */
      const open = async (): Promise<Client> => {
        for (;;) {
          const session = ticket ?? undefined;
          try {
            const next = await connect(url, { app: 'testApp', reconnect: false, heartbeatInterval: 0, session });
            objects++;
            next.on('event', (event) => {
              if (event.name === 'tick' && event.args[0] === 'C') received.push(event.args[1] as number);
            });
            next.on('disconnect', () => {
              ticket = next.session;
            });
            ticket = next.session;
            return next;
          } catch (error) {
            // A cut handshake leaves the ticket as it was; a lost session is a failure.
            if (error instanceof SessionLostError) throw error;
            failedConnects++;
          }
        }
      };

      try {
        client = await open();
        await client.call('events', 'start', 'C', EVENTS, 1);
        // WS spends ~300 bytes on its upgrade before the first message.
        const floor = kind === 'ws' ? 450 : 150;
        proxy.options = { killAfterBytes: () => floor + Math.floor(random() * 4000) };
        const deadline = Date.now() + 15_000;
        while (received.length < EVENTS && Date.now() < deadline) {
          const killAt = Date.now() + 5 + random() * 60;
          const current: Client = client;
          await waitFor(() => current.state === 'closed' || Date.now() >= killAt || received.length >= EVENTS, 5000, 'a cut');
          if (received.length >= EVENTS) break;
          proxy.killAll();
          await waitFor(() => current.state === 'closed', 2000, 'the object to stop');
          client = await open();
        }
        proxy.options = {};
        await waitFor(() => received.length >= EVENTS, 5000, 'the rest of the stream');
      } finally {
        proxy.options = {};
        client?.close();
        await proxy.close();
        await fixture.close();
      }
      t.diagnostic(`${kind}: ${objects} client objects, ${failedConnects} cut handshakes, ${proxy.kills} kills`);
      const missing = EVENTS - new Set(received).size;
      assert.equal(missing, 0, `no event lost (${missing} missing)`);
      assert.deepEqual(received, [...Array(EVENTS).keys()], 'in order, none twice');
      assert.ok(objects >= 10, `the object was replaced many times (${objects})`);
    });
  }
});
