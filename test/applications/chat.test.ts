/**
 * The bundled chat's history module and limits: history is kept for people
 * who are not there, so it is bounded by messages per room, rooms with a
 * history (least recently active forgotten first) and characters across
 * rooms. The chat as served is tested in test/server/bundled-chat.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { historyStats, recent, record } from '../../applications/chat/lib/history';
import { chatLimits, defaultLimits } from '../../applications/chat/lib/limits';

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('bundled chat: history and limits', () => {
  it('history module: bounded by messages per room, rooms and characters, least recently active room forgotten first', () => {
    const limits = { historySize: 3, historyRooms: 10, historyChars: 1000 };
    const text = 'x'.repeat(20);
    for (const room of names('a', 5000)) for (let i = 0; i < 4; i++) record(room, 'ann', text, limits);
    let stats = historyStats();
    assert.ok(stats.rooms <= 10 && stats.messages <= 30 && stats.chars <= 1000, JSON.stringify(stats));
    assert.equal(recent('a-4999').length, 3, 'messages per room');
    assert.equal(recent('a-0').length, 0, 'the oldest room is forgotten');
    const kept = names('a', 5000).filter((room) => recent(room).length > 0);
    assert.deepEqual(kept, names('a', 5000).slice(5000 - kept.length), 'the most recently active rooms are kept');
    const sum = kept.reduce((total, room) => total + recent(room).reduce((n, m) => n + m.text.length + m.from.length + m.room.length, 0), 0);
    assert.equal(stats.chars, sum, 'the count matches what is held');
    // A message makes its room the most recent: it outlives rooms filled after it.
    const [oldest] = kept;
    record(oldest as string, 'bob', 'still here', limits);
    for (const room of names('b', kept.length - 1)) record(room, 'ann', text, limits);
    assert.equal(recent(oldest as string).at(-1)?.text, 'still here');
    assert.equal(recent(kept[1] as string).length, 0);
    // A message larger than all of the history is not kept; the count stays true.
    record('huge', 'ann', 'y'.repeat(2000), limits);
    assert.equal(recent('huge').length, 0);
    stats = historyStats();
    assert.ok(stats.chars >= 0 && stats.chars <= 1000, JSON.stringify(stats));
  });

  it('limits: defaults, values from config, and a clear error for a bad one', () => {
    assert.deepEqual(chatLimits({}), defaultLimits);
    assert.deepEqual(chatLimits({ historySize: 5, roomsPerSession: 2 }), { ...defaultLimits, historySize: 5, roomsPerSession: 2 });
    assert.throws(() => chatLimits({ historyRooms: 0 }), /chat config\.historyRooms must be a positive integer, got 0/);
    assert.throws(() => chatLimits({ historyChars: '1e6' }), /chat config\.historyChars must be a positive integer, got "1e6"/);
  });

});
