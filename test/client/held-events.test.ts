/**
 * Events that arrive before the application can listen: a reclaimed
 * session's replay comes with the handshake reply, and a new session's
 * first events can come in the same tick as its welcome. Both are handled
 * before `connect()` hands the client back. The client holds them until an
 * `event` listener is attached (or delivers them to `onEvent`), up to
 * `maxHeldEvents`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ErrorCode,
  EventsDroppedError,
  connect,
  type Client,
  type ConnectOptions,
  type RemoteEvent,
  type ServerSession,
  type SessionTicket,
} from '../../lib/index';
import { delay, kinds, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

const ticks = (events: RemoteEvent[], stream: string): number[] =>
  events.filter((e) => e.name === 'tick' && e.args[0] === stream).map((e) => e.args[1] as number);

const range = (n: number): number[] => [...Array(n).keys()];

for (const kind of kinds) {
  describe(`events before the first listener, over ${kind}`, () => {
    let fixture: Fixture;
    let proxy: Proxy;
    const clients: Client[] = [];
    const open = async (options: Partial<ConnectOptions> = {}): Promise<Client> => {
      const client = await connect(`${kind}://127.0.0.1:${proxy.port}`, { app: 'testApp', reconnect: false, ...options });
      clients.push(client);
      return client;
    };

    /** A session whose first client object is gone, and the ticket it left. */
    const detached = async (): Promise<{ session: ServerSession; ticket: SessionTicket }> => {
      const first = await open();
      let ticket = first.session;
      first.on('disconnect', () => {
        ticket = first.session;
      });
      const sessions: ServerSession[] = [];
      fixture.server.once('detach', (session: ServerSession) => sessions.push(session));
      proxy.killAll();
      await waitFor(() => first.state === 'closed' && sessions.length === 1, 2000, 'the first object to stop');
      assert.ok(ticket);
      return { session: sessions[0] as ServerSession, ticket };
    };

    /** A new session whose server emits `count` ticks in the same tick as the welcome. */
    const greeted = async (stream: string, count: number, options: Partial<ConnectOptions> = {}): Promise<Client> => {
      const greet = (session: ServerSession): void => {
        for (let n = 0; n < count; n++) session.emit('events', 'tick', [stream, n]);
      };
      fixture.server.on('session', greet);
      try {
        return await open(options);
      } finally {
        fixture.server.off('session', greet);
      }
    };

    before(async () => {
      fixture = await startServer({ heartbeatInterval: 0 });
      proxy = new Proxy(fixture.port[kind]);
      await proxy.listen();
    });

    after(async () => {
      for (const client of clients) client.close();
      await proxy.close();
      await fixture.close();
    });

    it('a reclaimed session replays its buffered events to a listener attached after connect resolves', async () => {
      const { session, ticket } = await detached();
      for (let n = 0; n < 200; n++) session.emit('events', 'tick', ['R', n]);
      const second = await open({ session: JSON.parse(JSON.stringify(ticket)) as SessionTicket });
      const events: RemoteEvent[] = [];
      second.on('event', (event) => events.push(event));
      await waitFor(() => events.length >= 200, 2000, 'the replay');
      await delay(30);
      assert.deepEqual(ticks(events, 'R'), range(200));
      assert.equal(second.session?.received, ticket.received + 200, 'acknowledged as before: every event accepted once');
    });

    it('onEvent hears the replay before connect resolves', async () => {
      const { session, ticket } = await detached();
      for (let n = 0; n < 20; n++) session.emit('events', 'tick', ['O', n]);
      const events: RemoteEvent[] = [];
      const second = await open({ session: ticket, onEvent: (event) => events.push(event) });
      await waitFor(() => events.length >= 20, 2000, 'the replay');
      assert.deepEqual(ticks(events, 'O'), range(20));
      const later: RemoteEvent[] = [];
      second.on('event', (event) => later.push(event));
      await second.call('events', 'start', 'P', 2, 0);
      await waitFor(() => ticks(events, 'P').length === 2, 2000, 'live events');
      assert.deepEqual(ticks(later, 'P'), [0, 1], 'a later listener hears live events too');
      assert.deepEqual(ticks(later, 'O'), [], 'and nothing that onEvent already had');
    });

    it('a new session keeps the events sent in the same tick as its welcome', async () => {
      const client = await greeted('W', 3);
      const events: RemoteEvent[] = [];
      const other: RemoteEvent[] = [];
      client.on('event', (event) => events.push(event));
      client.on('event', (event) => other.push(event));
      await waitFor(() => events.length >= 3, 2000, 'the greeting');
      assert.deepEqual(ticks(events, 'W'), [0, 1, 2]);
      assert.deepEqual(ticks(other, 'W'), [0, 1, 2], 'every listener attached in the same run gets them');
    });

    it('holds at most maxHeldEvents; past it drops the rest and says so once', async () => {
      const client = await greeted('M', 8, { maxHeldEvents: 5 });
      const first: RemoteEvent[] = [];
      const events: RemoteEvent[] = [];
      const errors: unknown[] = [];
      client.once('event', (event) => first.push(event));
      await delay(20);
      assert.deepEqual(ticks(first, 'M'), [0], 'a once listener takes one');
      client.on('event', (event) => events.push(event));
      await delay(20);
      assert.deepEqual(ticks(events, 'M'), [1, 2, 3, 4], 'the next listener the rest of the first five, in order');
      assert.equal(errors.length, 0, 'no error while nobody listens to it');
      // Nobody listened to `error` when the drop happened: it waited for a listener.
      client.on('error', (error) => errors.push(error));
      await delay(20);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof EventsDroppedError);
      assert.equal((errors[0] as EventsDroppedError).code, ErrorCode.BUFFER_FULL);
      assert.equal((errors[0] as EventsDroppedError).limit, 5);
      await client.call('events', 'start', 'N', 3, 0);
      await waitFor(() => ticks(events, 'N').length === 3, 2000, 'live events after the drop');
      assert.equal(errors.length, 1, 'reported once');
    });
  });
}
