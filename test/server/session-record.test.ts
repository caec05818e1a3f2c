/**
 * A server session is plain data underneath: its record survives JSON, and
 * a session rebuilt from it resumes where the original left off. This is
 * what lets a shared store (Redis) hand a session to another process.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Application, ServerSession, defaultSessionLimits } from '../../lib/index';
import type { ServerSessionHooks } from '../../lib/server/session';
import type { ServerSessionRecord } from '../../lib/server/session-store';
import { decodeMessage } from '../../lib/protocol/message';
import { createTestApp } from '../helpers/app';
import type { Transport } from '../../lib/transport/transport';

const hooks: ServerSessionHooks = {
  invoke: () => [],
  event: () => {},
  overflow: () => assert.fail('overflow'),
  error: () => {},
  broadcast: () => {},
  join: () => {},
  leave: () => {},
  publish: () => 0,
};

it('round-trips through JSON and resumes from the rebuilt session', () => {
  const app = new Application(createTestApp().definition);
  const original = new ServerSession({ key: 'k'.repeat(43), app, user: 'ann', limits: defaultSessionLimits, hooks });
  original.state.counter = 7;
  original.emit('events', 'tick', ['a', 0]);
  original.emit('events', 'tick', ['a', 1]);
  original.peer.state.acknowledge(1);
  const record = JSON.parse(JSON.stringify(original.toRecord())) as ServerSessionRecord;
  assert.deepEqual(record.channels, []);
  assert.deepEqual(record.peer, { lastSeq: 2, received: 0, acked: 1, outbox: [[2, '{"event":[-2,"events"],"tick":["a",1]}']] });

  const rebuilt = new ServerSession({
    key: 'k'.repeat(43), app, user: record.user, limits: defaultSessionLimits, hooks,
    state: record.state, snapshot: record.peer, createdAt: record.createdAt,
  });
  assert.equal(rebuilt.state.counter, 7);
  const sent: string[] = [];
  const transport = { open: true, send: (text: string) => sent.push(text) } as unknown as Transport;
  assert.equal(rebuilt.peer.attach(transport, 1), 1, 'replays the unacknowledged event');
  rebuilt.emit('events', 'tick', ['a', 2]);
  const ids = sent.map((text) => decodeMessage(text)).map((m) => (m as { id: number }).id);
  assert.deepEqual(ids, [-2, -3], 'the id sequence continues, nothing reused');
  assert.equal(String(rebuilt.toJSON()).includes('k'.repeat(43)), false, 'the key stays out of logs');
});
