/**
 * Fuzzing the server after a valid handshake: random strings, random JSON
 * and mutated valid messages. Whatever arrives, the server must not crash,
 * must either answer the connection normally or close it with a clear
 * error, and must keep serving a separate healthy client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { anyText, editedFrom, punctuation, randomJson, reshaped } from '../helpers/arbitraries';

import { startServer, type Fixture } from '../helpers/fixtures';
import { Healthy, isCallback, isClose, openSession, type RawClient, type RawKind } from '../helpers/raw';

const valid: readonly string[] = [
  '{"call":[1,"calc"],"add":[1,2]}',
  "{call:[1,'calc'],echo:['x',[1,2,{a:null}]]}",
  '{"call":[1,"counter"],"increment":[]}',
  '{"inspect":[1,"calc"]}',
  '{"event":[1,"calc"],"tick":[1]}',
  '{"ping":[1]}',
  '{"ack":[-1]}',
  '{"callback":[-1,1],"ok":[1]}',
  '{"handshake":[0,"testApp"]}',
  '{}',
];

const input = fc.oneof(anyText, punctuation, randomJson, editedFrom(valid), reshaped);

const PROBE = Number.MAX_SAFE_INTEGER;

describe('server fuzzing after a valid handshake', () => {
  let f: Fixture;
  let healthy: Healthy;
  const lingering: RawClient[] = [];

  before(async () => {
    f = await startServer();
    healthy = await Healthy.open('tcp', f);
  });

  after(async () => {
    healthy.client.destroy();
    for (const client of lingering) client.destroy();
    await f.close();
  });

  const run = async (kind: RawKind, text: string): Promise<void> => {
    const { client } = await openSession(kind, f);
    lingering.push(client);
    try {
      client.send(text);
      // A last, valid call: answered if the connection survived the input.
      client.send(`{"call":[${PROBE},"calc"],"add":[1,1]}`);
      await client.waitMessage((m) => isCallback(PROBE)(m) || isClose(m), 2000).catch(() => undefined);
      if (!client.messages.some(isCallback(PROBE))) {
        await client.waitClose(2000);
        const close = client.messages.find(isClose);
        if (close) {
          assert.equal(close.error[0], 20, JSON.stringify(close));
          assert.equal(typeof close.error[1], 'string');
          assert.ok(close.error[1].length > 0);
        } else {
          // Only a client's own `close` message ends a session without a reason.
          assert.match(text, /close/, `closed silently; got ${JSON.stringify(client.texts)}`);
        }
      }
      await healthy.check();
    } finally {
      client.destroy();
      lingering.splice(lingering.indexOf(client), 1);
    }
  };

  for (const [kind, numRuns] of [['tcp', 200], ['ws', 100], ['ws-batch', 100]] as const) {
    it(`${kind}: never crashes and keeps serving others`, async () => {
      await fc.assert(
        fc.asyncProperty(input, async (text) => run(kind, text)),
        { numRuns, interruptAfterTimeLimit: 15_000 },
      );
      await healthy.check();
      assert.equal(f.server.listeners.length, 2);
    });
  }
});
