/**
 * Bad input on the wire, over raw TCP and raw WebSocket. The reference drops
 * the connection silently on most of these (and its server dies on a WS
 * `null` frame); tjstp must answer each with a clear error, close only that
 * connection, end its session, and go on serving every other client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { delay, kinds, startServer, type Fixture } from '../helpers/fixtures';
import {
  Healthy,
  hello,
  isCallback,
  isClose,
  isHandshake,
  openRaw,
  openSession,
  rawCall,
  type RawClient,
  type RawKind,
} from '../helpers/raw';

const MAX = 1024;

interface BadCase {
  name: string;
  /** Messages sent after a valid handshake, one per frame / NUL. */
  inputs: readonly string[];
  /** What the close message's text must say. */
  says: RegExp;
}

const cases: readonly BadCase[] = [
  { name: 'not an object', inputs: ['[1]', '42', '"x"', 'null', 'true', '[]'], says: /not an object/i },
  { name: 'empty message', inputs: [''], says: /malformed|empty|end of input/i },
  {
    name: 'syntax error',
    inputs: ['{"call":[1,"calc"],"add":[1,2}', "{call:[1,'calc'],add:[1,2]", 'garbage', '{"call":', '{a:1}{b:2}'],
    says: /malformed/i,
  },
  { name: 'header not an array', inputs: ['{"call":1,"add":[1,2]}', '{"call":"calc","add":[1,2]}', '{"ping":{}}'], says: /header/i },
  {
    name: 'id not an integer',
    inputs: ["{call:['1','calc'],add:[1,2]}", '{"call":[1.5,"calc"],"add":[1,2]}', '{"call":[null,"calc"],"add":[1,2]}', '{"call":[],"add":[1,2]}'],
    says: /integer id/i,
  },
  { name: 'missing interface', inputs: ['{"call":[1],"add":[1,2]}', '{"call":[1,""],"add":[1,2]}', '{"call":[1,7],"add":[1,2]}', '{"inspect":[1]}'], says: /interface/i },
  { name: 'args not an array', inputs: ["{call:[1,'calc'],add:5}", '{"call":[1,"calc"],"add":{"0":1}}', '{"event":[1,"calc"],"tick":"x"}'], says: /not an array/i },
  { name: 'no method name', inputs: ['{"call":[1,"calc"]}'], says: /method/i },
  { name: 'unknown kind', inputs: ['{foo:[1]}', '{"add":[1,2],"call":[1,"calc"]}'], says: /unknown message kind/i },
  { name: 'callback with ok not an array', inputs: ['{"callback":[1],"ok":5}', '{"callback":[1],"ok":"x"}', '{"callback":[1]}'], says: /callback/i },
  { name: 'handshake reply from a client', inputs: ['{"handshake":[0],"ok":"x"}'], says: /handshake/i },
];

