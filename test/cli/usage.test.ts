/**
 * The `tjstp` command line as a new user meets it: no command, help, an
 * unknown command, and `connect`'s flags, each with its exit code (2 for
 * bad usage, 0 for help).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScript } from '../helpers/script';
import { CLI } from './cli';

const tjstp = (...args: string[]): ReturnType<typeof runScript> => runScript(CLI, args, 8000);

describe('the tjstp command line', () => {
  it('prints the usage on stderr and exits 2 without a command', async () => {
    const run = await tjstp();
    assert.deepEqual([run.code, run.stdout], [2, '']);
    assert.match(run.stderr, /^Usage: tjstp <command>/);
  });

  it('prints the usage on stdout and exits 0 for help, --help and -h', async () => {
    for (const flag of ['help', '--help', '-h']) {
      const run = await tjstp(flag);
      assert.deepEqual([run.code, run.stderr], [0, ''], flag);
      assert.match(run.stdout, /^Usage: tjstp <command>/, flag);
    }
  });

  it('exits 2 for an unknown command', async () => {
    const run = await tjstp('serv');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown command "serv"/);
  });

  it('connect: --help exits 0; an unknown flag or a missing value exits 2 with a clear message', async () => {
    const help = await tjstp('connect', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tjstp connect URL APP/);
    const unknown = await tjstp('connect', 'tcp://127.0.0.1:1', 'app', '--bogus');
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'tjstp connect: unknown option --bogus (tjstp connect --help shows the usage)\n');
    const missing = await tjstp('connect', 'tcp://127.0.0.1:1', 'app', '--login');
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'tjstp connect: --login needs a value (tjstp connect --help shows the usage)\n');
  });
});
