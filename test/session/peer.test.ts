/**
 * The session engine under every interleaving fast-check can find: calls,
 * events both ways, replies that finish late, deliveries, and connection
 * drops that lose whatever is in flight, followed by restores (some with
 * the client's early replay behind its hello). At the end
 * every call ran once and was answered once, and every event arrived once
 * and in order — the engine's whole promise, without sockets or timers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Peer, type PeerHandlers } from '../../lib/session/peer';
import { decodeMessage } from '../../lib/protocol/message';
import { reconcile } from '../../lib/server/handshake';
import type { Transport, TransportHandler } from '../../lib/transport/transport';

/** One direction of an in-memory connection; delivery is driven by the test. */
class Link implements Transport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress = 'memory';
  open = true;
  readonly queue: string[] = [];
  send(message: string): void {
    if (this.open) this.queue.push(message);
  }
  close(): void {
    this.open = false;
  }
  destroy(): void {
    this.open = false;
    this.queue.length = 0;
  }
  bind(_handler: TransportHandler): void {}
  unbind(): void {}
}

type Op =
  | { op: 'call'; slow: boolean }
  | { op: 'serverEvent' }
  | { op: 'clientEvent' }
  | { op: 'deliver'; toServer: boolean; count: number }
  | { op: 'finish' }
  | { op: 'drop' }
  | { op: 'restore'; early: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('call' as const), slow: fc.boolean() }),
  fc.record({ op: fc.constant('serverEvent' as const) }),
  fc.record({ op: fc.constant('clientEvent' as const) }),
  fc.record({ op: fc.constant('deliver' as const), toServer: fc.boolean(), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant('finish' as const) }),
  fc.record({ op: fc.constant('drop' as const) }),
  fc.record({ op: fc.constant('restore' as const), early: fc.integer({ min: 0, max: 4 }) }),
);

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const handlers = (overrides: Partial<PeerHandlers>): PeerHandlers => ({
  call: () => [],
  inspect: () => undefined,
  event: () => {},
  overflow: () => assert.fail('overflow'),
  error: (error) => assert.fail(String(error)),
  ...overrides,
});

const run = async (ops: Op[], ackEvery: number): Promise<void> => {
  const executions = new Map<number, number>();
  const slowReplies: (() => void)[] = [];
  const serverEvents: number[] = [];
  const clientEvents: number[] = [];
  const options = { limits: { maxBufferedBytes: 1e9, ackDelay: 1, ackEvery, callTimeout: 0 } };
  const server = new Peer({
    role: 'server',
    ...options,
    handlers: handlers({
      call: (_iface, _method, args) => {
        const [token, slow] = args as [number, boolean];
        executions.set(token, (executions.get(token) ?? 0) + 1);
        if (!slow) return [token];
        return new Promise<unknown[]>((resolve) => slowReplies.push(() => resolve([token])));
      },
      event: (_iface, _name, args) => clientEvents.push(args[0] as number),
    }),
  });
  const client = new Peer({
    role: 'client',
    ...options,
    handlers: handlers({ event: (_iface, _name, args) => serverEvents.push(args[0] as number) }),
  });
  let toServer: Link | null = null;
  let toClient: Link | null = null;
  /** `early`: how many messages the client sends behind its hello, before the reply. */
  const restore = (early = 0): void => {
    if (toServer) return;
    // The handshake: each side reports (sent, received); both must reconcile.
    const hello = { id: 'x', sent: client.state.lastSeq, received: client.state.received, nonce: undefined, proof: undefined };
    toServer = new Link();
    toClient = new Link();
    const earlyThrough = client.replayEarly(toServer, early, early === 0 ? 0 : 1e9);
    const serverVerdict = reconcile(server.state, hello);
    assert.equal(serverVerdict.refused, undefined, 'server refused a restore');
    const back = { id: 'x', sent: server.state.lastSeq, received: server.state.received, nonce: undefined, proof: undefined };
    const clientVerdict = reconcile(client.state, back);
    assert.equal(clientVerdict.refused, undefined, 'client refused a restore');
    server.attach(toClient, serverVerdict.received as number);
    client.attach(toServer, clientVerdict.received as number, earlyThrough);
  };
  const drop = (): void => {
    toServer?.destroy();
    toClient?.destroy();
    toServer = toClient = null;
    server.detach();
    client.detach();
  };
  const deliver = (link: Link | null, to: Peer, count: number): number => {
    let delivered = 0;
    while (link && link.open && link.queue.length > 0 && delivered < count) {
      to.receive(decodeMessage(link.queue.shift() as string));
      delivered++;
    }
    return delivered;
  };

  let nextToken = 0;
  let nextServerEvent = 0;
  let nextClientEvent = 0;
  const answers = new Map<number, number>();
  const calls: Promise<void>[] = [];
  restore();
  for (const op of ops) {
    switch (op.op) {
      case 'call': {
        const token = nextToken++;
        calls.push(client.call('ledger', 'record', [token, op.slow]).then((results) => {
          assert.equal(results[0], token);
          answers.set(token, (answers.get(token) ?? 0) + 1);
        }));
        break;
      }
      case 'serverEvent':
        server.emitEvent('events', 'tick', [nextServerEvent++]);
        break;
      case 'clientEvent':
        client.emitEvent('events', 'note', [nextClientEvent++]);
        break;
      case 'deliver':
        if (op.toServer) deliver(toServer, server, op.count);
        else deliver(toClient, client, op.count);
        break;
      case 'finish':
        slowReplies.shift()?.();
        await tick();
        break;
      case 'drop':
        drop();
        break;
      case 'restore':
        restore(op.early);
        break;
    }
  }
  // Settle: finish every slow call, reconnect, deliver until quiet.
  while (slowReplies.length > 0) slowReplies.shift()?.();
  await tick();
  restore();
  for (let round = 0; round < 1000; round++) {
    const moved = deliver(toServer, server, Infinity) + deliver(toClient, client, Infinity) + slowReplies.length;
    while (slowReplies.length > 0) slowReplies.shift()?.();
    await tick();
    server.flushAck();
    client.flushAck();
    await tick();
    if (moved === 0 && toServer!.queue.length === 0 && toClient!.queue.length === 0) break;
  }
  await tick();
  assert.equal(answers.size, nextToken, `answered ${answers.size} of ${nextToken} calls; ` +
    `pending ${client.pendingCount}, outboxes ${client.state.outbox.size}/${server.state.outbox.size}, ` +
    `slow left ${slowReplies.length}`);
  await Promise.all(calls);

  for (let token = 0; token < nextToken; token++) {
    assert.equal(executions.get(token), 1, `call ${token} executions`);
    assert.equal(answers.get(token), 1, `call ${token} answers`);
  }
  assert.deepEqual(serverEvents, [...Array(nextServerEvent).keys()]);
  assert.deepEqual(clientEvents, [...Array(nextClientEvent).keys()]);
  assert.equal(client.pendingCount, 0);
  assert.equal(server.state.outbox.size, 0, 'server outbox drained by acks');
  assert.equal(client.state.outbox.size, 0, 'client outbox drained by acks');
};

