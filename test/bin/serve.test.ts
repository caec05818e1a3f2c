/**
 * `tjstp serve` as users run it: a child process that prints one line per
 * listener with the port it bound, serves the bundled application, and
 * stops cleanly on SIGTERM.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect } from '../../lib/index';

const bin = path.join(__dirname, '..', '..', 'bin', 'tjstp.js');

it('serves the example application on the ports it prints, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [bin, 'serve', '--tcp', '0', '--ws', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const urls = await new Promise<string[]>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const lines = output.split('\n').filter((line) => line.startsWith('listening '));
        if (lines.length === 2) resolve(lines.map((line) => line.slice('listening '.length)));
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    assert.match(urls[0] as string, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.match(urls[1] as string, /^ws:\/\/127\.0\.0\.1:\d+$/);
    for (const url of urls) {
      const client = await connect(url, { app: 'example' });
      assert.equal(await client.call('calc', 'add', 2, 3), 5);
      assert.equal(await client.call('counter', 'increment'), 1);
      assert.equal(await client.call('counter', 'increment'), 2);
      client.close();
    }
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});

it('prints usage and fails on an unknown command', async () => {
  const child = spawn(process.execPath, [bin, 'frobnicate'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /unknown command "frobnicate"/);
  assert.match(stderr, /Usage: tjstp serve/);
});
