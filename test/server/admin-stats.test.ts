/**
 * `$tjstp.stats()`: answered only to an application's admin users when
 * its application.json allows it, with the server's numbers and the
 * application's sessions by version, right as sessions come, detach and
 * end; never a session id. Refused otherwise: 14 where the application
 * does not offer it, 11 for anyone but its admin users.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Application, type AdminStats, type Client } from '../../lib/index';
import { ErrorCode } from '../../lib/protocol/errors';
import { waitFor } from '../helpers/fixtures';
import { openTcp } from '../helpers/raw';
import { makeApps, serve } from './loader-fixtures';

const authenticate = ({ credentials }: { credentials: unknown }): string | null => {
  const [user, password] = credentials as [string, string];
  return password === 'pw' ? user : null;
};

const apps = (): string =>
  makeApps({
    'ops/application.json': JSON.stringify({ name: 'ops', admin: { users: ['root'], stats: true } }),
    'ops/api/a/ping.ts': "export default () => 'pong';\n",
    'other/api/a/ping.ts': "export default () => 'pong';\n",
  });

const refusedWith = (code: number, pattern: RegExp) => (error: { code?: number; message?: string }): boolean =>
  error.code === code && pattern.test(error.message ?? '');

describe('$tjstp.stats', () => {
  it('an admin user reads the server and its application, right after sessions open, detach and end; no id in it', async () => {
    const served = await serve(apps(), { server: { authenticate } });
    try {
      const admin = await served.connect({ app: 'ops', login: { user: 'root', password: 'pw' } });
      const others: Client[] = [];
      for (let i = 0; i < 3; i++) others.push(await served.connect({ app: 'ops' }));
      await served.connect({ app: 'other' });
      // One ends (closed by its client), one is cut off: held for a restore.
      others[0]?.close();
      const port = Number(new URL(served.url).port);
      const raw = await openTcp(port);
      raw.send(JSON.stringify({ handshake: [0, 'ops'] }));
      await raw.waitMessage((message) => Array.isArray(message.handshake));
      raw.destroy();
      await waitFor(() => served.server.stats().held === 1 && served.server.stats().sessions === 5, 2000, 'one ended, one held');
      const stats = (await admin.call('$tjstp', 'stats')) as AdminStats;
      const server = served.server.stats();
      assert.equal(stats.sessions, 5, JSON.stringify(stats));
      assert.equal(stats.held, 1);
      assert.equal(stats.connections, server.connections);
      assert.equal(stats.memory.limit, server.memory.limit);
      assert.ok(stats.memory.used > 0);
      assert.deepEqual(stats.refusals, {});
      assert.deepEqual(stats.application, { name: 'ops', versions: { '1.0.0': { sessions: 4, held: 1 } } });
      assert.ok(Math.abs(Date.parse(stats.at) - Date.now()) < 5000);
      const text = JSON.stringify(stats);
      for (const session of served.server.sessions.values()) assert.ok(!text.includes(session.key.slice(0, 8)));
      for (const client of [admin, ...others.slice(1)]) assert.ok(!text.includes(client.session?.id ?? '\u0000'));
    } finally {
      await served.close();
    }
  });

  it('refuses everyone else: 11 for an anonymous or non-admin session, 14 where the application does not allow it', async () => {
    const served = await serve(apps(), { server: { authenticate } });
    try {
      const anonymous = await served.connect({ app: 'ops' });
      await assert.rejects(anonymous.call('$tjstp', 'stats'), refusedWith(ErrorCode.AUTH_FAILED, /admin users of ops/));
      const someone = await served.connect({ app: 'ops', login: { user: 'ann', password: 'pw' } });
      await assert.rejects(someone.call('$tjstp', 'stats'), refusedWith(ErrorCode.AUTH_FAILED, /admin users/));
      // root is an admin of ops, not of other.
      const elsewhere = await served.connect({ app: 'other', login: { user: 'root', password: 'pw' } });
      await assert.rejects(elsewhere.call('$tjstp', 'stats'), refusedWith(ErrorCode.METHOD_NOT_FOUND, /does not offer \$tjstp\.stats/));
      const admin = await served.connect({ app: 'ops', login: { user: 'root', password: 'pw' } });
      await assert.rejects(admin.call('$tjstp', 'stats', 1), refusedWith(ErrorCode.INVALID_SIGNATURE, /Too many arguments/));
    } finally {
      await served.close();
    }
  });

  it('a bad admin setting is refused where it is written: application.json or the definition', async () => {
    const dir = makeApps({ 'ops/application.json': JSON.stringify({ admin: { users: 'root', stats: true } }), 'ops/api/a/ping.ts': 'export default () => 1;\n' });
    await assert.rejects(serve(dir), /application\.json: admin users must be a list of user names/);
    assert.throws(() => new Application({ name: 'x', api: {}, admin: { users: ['root'], stats: 'yes' as unknown as boolean } }), /admin: stats must be true or false/);
    assert.throws(() => new Application({ name: 'x', api: {}, admin: { users: ['root'], all: true } as never }), /unknown key\(s\) all/);
  });
});
