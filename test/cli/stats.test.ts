/**
 * `tjstp stats` and the REPL's `.stats` as users run them, against a
 * `tjstp serve` child: the table and `--json` for an admin user of an
 * application that allows it (logged in through the application's own
 * method, as tjstp serve has no authenticate hook), a clear refusal and
 * exit 1 elsewhere, 2 for bad usage, 3 when nothing answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { connect, type AdminStats, type Client } from '../../lib/index';
import { startServe, type ServeChild } from '../helpers/serve-child';
import { makeApps } from '../server/loader-fixtures';
import { runCli } from './cli';

const LOGIN = "export default (context, user, password) => { if (password !== 'pw') throw new Error('wrong password'); context.login(user); return user; };\n";

describe('tjstp stats', () => {
  let dir: string;
  let server: ServeChild;
  let url: string;
  const clients: Client[] = [];

  before(async () => {
    dir = makeApps({
      'ops/application.json': JSON.stringify({ name: 'ops', admin: { users: ['root'], stats: true } }),
      'ops/api/auth/login.js': LOGIN.replace('export default', 'module.exports ='),
      'plain/api/auth/login.js': LOGIN.replace('export default', 'module.exports ='),
    });
    server = await startServe(['--applications', dir, '--tcp', '0', '--no-watch'], 1);
    url = server.urls[0] as string;
    // Two sessions of ops besides the one tjstp stats opens, one of plain.
    for (const app of ['ops', 'ops', 'plain']) clients.push(await connect(url, { app, reconnect: false }));
  });

  after(async () => {
    for (const client of clients) client.close();
    server.child.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stats = (args: readonly string[]): ReturnType<typeof runCli> =>
    runCli(args, { command: 'stats', env: { PW: 'pw' } });

  it('prints the table for an admin user who logs in through the application', async () => {
    const run = await stats([url, 'ops', '--login', 'root', '--login-method', 'auth.login', '--password-env', 'PW']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^sessions +4, of them 0 held for a restore$/m);
    assert.match(run.stdout, /^connections +4$/m);
    assert.match(run.stdout, /^memory +[\d.]+ (B|KiB|MiB) of [\d.]+ MiB \([\d.]+ %\)$/m);
    assert.match(run.stdout, /^refusals +none$/m);
    assert.match(run.stdout, /^ops@1\.0\.0 +3 session\(s\), 0 held$/m);
    for (const client of clients) assert.ok(!run.stdout.includes(client.session?.id ?? '\u0000'));
  });

  it('--json: one object, as the server answered it', async () => {
    const run = await stats([url, 'ops', '--login', 'root', '--login-method', 'auth.login', '--password-env', 'PW', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as AdminStats;
    assert.equal(report.sessions, 4);
    assert.deepEqual(report.application, { name: 'ops', versions: { '1.0.0': { sessions: 3, held: 0 } } });
  });

  it('refused where the application does not allow it, or for someone not its admin: exit 1, saying why', async () => {
    const plain = await stats([url, 'plain', '--login', 'root', '--login-method', 'auth.login', '--password-env', 'PW']);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, '');
    assert.match(plain.stderr, /Error 14: the application does not allow stats: its application\.json needs "admin"/);
    const anonymous = await stats([url, 'ops']);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /Error 11: stats are for the application's admin users/);
    const wrong = await runCli([url, 'ops', '--login', 'root', '--login-method', 'auth.login', '--password-env', 'PW'], { command: 'stats', env: { PW: 'nope' } });
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /^tjstp stats: cannot log in to tcp:\S+ \(ops\) with auth\.login: Error 16/);
  });

  it('exit 2 on bad usage, 3 when nothing answers', async () => {
    const usage = await stats([url]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /tjstp stats: expected URL and APP\n\nUsage: tjstp stats URL APP/);
    assert.equal((await stats([url, 'ops', '--login-method', 'auth.login'])).code, 2);
    const help = await stats(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /"admin": \{ "users": \["ops"\], "stats": true \}/);
    const away = await stats(['tcp://127.0.0.1:1', 'ops']);
    assert.equal(away.code, 3);
    assert.match(away.stderr, /^tjstp stats: cannot connect to tcp:\/\/127\.0\.0\.1:1 \(ops\)/);
  });

  it('the REPL .stats: the same report, as a script prints it', async () => {
    const run = await runCli([url, 'ops', '--eval', "auth.login('root', 'pw')", '--eval', '.stats']);
    assert.equal(run.code, 0, run.stderr);
    const [login, report] = run.json as [{ ok: unknown }, { ok: AdminStats }];
    assert.deepEqual(login, { ok: 'root' });
    assert.equal(report.ok.sessions, 4);
    assert.equal(report.ok.application.versions['1.0.0']?.sessions, 3);
    const refused = await runCli([url, 'plain', '--eval', '.stats']);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout + refused.stderr, /does not allow stats/);
  });
});
