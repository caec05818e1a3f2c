/**
 * Loaded applications served end to end: schemas, access, timeouts,
 * session state, introspection, client events and start/stop hooks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RemoteError, type Client } from '../../lib/index';
import { once, waitFor } from '../helpers/fixtures';
import { Proxy } from '../helpers/proxy';
import { capturingLogger, gate, makeApps, paths, record, serve } from './loader-fixtures';

const rejectsWith = async (promise: Promise<unknown>, code: number, message?: string | RegExp): Promise<RemoteError> => {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof RemoteError, String(caught));
  assert.equal(caught.code, code, caught.message);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
};

const rooms = `export default {
  description: 'Joins a room',
  parameters: [
    { title: 'room', type: 'string', minLength: 1 },
    { title: 'limit', type: 'integer', minimum: 1, default: 10 },
    { title: 'options', type: 'object', properties: { mode: { enum: ['quiet', 'loud'] } }, additionalProperties: { type: 'string' }, default: {} },
  ],
  returns: { type: 'string' },
  handler: (_context: unknown, room: string, limit: number, options?: object) =>
    room === 'bad-result' ? 42 : \`\${room}:\${limit}:\${JSON.stringify(options ?? null)}\`,
};
`;

describe('loaded applications', () => {
  it('check arguments and results against their schemas, never echoing values', async () => {
    const root = makeApps({ 'chat/api/rooms/join.ts': rooms });
    const logger = capturingLogger();
    const served = await serve(root, { server: { logger } });
    try {
      const client = await served.connect({ app: 'chat' });
      assert.equal(await client.call('rooms', 'join', 'lobby', 5, { mode: 'loud' }), 'lobby:5:{"mode":"loud"}');
      assert.equal(await client.call('rooms', 'join', 'lobby'), 'lobby:10:{}', 'defaults applied');
      const call = (...args: unknown[]): Promise<unknown> => client.call('rooms', 'join', ...args);
      await rejectsWith(call(), 17, 'Missing argument 1 (room)');
      await rejectsWith(call(''), 17, 'Invalid argument 1 (room): must NOT have fewer than 1 characters');
      await rejectsWith(call('lobby', 'SECRET-1'), 17, 'Invalid argument 2 (limit): must be integer');
      await rejectsWith(call('lobby', 0), 17, 'Invalid argument 2 (limit): must be >= 1');
      await rejectsWith(call('lobby', 1, { mode: 'SECRET-2' }), 17, 'Invalid argument 3 (options): /mode must be equal to one of the allowed values');
      await rejectsWith(call('lobby', 1, { 'SECRET-3': 5 }), 17, 'Invalid argument 3 (options): /* must be string');
      await rejectsWith(call('lobby', 1, {}, 'extra'), 17, 'Too many arguments: expected at most 3, got 4');
      assert.equal(logger.errors.length, 0);
      await rejectsWith(call('bad-result'), 16, 'Internal API error');
      await waitFor(() => logger.errors.length === 1, 2000, 'the invalid result to be logged');
      assert.match(String((logger.errors[0]?.error as Error).message), /chat@1\.0\.0 rooms\.join returned an invalid result: must be string/);
    } finally {
      await served.close();
    }
  });

  it('refuses user-only methods to anonymous sessions', async () => {
    const root = makeApps({
      'shop/api/cart/checkout.js': "module.exports = { access: 'user', handler: (context) => `paid by ${context.user}` };\n",
      'shop/api/cart/browse.js': "module.exports = { access: 'public', handler: () => 'items' };\n",
    });
    const served = await serve(root, {
      server: { authenticate: ({ credentials }) => ((credentials as string[])[1] === 'pw' ? (credentials as string[])[0] : null) },
    });
    try {
      const anonymous = await served.connect({ app: 'shop' });
      await rejectsWith(anonymous.call('cart', 'checkout'), 11, 'Log in to call cart.checkout');
      assert.equal(await anonymous.call('cart', 'browse'), 'items');
      const ann = await served.connect({ app: 'shop', login: { user: 'ann', password: 'pw' } });
      assert.equal(await ann.call('cart', 'checkout'), 'paid by ann');
    } finally {
      await served.close();
    }
  });

  it('answers 24 when a method outlives its timeout, and drops its late result', async () => {
    const root = makeApps({
      'app/api/work/slow.js': `const { gate, record } = require(${paths.fixtures});
module.exports = { timeout: 50, handler: async () => { await gate('timeout').promise; record.push('slow finished'); return 'late'; } };
`,
      'app/api/work/fast.js': "module.exports = { timeout: 1000, handler: async () => 'quick' };\n",
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'app' });
      assert.equal(await client.call('work', 'fast'), 'quick');
      await rejectsWith(client.call('work', 'slow'), 24, 'work.slow timed out after 50 ms');
      assert.match(served.errors[0]?.message ?? '', /app@1\.0\.0 work\.slow timed out after 50 ms/);
      gate('timeout').open();
      await waitFor(() => record.includes('slow finished'), 2000, 'the late finish');
      assert.equal(await client.call('work', 'fast'), 'quick', 'the session carries on');
    } finally {
      await served.close();
    }
  });

  it('keeps session state across a reconnect, and gives methods the config', async () => {
    const root = makeApps({
      'app/application.json': JSON.stringify({ config: { step: 5 } }),
      'app/api/counter/add.ts': `import type { MethodContext } from ${paths.lib};
export default (context: MethodContext) => {
  const value = ((context.state.count as number | undefined) ?? 0) + (context.config?.step as number);
  context.state.count = value;
  return value;
};
`,
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'app' });
      assert.equal(await client.call('counter', 'add'), 5);
      assert.equal(await client.call('counter', 'add'), 10);
      const ready = once<[{ resumed: boolean }]>(client, 'ready');
      client.reconnect();
      assert.equal((await ready)[0].resumed, true);
      assert.equal(await client.call('counter', 'add'), 15);
    } finally {
      await served.close();
    }
  });

  it('gives each session one context; a method detached from it fails clearly', async () => {
    const root = makeApps({
      'app/api/probe/same.js': 'module.exports = (context) => { (context.state.seen ??= []).push(context); return context.state.seen.every((c) => c === context); };\n',
      'app/api/probe/shape.js': "module.exports = (context) => [context.sessionLabel.startsWith('s:'), context.user, context.channels.length, typeof context.config];\n",
      'app/api/probe/detached.js': "module.exports = (context) => { const { emit } = context; emit('x', 'y'); };\n",
    });
    const logger = capturingLogger();
    const served = await serve(root, { server: { logger } });
    try {
      const client = await served.connect({ app: 'app' });
      assert.equal(await client.call('probe', 'same'), true);
      assert.equal(await client.call('probe', 'same'), true, 'the same context object on every call');
      assert.deepEqual(await client.call('probe', 'shape'), [true, null, 0, 'object']);
      await rejectsWith(client.call('probe', 'detached'), 16);
      await waitFor(() => logger.errors.length === 1, 2000, 'the failure to be logged');
      assert.match(String((logger.errors[0]?.error as Error).message), /context\.emit must be called on the context/);
    } finally {
      await served.close();
    }
  });

  it('broadcasts to every session, one whose connection is down included', async () => {
    const root = makeApps({
      'chat/api/rooms/say.ts': `import type { MethodContext } from ${paths.lib};
export default { parameters: [{ type: 'string' }], handler: (context: MethodContext, text: string) => context.broadcast('rooms', 'said', text) };
`,
    });
    const served = await serve(root);
    const proxy = new Proxy(Number(new URL(served.url).port));
    await proxy.listen();
    try {
      const speaker = await served.connect({ app: 'chat' });
      const listener = await served.connect({
        app: 'chat',
        url: `tcp://127.0.0.1:${proxy.port}`,
        reconnect: { initialDelay: 300, maxDelay: 300, factor: 1, jitter: 0 },
      });
      const detached = once(served.server, 'detach');
      proxy.killAll();
      await detached;
      const heard = once<[{ iface: string; name: string; args: unknown[] }]>(listener, 'event');
      await speaker.call('rooms', 'say', 'while you were away');
      const [event] = await heard;
      assert.deepEqual(event, { iface: 'rooms', name: 'said', args: ['while you were away'] });
    } finally {
      await proxy.close();
      await served.close();
    }
  });

  it('describes itself through $tjstp and inspect', async () => {
    const root = makeApps({
      'chat/api/rooms/join.ts': rooms,
      'chat/api/rooms/leave.js': "module.exports = { access: 'user', handler() {} };\n",
      'chat/api/misc/ping.js': "module.exports = () => 'pong';\n",
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'chat' });
      assert.deepEqual(await client.call('$tjstp', 'interfaces'), ['misc', 'rooms']);
      const all = (await client.call('$tjstp', 'describe')) as Record<string, Record<string, Record<string, unknown>>>;
      assert.deepEqual(Object.keys(all), ['misc', 'rooms']);
      assert.deepEqual(all.misc, { ping: { access: 'public' } });
      assert.deepEqual(all.rooms?.leave, { access: 'user' });
      const join = all.rooms?.join as Record<string, unknown>;
      assert.equal(join.description, 'Joins a room');
      assert.equal(join.access, 'public');
      assert.deepEqual(join.returns, { type: 'string' });
      assert.equal((join.parameters as { title: string }[]).map((p) => p.title).join(), 'room,limit,options');
      assert.deepEqual(Object.keys((await client.call('$tjstp', 'describe', 'misc')) as object), ['misc']);
      await rejectsWith(client.call('$tjstp', 'describe', 'nope'), 12);
      await rejectsWith(client.call('$tjstp', 'describe', 5), 17, 'Invalid argument 1 (iface): must be string');
      await rejectsWith(client.call('$tjstp', 'nope'), 14);
      assert.deepEqual((await client.inspect('rooms')).sort(), ['join', 'leave']);
      assert.deepEqual((await client.inspect('$tjstp')).sort(), ['describe', 'interfaces']);
      await rejectsWith(client.inspect('nope'), 12);
      await rejectsWith(client.call('nope', 'x'), 12);
      await rejectsWith(client.call('rooms', 'nope'), 14);
    } finally {
      await served.close();
    }
  });

  it('hands client events to events/ handlers and reports their failures', async () => {
    const root = makeApps({
      'chat/api/rooms/ping.js': "module.exports = () => 'pong';\n",
      'chat/events/rooms/typing.ts': `export default (context: { emit(i: string, n: string, ...a: unknown[]): void; user: string | null }, who: string) => {
  context.emit('rooms', 'typed', who, context.user);
};
`,
      'chat/events/rooms/broken.js': "module.exports = async () => { throw new Error('handler broke'); };\n",
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'chat' });
      const typed = once<[{ iface: string; name: string; args: unknown[] }]>(client, 'event');
      client.sendEvent('rooms', 'typing', 'ann');
      assert.deepEqual((await typed)[0], { iface: 'rooms', name: 'typed', args: ['ann', null] });
      client.sendEvent('rooms', 'broken');
      client.sendEvent('rooms', 'unhandled');
      await waitFor(() => served.errors.length === 1, 2000, 'the failure report');
      assert.match(served.errors[0]?.message ?? '', /chat@1\.0\.0 event rooms\.broken failed/);
      assert.equal(await client.call('rooms', 'ping'), 'pong');
    } finally {
      await served.close();
    }
  });

  it('runs start and stop hooks; hooks broadcast to sessions', async () => {
    const root = makeApps({
      'app/application.json': JSON.stringify({ config: { greeting: 'hi' } }),
      'app/api/clock/ping.js': "module.exports = () => 'pong';\n",
      'app/lib/ticker.js': 'module.exports = { timer: undefined };\n',
      'app/start.ts': `import ticker from './lib/ticker';
import fs from 'node:fs';
export default async (app: { name: string; version: string; config: Record<string, unknown>; broadcast(i: string, n: string, ...a: unknown[]): void }) => {
  fs.appendFileSync(__dirname + '/hooks.log', \`start \${app.name}@\${app.version} \${app.config.greeting}\\n\`);
  let n = 0;
  ticker.timer = setInterval(() => app.broadcast('clock', 'tick', n++), 10);
};
`,
      'app/stop.js': `const ticker = require('./lib/ticker');
module.exports = async (app) => {
  clearInterval(ticker.timer);
  require('node:fs').appendFileSync(__dirname + '/hooks.log', 'stop ' + app.name + '\\n');
};
`,
    });
    const log = path.join(root, 'app', 'hooks.log');
    const served = await serve(root);
    try {
      await served.loaded.start(served.server);
      assert.equal(fs.readFileSync(log, 'utf8'), 'start app@1.0.0 hi\n');
      const client: Client = await served.connect({ app: 'app' });
      const [tick] = await once<[{ iface: string; name: string; args: unknown[] }]>(client, 'event');
      assert.equal(tick.iface, 'clock');
      assert.equal(tick.name, 'tick');
      await served.loaded.stop();
      assert.equal(fs.readFileSync(log, 'utf8'), 'start app@1.0.0 hi\nstop app\n');
    } finally {
      await served.close();
    }
  });
});
