/**
 * The server calls methods the client exposes, as the reference allows,
 * with the same guarantees: once, answered once, across a drop.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError, connect, type ServerSession } from '../../lib/index';
import { fastReconnect, kinds, once, startServer } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';

for (const kind of kinds) {
  describe(`server-to-client calls over ${kind}`, () => {
    it('reach the client api once, errors included, across a drop', async () => {
      const fixture = await startServer();
      const proxy = new Proxy(fixture.port[kind]);
      await proxy.listen();
      const runs: number[] = [];
      let release = (): void => {};
      // The drop must come while the slow method runs on the client: under
      // load its call may take longer than any fixed wait to get there.
      let started = (): void => {};
      const slowStarted = new Promise<void>((resolve) => {
        started = resolve;
      });
      const sessions: ServerSession[] = [];
      fixture.server.on('session', (session: ServerSession) => sessions.push(session));
      const client = await connect(`${kind}://127.0.0.1:${proxy.port}`, {
        app: 'testApp',
        reconnect: fastReconnect,
        api: {
          device: {
            battery: (n: number) => {
              runs.push(n);
              return 40 + n;
            },
            slow: (n: number) => new Promise((resolve) => {
              runs.push(n);
              release = () => resolve(n * 2);
              started();
            }),
            fails: () => {
              throw new RemoteError(1002, 'Not now');
            },
          },
        },
      });
      try {
        const session = sessions[0] as ServerSession;
        assert.equal(await session.call('device', 'battery', 2), 42);
        await assert.rejects(session.call('device', 'fails'), (e: unknown) => e instanceof RemoteError && e.code === 1002 && e.message === 'Not now');
        await assert.rejects(session.call('device', 'nope'), (e: unknown) => e instanceof RemoteError && e.code === 14);
        await assert.rejects(session.call('nope', 'x'), (e: unknown) => e instanceof RemoteError && e.code === 12);
        const slow = session.call('device', 'slow', 5);
        await slowStarted;
        proxy.killAll();
        release();
        await once(client, 'ready');
        assert.equal(await slow, 10);
        assert.deepEqual(runs, [2, 5], 'each ran once');
      } finally {
        client.close();
        await proxy.close();
        await fixture.close();
      }
    });
  });
}
