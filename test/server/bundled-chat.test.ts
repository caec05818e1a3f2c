/**
 * The bundled chat as `tjstp serve` loads it, from applications/: one
 * anonymous session filling thousands of rooms leaves the history within
 * the defaults of its application.json, and a join past roomsPerSession is
 * refused. (It makes thousands of calls: it sits here, not beside the
 * history module's tests, so that it does not run alongside the bench
 * smoke test, whose short windows a busy CPU empties.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { RemoteError, Server, connect, silentLogger, type Client } from '../../lib/index';
import { loadApplications } from '../../lib/server/loader/index';

const applications = path.join(__dirname, '..', '..', '..', 'applications');

/** Runs `work` for each item, `width` at a time. */
const inParallel = async <T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> => {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
};

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('bundled chat, served', () => {
  it('one anonymous session filling thousands of rooms leaves the history bounded; a join past roomsPerSession is refused', async () => {
    const loaded = await loadApplications(applications, { onError: () => {} });
    const server = new Server({ applications: loaded.applications, logger: silentLogger });
    const [tcp] = await server.listen({ tcp: 0 });
    let client: Client | undefined;
    try {
      const chat = loaded.applications.find((app) => app.name === 'chat');
      assert.deepEqual(chat?.config, { historySize: 50, historyRooms: 1000, historyChars: 1_000_000, roomsPerSession: 100 }, 'the defaults are in application.json');
      client = await connect(tcp?.url as string, { app: 'chat' });
      const session = client;
      const join = (room: string): Promise<{ text: string; from: string; room: string }[]> =>
        session.call('rooms', 'join', room) as Promise<{ text: string; from: string; room: string }[]>;
      const fill = (rooms: readonly string[], text: string, count = 1): Promise<void> =>
        inParallel(rooms, 20, async (room) => {
          await join(room);
          for (let i = 0; i < count; i++) await session.call('rooms', 'say', room, text);
          await session.call('rooms', 'leave', room);
        });
      /** What each room's join returns now (joined and left again). */
      const histories = async (rooms: readonly string[]): Promise<Map<string, number>> => {
        const found = new Map<string, number>();
        await inParallel(rooms, 20, async (room) => {
          const messages = await join(room);
          await session.call('rooms', 'leave', room);
          found.set(room, messages.reduce((n, m) => n + m.text.length + m.from.length + m.room.length, 0));
        });
        return found;
      };

      // Rooms per session.
      const mine = names('mine', 100);
      for (const room of mine) await join(room);
      await assert.rejects(join('one-too-many'), (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.equal(error.code, 1002);
        assert.equal(error.message, 'Too many rooms: at most 100 at once; leave one first');
        return true;
      });
      await join('mine-7');
      assert.equal(((await session.call('rooms', 'mine')) as string[]).length, 100, 'rejoining a room is not one more');
      for (const room of mine) await session.call('rooms', 'leave', room);

      // Messages per room.
      await fill(['busy'], 'hello', 60);
      assert.equal((await join('busy')).length, 50);
      await session.call('rooms', 'leave', 'busy');

      // Rooms with a history: of 1,300 rooms, the 1,000 most recently active keep theirs.
      const short = names('short', 1300);
      await fill(short, 'hi');
      const shortKept = [...(await histories(short))].filter(([, chars]) => chars > 0).map(([room]) => room);
      assert.deepEqual(shortKept, short.slice(300));

      // Characters across rooms: 600 rooms of 2,000-character messages (1.2 million).
      const long = names('long', 600);
      await fill(long, 'z'.repeat(2000));
      const found = await histories([...long, 'busy']);
      const total = [...found.values()].reduce((a, b) => a + b, 0);
      assert.ok(total <= 1_000_000 && total > 1_000_000 - 2100, `${total} characters held`);
      const longKept = long.filter((room) => (found.get(room) ?? 0) > 0);
      assert.deepEqual(longKept, long.slice(600 - longKept.length), 'the least recently active rooms went first');
      assert.equal(found.get('busy'), 0, 'older rooms forgotten');
      const sample = short.filter((_, i) => i % 50 === 49);
      assert.deepEqual([...(await histories(sample)).values()], sample.map(() => 0), 'the short rooms went before the long ones');
    } finally {
      client?.close();
      await server.close();
      await loaded.stop();
    }
  });
});
