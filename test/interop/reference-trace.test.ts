/**
 * A reference client's session with a tjstp server, message by message, as
 * a proxy between them saw it: the handshake, calls and their sequenced
 * replies, events, acknowledgements, a connection killed while a call runs,
 * a call made offline, and the restore in the reference's form. The trace
 * is printed as the test's diagnostics.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, type Message } from '../../lib/protocol/message';
import { delay, once, startServer, waitFor } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { connectReference, referenceCall } from '../helpers/reference';

interface Seen {
  toServer: boolean;
  connection: number;
  text: string;
  message: Message;
}

it('a reference client session with a restore, message by message', async (t) => {
  const fixture = await startServer({ heartbeatInterval: 0 });
  const proxy = new Proxy(fixture.port.tcp);
  await proxy.listen();
  const seen: Seen[] = [];
  const partial = { true: '', false: '' };
  proxy.options = {
    tap: (toServer, chunk) => {
      const key = String(toServer) as 'true' | 'false';
      const pieces = (partial[key] + chunk.toString()).split('\0');
      partial[key] = pieces.pop() ?? '';
      for (const text of pieces) seen.push({ toServer, connection: proxy.connections, text, message: decodeMessage(text) });
    },
  };
  const connection = await connectReference('tcp', 'testApp', proxy.port);
  try {
    assert.deepEqual(await referenceCall(connection, 'calc', 'add', [2, 3]), [5]);
    const ticks: unknown[] = [];
    connection.on('event', (_iface: string, _name: string, args: unknown[]) => ticks.push(args[1]));
    await referenceCall(connection, 'events', 'start', ['T', 2, 0]);
    await waitFor(() => ticks.length === 2, 1000, 'the events');
    await delay(40); // the server acknowledges what it received
    const slow = referenceCall(connection, 'ledger', 'record', ['trace', 60]);
    await delay(15);
    proxy.killAll();
    const offline = referenceCall(connection, 'calc', 'add', [1, 1]);
    const ready = once(fixture.server, 'resume', 3000);
    assert.deepEqual(await slow, ['trace']);
    assert.deepEqual(await offline, [2]);
    await ready;
    await delay(40);
  } finally {
    connection.close();
    await proxy.close();
    await fixture.close();
  }

  for (const { toServer, connection: n, text } of seen) t.diagnostic(`#${n} ${toServer ? 'C->S' : 'S->C'} ${text}`);
  const first = seen.filter((s) => s.connection === 1);
  const second = seen.filter((s) => s.connection === 2);
  const kinds = (list: Seen[], toServer: boolean): string[] =>
    list.filter((s) => s.toServer === toServer).map((s) => s.message.kind);

  // First connection: the reference's record syntax in, strict JSON out.
  assert.equal(first[0]?.text, "{handshake:[0,'testApp']}");
  const welcome = first.find((s) => !s.toServer)?.message;
  assert.ok(welcome?.kind === 'welcome' && typeof welcome.ok === 'string' && welcome.tjstp !== undefined);
  assert.deepEqual(kinds(first, true), ['hello', 'call', 'call', 'call']);
  assert.deepEqual(kinds(first, false).filter((k) => k !== 'ack'), ['welcome', 'callback', 'event', 'event', 'callback']);
  assert.ok(kinds(first, false).includes('ack'), 'the server acknowledged as it went');
  // Server ids only fall: replies and events share one sequence.
  const serverIds = first.filter((s) => !s.toServer).flatMap((s) =>
    s.message.kind === 'callback' ? [s.message.seq] : s.message.kind === 'event' ? [s.message.id] : []);
  assert.deepEqual(serverIds, [-1, -2, -3, -4]);

  // Second connection: the reference restores in its own form…
  const hello = second[0]?.message;
  assert.ok(hello?.kind === 'hello' && hello.strategy === 'session');
  assert.equal((hello.credentials as unknown[]).length, 2, 'session:[id, received]');
  assert.equal((hello.credentials as unknown[])[1], 3, 'it counted the two events and ignored our replies');
  // It does not count our replies, so it cannot say whether reply -4 (to
  // call 2) arrived: it is told it received 1 and gets -4 again, with its
  // original id (a reference client ignores a reply it already has).
  const reply = second.find((s) => !s.toServer)?.message;
  assert.ok(reply?.kind === 'welcome');
  assert.equal(reply.ok, 1);
  assert.equal(reply.tjstp, undefined, 'the reference form gets the reference reply');
  const resent = second.filter((s) => s.toServer && s.message.kind === 'call').map((s) => (s.message as { id: number }).id);
  assert.deepEqual(resent, [3, 4], 'call 3 resent (dropped here as a duplicate), call 4 made offline');
  const replies = second.filter((s) => !s.toServer && s.message.kind === 'callback').map((s) => s.message as { id: number; seq: number });
  // Call 3 (60 ms) and call 4 (made offline) finish in either order on a busy machine: -5 and -6 between them.
  assert.deepEqual(replies.map((r) => r.id).sort(), [2, 3, 4], 'one reply per call');
  assert.deepEqual(replies.find((r) => r.id === 2)?.seq, -4, '-4 is a retransmission');
  assert.deepEqual(replies.filter((r) => r.id !== 2).map((r) => r.seq).sort((a, b) => a - b), [-6, -5]);
  assert.equal(fixture.app.executions.get('trace'), 1, 'the call running at the drop ran once');
  assert.ok(replies.filter((r) => r.id !== 2).every((r) => r.seq < -4), 'new server ids continue the sequence');
});
