/**
 * Runs every compiled `*.test.js` under dist/test with node's test runner.
 * Node 20 neither expands globs for `--test` nor tells tests from helpers
 * in a directory, hence this list. Extra arguments go to `node --test`.
 * Every test gets 4 minutes: a test that hangs fails with its name instead
 * of stalling the run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = __dirname;
const files = fs
  .readdirSync(root, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.js'))
  .sort()
  .map((file) => path.join(root, file));

const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=240000', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
child.once('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
