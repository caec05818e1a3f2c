/**
 * Property tests of the handshake. Over a real socket: whatever hello a
 * client sends — any header, strategy and credentials, including restores of
 * a live session with arbitrary counters — the server answers with a
 * well-formed handshake reply or error, closes after an error, and keeps
 * serving everyone else. And the rule that decides whether counters can be
 * reconciled never lets a restore skip or invent messages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { reconcile } from '../../lib/server/handshake';
import { SessionState } from '../../lib/session/state';
import { startServer, type Fixture } from '../helpers/fixtures';
import { Healthy, isHandshake, openRaw, openSession, rawCall, type Msg } from '../helpers/raw';

const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

describe('handshake fuzz', () => {
  let fixture: Fixture;
  let healthy: Healthy;
  let victim = '';

  before(async () => {
    fixture = await startServer({ handshakeTimeout: 300 });
    const at = fixture;
    healthy = await Healthy.open('tcp', at);
    const { client, id } = await openSession('tcp', at);
    await rawCall(client, 1, 'calc', 'add', [1, 2]);
    await rawCall(client, 2, 'calc', 'add', [3, 4]);
    client.destroy();
    victim = id;
  });

  after(async () => {
    healthy.client.destroy();
    await fixture.close();
  });

  const header = fc.oneof(
    fc.constant([0, 'testApp']),
    fc.tuple(fc.constant(0), fc.constant('testApp'), fc.oneof(fc.constantFrom('1.0.0', '^1.0.0', '2.x', '>=0'), fc.string({ maxLength: 6 }))),
    fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const count = fc.oneof(fc.nat({ max: 5 }), fc.integer({ min: -2, max: 1e6 }), fc.double(), fc.constant(null));
  const sessionCredentials = fc.oneof(
    fc.tuple(fc.constant('VICTIM'), count, count),
    fc.tuple(fc.constant('VICTIM'), count),
    fc.tuple(fc.string({ maxLength: 40 }), count, count),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const helloText = fc
    .tuple(header, fc.constantFrom<string | undefined>(undefined, 'login', 'session', 'anonymous', 'custom'), fc.jsonValue({ maxDepth: 2 }), sessionCredentials)
    .map(([head, strategy, credentials, session]) => {
      const message: Record<string, unknown> = { handshake: head };
      if (strategy === 'session') message.session = session;
      else if (strategy !== undefined) message[strategy] = credentials;
      return JSON.stringify(message).replace('"VICTIM"', JSON.stringify(victim));
    });

  it('answers any hello with a well-formed reply, closes after errors, keeps serving others', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(helloText, async (text) => {
        const client = await openRaw('tcp', fixture);
        try {
          client.send(text);
          const reply: Msg = await client.waitMessage(isHandshake, 2000, `a reply to ${text}`);
          assert.deepEqual(reply.handshake, [0]);
          if (reply.error !== undefined) {
            assert.ok(Array.isArray(reply.error), `error is an array: ${JSON.stringify(reply)}`);
            assert.ok([10, 11, 16, 20, 22].includes(reply.error[0]), `known code: ${JSON.stringify(reply)}`);
            await client.waitClose(2000);
          } else if (typeof reply.ok === 'string') {
            assert.ok(reply.ok.length >= 22, 'a new session id');
          } else if (Array.isArray(reply.ok)) {
            assert.equal(reply.ok.length, 2);
            assert.ok(reply.ok.every(isCount), `counters: ${JSON.stringify(reply)}`);
          } else {
            assert.ok(isCount(reply.ok), `legacy counter: ${JSON.stringify(reply)}`);
          }
        } finally {
          client.destroy();
        }
        if (++runs % 10 === 0) await healthy.check();
      }),
      { numRuns: 150 },
    );
    await healthy.check();
  });
});

describe('reconcile', () => {
  it('resumes exactly after what the peer has, or refuses: mismatch when it claims more, stale when it is behind', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.nat(50), fc.nat(50), fc.nat(60), fc.option(fc.nat(60), { nil: undefined }), (lastSeq, ackedRaw, received, peerReceived, peerSent) => {
        const acked = Math.min(ackedRaw, lastSeq);
        const state = new SessionState('server', { lastSeq, acked, received, outbox: [] });
        const verdict = reconcile(state, { id: 'x', sent: peerSent, received: peerReceived, nonce: undefined, proof: undefined });
        if (verdict.refused !== undefined) {
          const possible = peerReceived <= lastSeq && (peerSent === undefined || (peerReceived >= acked && peerSent >= received));
          assert.equal(possible, false, 'refused only when the counters cannot match');
          assert.equal(verdict.refused, peerReceived > lastSeq ? 'mismatch' : 'stale');
          return;
        }
        const result = verdict.received;
        // Everything after `result` is still in the outbox, nothing before it is needed.
        assert.ok(result >= acked && result <= lastSeq);
        if (peerSent !== undefined) assert.equal(result, peerReceived);
      }),
      { numRuns: 5000 },
    );
  });
});
