/**
 * The README's Quick start runs as written: its code block, with only the
 * `from 'tjstp'` import pointed at the built ES modules, in a child process
 * while ports 3000 and 8000 (those of `npm start`) are taken. It must print
 * what it says and exit by itself.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { transformSync } from 'esbuild';
import { runScript } from './helpers/script';

const ROOT = path.join(__dirname, '..', '..');

/** The first ```ts block under `heading`. */
const codeBlock = (markdown: string, heading: string): string => {
  const section = markdown.slice(markdown.indexOf(`\n${heading}\n`));
  const block = /```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
  assert.ok(block !== undefined, `a ts block under ${heading}`);
  return block;
};

/** Holds `port` on 127.0.0.1 as `npm start` would; null when something already does, which holds it as well. */
const occupy = (port: number): Promise<net.Server | null> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(null) : reject(error)));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('README', () => {
  it('Quick start runs as written beside npm start: prints 1 and exits 0', async () => {
    const code = codeBlock(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), '## Quick start');
    assert.match(code, /from 'tjstp';/);
    const built = pathToFileURL(path.join(ROOT, 'dist', 'esm', 'index.js')).href;
    const js = transformSync(code, { loader: 'ts', format: 'esm', target: 'es2022' }).code.replace(/from "tjstp";/, `from ${JSON.stringify(built)};`);
    assert.ok(js.includes(built), 'the import was pointed at the build');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-readme-'));
    const blockers = await Promise.all([3000, 8000].map(occupy));
    try {
      const file = path.join(dir, 'quick-start.mjs');
      fs.writeFileSync(file, js);
      const run = await runScript(file, [], 15_000);
      assert.equal(run.code, 0, `exited by itself, without an error (null: killed after 15 s)\n${run.stderr}`);
      assert.deepEqual(run.stdout.split('\n').filter((line) => line !== '').sort(), ['1', 'cart changed [ 1 ]']);
    } finally {
      for (const blocker of blockers) blocker?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
