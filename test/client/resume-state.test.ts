/**
 * The lost-state hook (CARTA): when the server truly cannot resume a
 * session, a client with `resumeState` sends what the application kept
 * with the new session's hello, and the application's `resume` hook
 * rebuilds from it, so the user's rooms and state come back without the
 * application writing that plumbing. Over TCP and WS; also for a ticket
 * the server no longer has, and from an application folder's `resume.js`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Server,
  SessionLossReason,
  connect,
  silentLogger,
  type ApplicationDefinition,
  type Client,
  type MethodContext,
  type RemoteEvent,
  type ServerSession,
} from '../../lib/index';
import { loadApplications } from '../../lib/server/loader/index';
import { kinds, once, unlimitedAddress, waitFor } from '../helpers/fixtures';
import { readErrorArguments } from '../../lib/server/options';

interface Kept {
  rooms: string[];
  draft: string;
}

const resumed: unknown[] = [];

const definition: ApplicationDefinition = {
  name: 'notes',
  api: {
    rooms: {
      join: (context: MethodContext, room: string) => {
        context.join(room);
        return context.channels;
      },
      mine: (context: MethodContext) => context.channels,
    },
    draft: {
      set: (context: MethodContext, text: string) => {
        context.state.draft = text;
      },
      get: (context: MethodContext) => context.state.draft ?? null,
    },
  },
  resume: async (context: MethodContext, state: unknown) => {
    resumed.push(state);
    // Client input: taken only in the shape expected.
    const { rooms, draft } = (state ?? {}) as Partial<Kept>;
    if (Array.isArray(rooms)) for (const room of rooms.filter((r) => typeof r === 'string').slice(0, 10)) context.join(room);
    if (typeof draft === 'string') context.state.draft = draft;
    await Promise.resolve();
    if (draft === 'boom') throw new Error('the hook failed');
  },
};

describe('resumeState and the resume hook', () => {
  const clients: Client[] = [];
  const servers: Server[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.close()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<{ server: Server; url: Record<string, string>; failures: unknown[] }> => {
    const failures: unknown[] = [];
    const server = new Server({
      applications: [definition],
      ...unlimitedAddress,
      logger: {
        ...silentLogger,
        error: (first: string | object, second?: string) => {
          const { message, thrown } = readErrorArguments(first, second);
          failures.push([message, thrown]);
        },
      },
    });
    servers.push(server);
    // Started, so the application reports its failures to the server's logger.
    for (const app of server.applications.all()) await app.start(server);
    const listeners = await server.listen({ tcp: 0, ws: 0 });
    return { server, failures, url: Object.fromEntries(listeners.map((listener) => [listener.kind, listener.url])) };
  };

  for (const kind of kinds) {
    it(`${kind}: an evicted session comes back with its rooms and draft, rebuilt by the hook`, async () => {
      const { server, url } = await start();
      let kept: Kept = { rooms: [], draft: '' };
      const events: RemoteEvent[] = [];
      const client = await connect(url[kind]!, {
        app: 'notes',
        reconnect: { initialDelay: 10, maxDelay: 50, jitter: 0 },
        resumeState: () => kept,
        onEvent: (event) => events.push(event),
      });
      clients.push(client);
      kept = { rooms: await client.call('rooms', 'join', 'lobby') as string[], draft: 'dear diary' };
      await client.call('draft', 'set', kept.draft);
      const firstId = client.session?.id;
      const lost = once(client, 'sessionLost');
      const back = once(client, 'ready');
      const session = [...server.sessions.values()].at(-1) as ServerSession;
      server.endSession(session, SessionLossReason.EVICTED);
      const [error] = await lost as [{ reason: string }];
      assert.equal(error.reason, 'evicted');
      const [info] = await back as [{ resumed: boolean }];
      assert.equal(info.resumed, false, 'a new session');
      assert.notEqual(client.session?.id, firstId);
      assert.deepEqual(resumed.at(-1), { rooms: ['lobby'], draft: 'dear diary' }, 'the hook got what the client kept');
      assert.deepEqual(await client.call('rooms', 'mine'), ['lobby']);
      assert.equal(await client.call('draft', 'get'), 'dear diary');
      assert.equal(server.channels.publish('notes', 'lobby', 'rooms', 'said', ['hi']), 1, 'a member of the room again');
      await waitFor(() => events.some((event) => event.name === 'said'), 2000, 'the room event');
    });
  }

  it('a ticket the server no longer has opens a new session with the state instead of failing connect()', async () => {
    const { server, url } = await start();
    const first = await connect(url.tcp!, { app: 'notes' });
    clients.push(first);
    await first.call('draft', 'set', 'old');
    const ticket = first.session!;
    first.close();
    await waitFor(() => server.sessions.size === 0, 2000, 'the closed session to go');
    const client = await connect(url.tcp!, {
      app: 'notes',
      session: ticket,
      resumeState: () => ({ rooms: ['kitchen'], draft: 'from the ticket holder' }),
    });
    clients.push(client);
    assert.notEqual(client.session?.id, ticket.id);
    assert.equal(await client.call('draft', 'get'), 'from the ticket holder');
    assert.deepEqual(await client.call('rooms', 'mine'), ['kitchen']);
    // Without resumeState the same ticket still fails connect(), as before.
    await assert.rejects(connect(url.tcp!, { app: 'notes', session: ticket }), /Session closed|Session not found/);
  });

  it('a failing hook is logged and the session starts anyway; a client whose resumeState throws starts without it', async () => {
    const { server, url, failures } = await start();
    const errors: unknown[] = [];
    let fail = false;
    const client = await connect(url.ws!, {
      app: 'notes',
      reconnect: { initialDelay: 10, maxDelay: 50, jitter: 0 },
      resumeState: () => {
        if (fail) throw new Error('no state today');
        return { rooms: [], draft: 'boom' };
      },
    });
    clients.push(client);
    client.on('error', (error) => errors.push(error));
    const lose = async (): Promise<void> => {
      const back = once(client, 'ready');
      server.endSession([...server.sessions.values()].at(-1) as ServerSession, SessionLossReason.EXPIRED);
      await back;
    };
    await lose();
    assert.equal(await client.call('draft', 'get'), 'boom', 'what the hook did before it threw stays');
    assert.match(String((failures.at(-1) as [string])[0]), /resume hook failed/);
    fail = true;
    const before = resumed.length;
    await lose();
    assert.equal(resumed.length, before, 'no state sent: the hook did not run');
    assert.match(String(errors.at(-1)), /resumeState\(\) failed/);
    assert.equal(await client.call('draft', 'get'), null);
  });

  it('loads resume.js from an application folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-resume-'));
    dirs.push(dir);
    const app = path.join(dir, 'keeper');
    fs.mkdirSync(path.join(app, 'api', 'keep'), { recursive: true });
    fs.writeFileSync(path.join(app, 'api', 'keep', 'get.js'), 'module.exports = (context) => context.state.kept ?? null;');
    fs.writeFileSync(path.join(app, 'resume.js'), 'module.exports = (context, state) => { context.state.kept = state; };');
    const loaded = await loadApplications(dir);
    const server = new Server({ applications: loaded.applications, logger: silentLogger, ...unlimitedAddress });
    servers.push(server);
    const [listener] = await server.listen({ tcp: 0 });
    const client = await connect(listener!.url, { app: 'keeper', reconnect: { initialDelay: 10, maxDelay: 50, jitter: 0 }, resumeState: () => 42 });
    clients.push(client);
    assert.equal(await client.call('keep', 'get'), null, 'a first session sends nothing');
    const back = once(client, 'ready');
    server.endSession([...server.sessions.values()].at(-1) as ServerSession, SessionLossReason.EXPIRED);
    await back;
    assert.equal(await client.call('keep', 'get'), 42);
  });
});
