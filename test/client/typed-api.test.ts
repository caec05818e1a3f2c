/**
 * `client.api` and `client.onEvent` against a real server: the bundled
 * chat and counter as `tjstp serve` loads them, and an in-code application
 * typed by `typeof app`. A proxied call sends what `call` sends, so it must
 * answer the same, errors included; `onEvent` is an `event` listener, so
 * it also gets what was held before anyone listened.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  RemoteError,
  Server,
  connect,
  defineApplication,
  silentLogger,
  type ApiOf,
  type Client,
  type MethodContext,
  type RemoteEvent,
} from '../../lib/index';
import { loadApplications } from '../../lib/server/loader/index';
import { delay, waitFor } from '../helpers/fixtures';

const applications = path.join(__dirname, '..', '..', '..', 'applications');

interface Message {
  id: number;
  room: string;
  from: string;
  text: string;
  at: string;
}

/** What `tjstp types` writes for the chat, by hand: this file is compiled before it could run. */
interface ChatApi {
  methods: {
    rooms: { join(room: string): Message[]; say(room: string, text: string): number; leave(room: string): unknown };
    profile: { rename(name: string): unknown };
  };
  events: { rooms: { message: [message: Message]; joined: [presence: { room: string; who: string }] } };
}

const tally = defineApplication({
  name: 'tally',
  api: {
    tally: {
      add: (context: MethodContext, amount: number, label = 'total') => {
        const value = ((context.state[label] as number | undefined) ?? 0) + amount;
        context.state[label] = value;
        context.emit('tally', 'changed', label, value);
        return { label, value };
      },
      slow: { parameters: [{ type: 'integer' }], handler: async (_context: MethodContext, ms: number) => delay(ms).then(() => ms) },
    },
  },
});
type TallyApi = ApiOf<typeof tally, { tally: { changed: [label: string, value: number] } }>;

describe('client.api and client.onEvent', () => {
  it('proxied calls answer as call does, results and errors alike; onEvent gets one event\'s arguments, held ones too', async () => {
    const loaded = await loadApplications(applications, { onError: () => {} });
    const server = new Server({ applications: [...loaded.applications, tally], logger: silentLogger });
    const listeners = await server.listen({ tcp: 0, ws: 0 });
    const [tcp, ws] = listeners.map((listener) => listener.url) as [string, string];
    const clients: Client<ChatApi>[] = [];
    try {
      const ann = await connect<ChatApi>(tcp, { app: 'chat' });
      const bob = await connect<ChatApi>(ws, { app: 'chat' });
      clients.push(ann, bob);
      assert.equal(ann.api.rooms, ann.api.rooms, 'one object per interface');
      assert.equal(ann.api.rooms.say, ann.api.rooms.say, 'one function per method');
      assert.equal((ann.api as unknown as { then?: unknown }).then, undefined, 'the proxy is not a thenable');
      assert.equal(await Promise.resolve(ann.api), ann.api, 'awaiting it calls nothing');
      assert.equal(typeof (ann.api as unknown as Record<symbol, unknown>)[Symbol.iterator], 'undefined');
      assert.throws(() => {
        (ann.api as unknown as Record<string, unknown>).rooms = {};
      }, TypeError);

      await ann.api.profile.rename('ann');
      assert.deepEqual(await ann.api.rooms.join('lobby'), await ann.call('rooms', 'join', 'lobby'));
      await bob.api.rooms.join('lobby');

      // bob listens to nothing yet: the server's events wait in his client.
      const first = await ann.api.rooms.say('lobby', 'one');
      const second = await ann.call('rooms', 'say', 'lobby', 'two');
      assert.equal(typeof first, 'number');
      assert.equal(second, first + 1, 'the proxy and call reach the same method');
      await delay(50);
      const heard: Message[] = [];
      const joined: string[] = [];
      const stop = bob.onEvent('rooms.message', (message) => heard.push(message));
      bob.onEvent('rooms.joined', ({ who }) => joined.push(who));
      await waitFor(() => heard.length === 2, 5000, 'the held messages');
      assert.deepEqual(heard.map(({ id, text, from }) => [id, text, from]), [[first, 'one', 'ann'], [second, 'two', 'ann']]);

      const third = await ann.api.rooms.say('lobby', 'three');
      await waitFor(() => heard.length === 3, 5000, 'the third message');
      assert.equal(heard[2]?.id, third);
      stop();
      await ann.api.rooms.say('lobby', 'unheard');
      const carol = await connect<ChatApi>(tcp, { app: 'chat' });
      clients.push(carol);
      await carol.api.profile.rename('carol');
      await carol.api.rooms.join('lobby');
      await waitFor(() => joined.includes('carol'), 5000, 'carol joining');
      assert.equal(heard.length, 3, 'a stopped listener hears nothing more');
      assert.ok(heard.every((message) => typeof message.text === 'string'), 'each listener gets only its event');
      assert.deepEqual(joined.slice(-1), ['carol']);

      // Errors are the server's, whichever way the call went.
      const refusal = (error: unknown, code: number): boolean => error instanceof RemoteError && error.code === code;
      await assert.rejects(ann.api.rooms.say('elsewhere', 'x'), (error) => refusal(error, 1001));
      await assert.rejects(ann.call('rooms', 'say', 'elsewhere', 'x'), (error) => refusal(error, 1001));
      const untyped: Client = ann;
      await assert.rejects(untyped.api.rooms.shout('x'), (error) => refusal(error, 14));
      await assert.rejects(untyped.call('rooms', 'shout', 'x'), (error) => refusal(error, 14));
      await assert.rejects(untyped.api.hall.say('x'), (error) => refusal(error, 12));
      await assert.rejects(untyped.api.rooms.say('lobby'), (error) => refusal(error, 17));

      const counter = await connect(ws, { app: 'counter' });
      try {
        assert.equal(await counter.api.counter.increment(), 1);
        assert.equal(await counter.call('counter', 'increment', 5), 6);
        assert.equal(await counter.api.counter.get(), 6);
      } finally {
        counter.close();
      }

      const client = await connect<TallyApi>(tcp, { app: 'tally' });
      try {
        const changes: [string, number][] = [];
        const events: RemoteEvent[] = [];
        client.on('event', (event) => events.push(event));
        client.onEvent('tally.changed', (label, value) => changes.push([label, value]));
        assert.deepEqual(await client.api.tally.add(2), { label: 'total', value: 2 });
        assert.deepEqual(await client.call('tally', 'add', 3, 'total'), { label: 'total', value: 5 });
        assert.deepEqual(await client.api.tally.add(1, 'other'), { label: 'other', value: 1 });
        await waitFor(() => changes.length === 3, 5000, 'three changes');
        assert.deepEqual(changes, [['total', 2], ['total', 5], ['other', 1]]);
        assert.equal(events.length, 3, 'the plain listener hears the same events');
        // Calls through the proxy run side by side, each answered with its own result.
        assert.deepEqual(await Promise.all([client.api.tally.slow(30), client.api.tally.slow(10)]), [30, 10]);
      } finally {
        client.close();
      }
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  });
});