describe('Peer (session engine)', () => {
  it('runs every call once, answers it once, delivers every event once in order, whatever drops', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), run),
      { numRuns: 300 },
    );
  });

  it('asks a quiet peer for an acknowledgement before its outbox fills', () => {
    // Each event costs its 40 characters and the outbox's overhead per message, about 90 bytes.
    const peer = new Peer({ role: 'server', handlers: handlers({}), limits: { maxBufferedBytes: 2000, ackDelay: 1, ackEvery: 1 } });
    const link = new Link();
    peer.attach(link, 0);
    for (let i = 0; i < 12; i++) peer.emitEvent('e', 'x', ['.'.repeat(20)]);
    const pings = link.queue.filter((text) => text.startsWith('{"ping"'));
    assert.equal(pings.length, 1, 'one ping once past half the limit, not one per message');
    const ping = decodeMessage(pings[0] as string);
    assert.equal(ping.kind, 'ping');
    // A reference peer answers with a pong echoing the id: that acknowledges everything.
    peer.receive({ kind: 'pong', id: (ping as { id: number }).id });
    assert.ok(peer.state.outbox.size < 12, 'the pong acknowledged what came before the ping');
  });

  it('numbers its messages without ever reusing an id', async () => {
    const peer = new Peer({
      role: 'server',
      handlers: handlers({}),
      limits: { maxBufferedBytes: 1e9, ackDelay: 1, ackEvery: 1 },
    });
    const seen = new Set<number>();
    for (let round = 0; round < 5; round++) {
      const link = new Link();
      peer.attach(link, peer.state.acked);
      peer.emitEvent('e', 'x', [round]);
      peer.emitEvent('e', 'x', [round]);
      for (const text of link.queue) {
        const message = decodeMessage(text);
        assert.equal(message.kind, 'event');
        if (message.kind !== 'event') continue;
        assert.ok(message.id < 0, 'server ids are negative');
        if (seen.has(message.id)) continue; // a retransmission keeps its id
        assert.ok(seen.size === 0 || message.id < Math.min(...seen), 'new ids keep falling');
        seen.add(message.id);
      }
      peer.detach();
    }
    assert.equal(seen.size, 10);
  });
});