describe('server on malformed input', () => {
  let f: Fixture;
  let healthyTcp: Healthy;
  let healthyWs: Healthy;
  const clients: RawClient[] = [];
  const track = <T extends RawClient>(client: T): T => {
    clients.push(client);
    return client;
  };
  const session = async (kind: RawKind): Promise<{ client: RawClient; id: string }> => {
    const opened = await openSession(kind, f);
    track(opened.client);
    return opened;
  };

  /** Other clients are still served, and new ones still get in. */
  const assertServing = async (): Promise<void> => {
    await healthyTcp.check();
    await healthyWs.check();
    assert.equal(f.server.listeners.length, 2, 'listeners still open');
    const { client } = await session('tcp');
    assert.deepEqual((await rawCall(client, 1, 'calc', 'add', [2, 2])).ok, [4]);
    client.destroy();
  };

  /** The bad connection got `{"close":[0],"error":[code, clear text]}` and was closed. */
  const assertRejected = async (client: RawClient, says: RegExp, code = 20, wsStatus = 1002): Promise<void> => {
    const close = await client.waitMessage(isClose, 2000, 'the close message');
    assert.deepEqual(close.close, [0]);
    assert.equal(close.error[0], code, JSON.stringify(close));
    assert.equal(typeof close.error[1], 'string');
    assert.match(close.error[1], says);
    await client.waitClose();
    if (client.kind !== 'tcp') assert.equal(client.closeCode, wsStatus);
    assert.equal(client.messages.indexOf(close), client.messages.length - 1, 'the close message is the last');
  };

  /** The session of a connection closed for a protocol error cannot be restored. */
  const assertDiscarded = async (kind: RawKind, id: string, sent: number, received: number): Promise<void> => {
    const client = track(await openRaw(kind, f));
    const reply = await hello(client, JSON.stringify({ handshake: [0, 'testApp'], session: [id, sent, received] }));
    assert.deepEqual(reply.error, [11, 'Session closed after a protocol error', 'protocol'], `restore got ${JSON.stringify(reply)}`);
  };

  before(async () => {
    f = await startServer({ maxMessageSize: MAX });
    healthyTcp = await Healthy.open('tcp', f);
    healthyWs = await Healthy.open('ws', f);
    clients.push(healthyTcp.client, healthyWs.client);
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await f.close();
  });

  for (const kind of [...kinds, 'ws-batch'] as const) {
    describe(kind, () => {
      for (const bad of cases) {
        it(`closes on ${bad.name}, with a clear error, harming no one else`, async () => {
          for (const input of bad.inputs) {
            const { client, id } = await session(kind);
            // One good call first, so the session has something to lose.
            assert.deepEqual((await rawCall(client, 1, 'calc', 'add', [1, 2])).ok, [3]);
            client.send(input);
            await assertRejected(client, bad.says);
            await assertDiscarded(kind, id, 1, 1);
          }
          await assertServing();
        });
      }

      it('closes with a clear handshake error on garbage before the handshake', async () => {
        for (const input of ['null', '[1]', 'garbage', '', '{"ping":[1]}']) {
          const client = track(await openRaw(kind, f));
          client.send(input);
          const reply = await client.waitMessage(isHandshake);
          assert.equal(reply.error[0], 20, `${input} -> ${JSON.stringify(reply)}`);
          assert.equal(typeof reply.error[1], 'string');
          await client.waitClose();
        }
        await assertServing();
      });

      it('answers fail.throws and fail.rejects with [16] and keeps the connection', async () => {
        const { client } = await session(kind);
        assert.deepEqual((await rawCall(client, 1, 'fail', 'throws', [])).error, [16]);
        assert.deepEqual((await rawCall(client, 2, 'fail', 'rejects', [])).error, [16]);
        // The error's own message does not reach the client.
        assert.equal(client.texts.some((text) => text.includes('boom')), false);
        assert.deepEqual((await rawCall(client, 3, 'calc', 'add', [1, 2])).ok, [3]);
        assert.equal(client.closed, false);
        await assertServing();
      });

      it('answers fail.remote with its code, message and info', async () => {
        const { client } = await session(kind);
        const reply = await rawCall(client, 1, 'fail', 'remote', []);
        assert.deepEqual(reply.error, [1001, 'Custom failure', { field: 'x' }]);
        assert.deepEqual((await rawCall(client, 2, 'calc', 'add', [1, 2])).ok, [3]);
      });

      it('answers an unserializable result with an error, no crash', async () => {
        const { client } = await session(kind);
        const reply = await rawCall(client, 1, 'fail', 'bigint', []);
        assert.equal(reply.ok, undefined);
        assert.ok(Array.isArray(reply.error) && Number.isInteger(reply.error[0]), JSON.stringify(reply));
        assert.deepEqual(reply.callback, [1, -1]);
        // The next reply takes the next sequence number: none was skipped.
        const next = await rawCall(client, 2, 'calc', 'echo', [{ big: '1' }]);
        assert.deepEqual(next.ok, [{ big: '1' }]);
        assert.deepEqual(next.callback, [2, -2]);
        await assertServing();
      });

      it('answers unknown interface [12] and unknown method [14], staying open', async () => {
        const { client } = await session(kind);
        assert.deepEqual((await rawCall(client, 1, 'nope', 'add', [1])).error, [12]);
        assert.deepEqual((await rawCall(client, 2, 'calc', 'nope', [1])).error, [14]);
        client.send('{"inspect":[3,"nope"]}');
        assert.deepEqual((await client.waitMessage(isCallback(3))).error, [12]);
        client.send('{"inspect":[4,"calc"]}');
        const methods = (await client.waitMessage(isCallback(4))).ok;
        assert.ok(Array.isArray(methods) && methods.includes('add') && methods.includes('echo'), JSON.stringify(methods));
        assert.deepEqual((await rawCall(client, 5, 'calc', 'add', [1, 2])).ok, [3]);
        assert.equal(client.closed, false);
      });

      it('ignores a {} heartbeat and answers a ping', async () => {
        const { client } = await session(kind);
        client.send('{}');
        client.send('{"ping":[1]}');
        assert.deepEqual((await client.waitMessage((m) => Array.isArray(m.pong))).pong, [1]);
        assert.deepEqual((await rawCall(client, 2, 'calc', 'add', [1, 2])).ok, [3]);
        await delay(20);
        assert.equal(client.closed, false);
        assert.equal(client.messages.some(isClose), false);
      });

      it('accepts the reference record syntax', async () => {
        const client = track(await openRaw(kind, f));
        assert.equal(typeof (await hello(client, "{handshake:[0,'testApp']}")).ok, 'string');
        client.send("{call:[1,'calc'],add:[1,2]}");
        assert.deepEqual((await client.waitMessage(isCallback(1))).ok, [3]);
        client.send("{call:[2,'calc'],echo:[[0x10,+3,.5,'a\\x41\\u0042','it\\'s',\"dq\"]]}");
        assert.deepEqual((await client.waitMessage(isCallback(2))).ok, [[16, 3, 0.5, 'aAB', "it's", 'dq']]);
        assert.equal(client.closed, false);
      });

      it('accepts a message just under maxMessageSize', async () => {
        const { client } = await session(kind);
        const value = 'y'.repeat(MAX - 60);
        const text = JSON.stringify({ call: [1, 'calc'], echo: [value] });
        assert.ok(Buffer.byteLength(text) <= MAX);
        client.send(text);
        assert.deepEqual((await client.waitMessage(isCallback(1))).ok, [value]);
      });

      it('closes at once on an oversize message, with a clear error, harming no one else', async () => {
        const { client } = await session(kind);
        if (kind === 'tcp') {
          // No NUL ever comes: the server must not wait for one.
          client.sendRaw('{"call":[1,"calc"],"echo":["' + 'x'.repeat(2000));
        } else if (kind === 'ws-batch') {
          // A well-framed batch whose second message is too large.
          client.sendRaw(`{"ping":[1]}\0${JSON.stringify({ call: [1, 'calc'], echo: ['x'.repeat(2000)] })}\0`);
        } else {
          client.sendRaw(JSON.stringify({ call: [1, 'calc'], echo: ['x'.repeat(2000)] }));
        }
        await client.waitClose(1000);
        await assertServing();
        // WS: the 1009 status says it all.
        if (kind === 'ws') {
          assert.equal(client.closeCode, 1009);
          return;
        }
        // TCP: a clear error, not a silent drop.
        const close = client.messages.find(isClose);
        assert.ok(close, `no close message before the close; got ${JSON.stringify(client.texts)}`);
        assert.ok([20, 21].includes(close.error[0]), JSON.stringify(close));
        assert.match(close.error[1], /exceeds|too large/i);
      });

      it('discards the session of a connection closed for an oversize message', async () => {
        const { client, id } = await session(kind);
        client.sendRaw('z'.repeat(2000));
        await client.waitClose(1000);
        await assertDiscarded(kind, id, 0, 0);
      });
    });
  }

  describe('ws frames', () => {
    it('accepts binary frames as UTF-8 text', async () => {
      const client = track(await openRaw('ws', f));
      client.sendRaw(Buffer.from('{"handshake":[0,"testApp"]}'), { binary: true });
      assert.equal(typeof (await client.waitMessage(isHandshake)).ok, 'string');
      client.sendRaw(Buffer.from('{"call":[1,"calc"],"echo":["żółw ✓"]}'), { binary: true });
      assert.deepEqual((await client.waitMessage(isCallback(1))).ok, ['żółw ✓']);
      assert.equal(client.closed, false);
    });

    it('closes on two messages in one frame', async () => {
      const { client, id } = await session('ws');
      client.sendRaw('{"call":[1,"calc"],"add":[1,2]}{"call":[2,"calc"],"add":[1,2]}');
      await assertRejected(client, /malformed/i);
      assert.equal(client.messages.some((m) => Array.isArray(m.callback)), false, 'neither call ran');
      await assertDiscarded('ws', id, 0, 0);
      await assertServing();
    });

    it('closes on a NUL inside a frame', async () => {
      for (const text of ['{"call":[1,"calc"],"add":[1,2]}\0', '{"call":[1,"calc"],"add":[1,2]}\0{"call":[2,"calc"],"add":[1,2]}']) {
        const { client } = await session('ws');
        client.sendRaw(text);
        await assertRejected(client, /malformed/i);
        assert.equal(client.messages.some((m) => Array.isArray(m.callback)), false, 'no call ran');
      }
      await assertServing();
    });

    it('survives a null frame (it killed the reference server)', async () => {
      const { client } = await session('ws');
      client.sendRaw('null');
      await assertRejected(client, /not an object/i);
      const before = track(await openRaw('ws', f));
      before.sendRaw('null');
      assert.equal((await before.waitMessage(isHandshake)).error[0], 20);
      await before.waitClose();
      await assertServing();
    });
  });

  describe('tcp framing', () => {
    it('closes on an empty message (\\0\\0) and ignores what follows it', async () => {
      const { client } = await session('tcp');
      client.sendRaw('\0\0{"call":[1,"calc"],"add":[1,2]}\0');
      await assertRejected(client, /malformed|empty|end of input/i);
      assert.equal(client.messages.some(isCallback(1)), false);
      await assertServing();
    });

    it('answers messages split across writes and batched in one write', async () => {
      const { client } = await session('tcp');
      const tcp = client;
      tcp.sendRaw('{"call":[1,"calc"],');
      await delay(10);
      tcp.sendRaw('"add":[1,2]}\0{"call":[2,"calc"],"add":[2,2]}\0{"call":[3,"calc"],"a');
      await delay(10);
      tcp.sendRaw('dd":[3,2]}\0');
      assert.deepEqual((await client.waitMessage(isCallback(3))).ok, [5]);
      assert.deepEqual((await client.waitMessage(isCallback(1))).ok, [3]);
      assert.deepEqual((await client.waitMessage(isCallback(2))).ok, [4]);
    });
  });
});
