/**
 * What the server publishes on `node:diagnostics_channel`, as an agent
 * subscribed to it sees: the events of one call (a TracingChannel: start,
 * end, asyncStart, asyncEnd; error for a failure) with the method running
 * in the stores bound to `start`, and the life of one session that drops
 * and resumes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { DiagnosticsChannel, connect, type CallContext, type ResumeMessage, type ServerSession, type SessionMessage } from '../../lib/index';
import { createTestApp } from '../helpers/app';
import { fastReconnect, startServer, waitFor, type Fixture } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { hello, openRaw } from '../helpers/raw';

/** What a subscriber saw: channel (or tracing event) and a copy of the message as it was then. */
type Seen = [string, Record<string, unknown>];

/** The message without `server`, and `startTime` (a call's) checked and left out: it is a clock reading. */
const snapshot = (message: object): Record<string, unknown> => {
  const { server: _server, ...rest } = message as Record<string, unknown>;
  if ('startTime' in rest) {
    assert.equal(typeof rest.startTime, 'number');
    assert.ok((rest.startTime as number) <= performance.now());
    delete rest.startTime;
  }
  return { ...rest };
};

describe('diagnostics channels', () => {
  const store = new AsyncLocalStorage<CallContext>();
  const app = {
    name: 'traced',
    version: '2.1.0',
    api: {
      probe: {
        /** Answers which call the agent's store says is running. */
        where: () => `${store.getStore()?.iface}.${store.getStore()?.method}`,
        later: async (_c: unknown, value: string) => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          return value;
        },
      },
    },
  };
  let fixture: Fixture;
  /** Call events, and session events, as they came. */
  const seen: Seen[] = [];
  const lifecycle: Seen[] = [];
  const unsubscribe: (() => void)[] = [];

  const listen = (name: string, label: string, into: Seen[]): void => {
    const listener = (message: unknown): void => {
      if ((message as { server?: unknown }).server === fixture.server) into.push([label, snapshot(message as object)]);
    };
    diagnostics.subscribe(name, listener);
    unsubscribe.push(() => diagnostics.unsubscribe(name, listener));
  };

  after(async () => {
    for (const stop of unsubscribe) stop();
    await fixture.close();
  });

  it('publishes one call as a TracingChannel, the method running in the stores bound to start', async () => {
    fixture = await startServer({ applications: [createTestApp().definition, app] });
    const tracing = diagnostics.tracingChannel<unknown, CallContext>(DiagnosticsChannel.CALL);
    for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const) listen(`tracing:${DiagnosticsChannel.CALL}:${event}`, event, seen);
    for (const name of [DiagnosticsChannel.SESSION_OPEN, DiagnosticsChannel.SESSION_DETACH, DiagnosticsChannel.SESSION_RESUME, DiagnosticsChannel.SESSION_END]) listen(name, name, lifecycle);
    tracing.start.bindStore(store, (context) => context);
    unsubscribe.push(() => tracing.start.unbindStore(store));
    const sessions: ServerSession[] = [];
    fixture.server.on('session', (session: ServerSession) => sessions.push(session));
    const client = await fixture.connect('tcp', { app: 'traced' });
    const label = sessions[0]?.label;
    assert.match(label ?? '', /^s:/);

    assert.equal(await client.call('probe', 'later', 'v'), 'v');
    const context = { app: 'traced', version: '2.1.0', iface: 'probe', method: 'later', known: true, session: label, transport: 'tcp', code: undefined, error: undefined, result: undefined };
    assert.deepEqual(seen.splice(0), [
      ['start', context],
      ['end', context],
      ['asyncStart', { ...context, code: 0, result: ['v'] }],
      ['asyncEnd', { ...context, code: 0, result: ['v'] }],
    ]);

    assert.equal(await client.call('probe', 'where'), 'probe.where');
    assert.deepEqual(seen.splice(0).map(([event, message]) => [event, message.code]), [['start', undefined], ['end', 0]]);

    await assert.rejects(client.call('probe', 'nothing'), { code: 14 });
    const failed = seen.splice(0);
    assert.deepEqual(failed.map(([event]) => event), ['start', 'error', 'end']);
    assert.equal(failed[1]?.[1].known, false);
    assert.equal(failed[1]?.[1].code, 14);
    assert.equal(failed[1]?.[1].method, 'nothing');
    client.close();
  });

  it('publishes a session opened, detached and resumed, and a resume refused', async () => {
    // The session of the first test ends: its client closed it, so it is never detached and held first.
    await waitFor(() => fixture.server.sessions.size === 0, 2000, 'the first session to end');
    assert.deepEqual(lifecycle.splice(0).map(([name, message]) => [name, message.reason]), [
      [DiagnosticsChannel.SESSION_OPEN, undefined],
      [DiagnosticsChannel.SESSION_END, 'closed'],
    ]);
    const proxy = new Proxy(fixture.port.tcp);
    await proxy.listen();
    try {
      const client = await connect(`tcp://127.0.0.1:${proxy.port}`, { app: 'traced', reconnect: fastReconnect });
      fixture.clients.push(client);
      await waitFor(() => lifecycle.some(([name]) => name === DiagnosticsChannel.SESSION_OPEN), 2000, 'the open');
      const [, opened] = lifecycle.find(([name]) => name === DiagnosticsChannel.SESSION_OPEN) as Seen;
      const session = { app: 'traced', version: '2.1.0', session: opened.session as string, transport: 'tcp' } satisfies Omit<SessionMessage, 'server'>;
      assert.deepEqual(opened, session);
      proxy.killAll();
      await waitFor(() => lifecycle.some(([name, message]) => name === DiagnosticsChannel.SESSION_RESUME && message.outcome === 'resumed'), 5000, 'the resume');
      const events = lifecycle.splice(0).filter(([name]) => name !== DiagnosticsChannel.SESSION_OPEN);
      assert.deepEqual(events.map(([name]) => name), [DiagnosticsChannel.SESSION_DETACH, DiagnosticsChannel.SESSION_RESUME]);
      assert.deepEqual(events[0]?.[1], { ...session, transport: undefined });
      const resumed = events[1]?.[1] as unknown as Omit<ResumeMessage, 'server'>;
      assert.equal(resumed.outcome, 'resumed');
      assert.equal(resumed.reason, undefined);
      assert.equal(resumed.session, session.session);
      assert.equal(resumed.app, 'traced');
      assert.equal(resumed.transport, 'tcp');
      assert.ok(Number.isInteger(resumed.replayedMessages) && resumed.replayedMessages >= 0);
      assert.ok(resumed.replayedBytes >= 0);
      assert.ok(resumed.seconds > 0 && resumed.seconds < 5, String(resumed.seconds));
    } finally {
      await proxy.close();
    }
    const raw = await openRaw('tcp', fixture);
    const reply = await hello(raw, JSON.stringify({ handshake: [0, 'traced'], session: ['no-such-session', 0] }));
    assert.deepEqual(reply.error?.slice(0, 1), [11]);
    raw.destroy();
    const refused = lifecycle.splice(0).find(([name]) => name === DiagnosticsChannel.SESSION_RESUME)?.[1];
    assert.deepEqual({ ...refused, seconds: typeof refused?.seconds }, {
      app: 'traced',
      version: '2.1.0',
      outcome: 'refused',
      reason: 'not_found',
      session: undefined,
      replayedMessages: 0,
      replayedBytes: 0,
      seconds: 'number',
      transport: 'tcp',
    });
    // A restore of an application not served here: counted, under no name the client sent.
    const stray = await openRaw('tcp', fixture);
    const strayReply = await hello(stray, JSON.stringify({ handshake: [0, 'gone-app-SECRET'], session: ['no-such-session', 0] }));
    assert.deepEqual(strayReply.error?.slice(0, 1), [10]);
    stray.destroy();
    const unknownApp = lifecycle.splice(0).find(([name]) => name === DiagnosticsChannel.SESSION_RESUME)?.[1] as unknown as Omit<ResumeMessage, 'server'>;
    assert.deepEqual([unknownApp.app, unknownApp.version, unknownApp.outcome, unknownApp.reason], ['unknown', 'unknown', 'refused', 'app_not_found']);
  });
});
