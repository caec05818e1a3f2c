/**
 * `tjstp connect` against the reference server, @metarhia/jstp 2.3.0: no
 * `$tjstp`, so names come from `inspect`; record syntax on the wire; a
 * restore in the reference's form, which does not say what it replays.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jstp, type Callback, type ReferenceConnection, type ReferenceServer } from '../helpers/reference';
import { runCli } from './cli';

describe('tjstp connect to a reference server (@metarhia/jstp 2.3.0)', () => {
  let server: ReferenceServer;

  before(async () => {
    const api = {
      calc: { add: (_c: unknown, a: number, b: number, callback: Callback) => callback(null, a + b) },
      chat: {
        say: (connection: ReferenceConnection, text: string, callback: Callback) => {
          connection.emitRemoteEvent('chat', 'message', [text]);
          callback(null, 'said');
        },
      },
    };
    server = jstp.net.createServer({ applications: [new jstp.Application('refApp', api)] });
    // Its connections re-emit socket resets (from dropped connections) as 'error'.
    server.on('connect', (connection: ReferenceConnection) => connection.on('error', () => {}));
    server.on('reconnect', (connection: ReferenceConnection) => connection.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('calls, receives events, describes through inspect and resumes', async () => {
    const url = `tcp://127.0.0.1:${server.address().port}`;
    const run = await runCli([url, 'refApp', 'calc', '--events', '-v', '-e', "calc.add(1, 2); chat.say('hi'); .describe; .drop; calc.add(2, 2); .session"]);
    assert.equal(run.code, 0, run.stderr);
    const [sum, event, said, description, dropped, second, session] = run.json as unknown[];
    assert.deepEqual([sum, event, said], [{ ok: 3 }, { event: { iface: 'chat', name: 'message', args: ['hi'] } }, { ok: 'said' }]);
    assert.deepEqual(description, { ok: { calc: { add: {} }, chat: { say: {} } } }, 'calc from the command line, chat learned from the call');
    assert.deepEqual([dropped, second], [{ ok: { dropped: true, downMs: 0 } }, { ok: 4 }]);
    const { lastResume } = (session as { ok: { lastResume: Record<string, unknown> } }).ok;
    assert.deepEqual(lastResume, { resumed: true, replayed: 1, serverReplayed: null, offlineMs: lastResume.offlineMs }, 'the call made offline went on the resume');
    assert.match(run.stderr, /^← \{handshake:\[0\],ok:'.{4}…'\}$/m, 'the session id is masked in record syntax too');
    assert.match(run.stderr, /replayed 1 by us, unknown by the server/);
  });
});
