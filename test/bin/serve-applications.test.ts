/**
 * Applications away from the repository, as users have them: the bundled
 * chat copied where no `tjstp` package is installed, served by `tjstp
 * serve`; load errors printed as one line, at start and on reload; and the
 * ES module build loading applications, with a RemoteError of the
 * CommonJS build thrown by one of them reaching the client with its code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, type Client } from '../../lib/index';
import { writeFiles } from '../server/loader-fixtures';
import { BIN, ROOT, startServe } from '../helpers/serve-child';

/** Runs node with `args`; resolves with the exit code and what was printed. */
const runNode = (args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: os.tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });

/** A temp directory with no node_modules in it or anywhere above it. */
const isolatedDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-isolated-'));
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    assert.ok(!fs.existsSync(path.join(at, 'node_modules')), `${at}/node_modules exists: the test needs a directory without one above it`);
    if (path.dirname(at) === at) break;
  }
  return dir;
};

describe('applications outside the repository', () => {
  it('the bundled chat copied where no tjstp is installed serves through tjstp serve', async () => {
    const dir = isolatedDir();
    fs.cpSync(path.join(ROOT, 'applications', 'chat'), path.join(dir, 'chat'), { recursive: true });
    const server = await startServe(['--applications', dir, '--tcp', '0', '--no-watch'], 1);
    let client: Client | undefined;
    try {
      assert.match(server.output(), /serving chat@1\.0\.0/);
      client = await connect(server.urls[0] as string, { app: 'chat', reconnect: false });
      assert.deepEqual(await client.call('rooms', 'join', 'lobby'), []);
      assert.equal(typeof (await client.call('rooms', 'say', 'lobby', 'hello from a copy')), 'number');
      // The RemoteError the copied files import is the serving tjstp's: its code reaches the client.
      await assert.rejects(client.call('rooms', 'say', 'elsewhere', 'hi'), (error: { code?: number; message?: string }) =>
        error.code === 1001 && error.message === 'Join elsewhere first');
    } finally {
      client?.close();
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file that fails to load stops tjstp serve with one line: file, line:column, reason', async () => {
    const dir = isolatedDir();
    writeFiles(dir, {
      'shop/api/cart/add.ts': "import type { MethodContext } from 'tjstp';\nconst limit: number = 3;\nif (limit > 2) throw new Error('too many: ' + limit);\nexport default (_c: MethodContext) => limit;\n",
    });
    try {
      const { code, stderr } = await runNode([BIN, 'serve', '--applications', dir, '--tcp', '0', '--no-session-file']);
      assert.equal(code, 1);
      assert.equal(stderr, `tjstp serve: ${path.join('shop', 'api', 'cart', 'add.ts')}:3:22: Error: too many: 3\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a reload that fails is one line too, and the previous code keeps serving', async () => {
    const dir = isolatedDir();
    writeFiles(dir, { 'shop/api/cart/count.ts': 'export default (): number => 1;\n' });
    const server = await startServe(['--applications', dir, '--tcp', '0'], 1);
    let client: Client | undefined;
    try {
      client = await connect(server.urls[0] as string, { app: 'shop', reconnect: false });
      assert.equal(await client.call('cart', 'count'), 1);
      writeFiles(dir, { 'shop/api/cart/count.ts': "import { missing } from 'no-such-package';\nexport default (): number => missing;\n" });
      const line = `error: reload of shop@1.0.0 failed, the previous version keeps serving: ${path.join('shop', 'api', 'cart', 'count.ts')}:1:1: Error: Cannot find module 'no-such-package'`;
      await server.printed(/reload of shop@1\.0\.0 failed/);
      const reported = server.output().split('\n').filter((text) => text.startsWith('error:') || /^\s+at /.test(text));
      assert.deepEqual(reported, [line]);
      assert.equal(await client.call('cart', 'count'), 1);
    } finally {
      client?.close();
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the ES module build', () => {
  it('loads the applications and serves them; a RemoteError of the CommonJS build thrown there keeps its code', async () => {
    const dir = isolatedDir();
    const cjs = path.join(ROOT, 'dist', 'lib', 'index.js');
    writeFiles(dir, {
      'apps/mixed/api/errors/other.js': `const { RemoteError } = require(${JSON.stringify(cjs)});\nmodule.exports = () => { throw new RemoteError(1077, 'from the CommonJS copy'); };\n`,
      'serve.mjs': [
        'const [esm, bundled, apps] = process.argv.slice(2);',
        'const { loadApplications, Server, connect, silentLogger } = await import(esm);',
        'const results = [];',
        'for (const [dir, app, calls] of [[bundled, "chat", [["rooms", "join", "lobby"], ["rooms", "say", "lobby", "hi"]]], [apps, "mixed", [["errors", "other"]]]]) {',
        '  const loaded = await loadApplications(dir);',
        '  const server = new Server({ applications: loaded.applications, logger: silentLogger });',
        '  const [listener] = await server.listen({ tcp: 0 });',
        '  const client = await connect(listener.url, { app, reconnect: false });',
        '  for (const [iface, method, ...args] of calls) {',
        '    results.push(await client.call(iface, method, ...args).catch((error) => ({ code: error.code, message: error.message })));',
        '  }',
        '  client.close();',
        '  await loaded.stop();',
        '  await server.close();',
        '}',
        'console.log(JSON.stringify(results));',
      ].join('\n'),
    });
    try {
      const esm = pathToFileURL(path.join(ROOT, 'dist', 'esm', 'index.js')).href;
      const { code, stdout, stderr } = await runNode([path.join(dir, 'serve.mjs'), esm, path.join(ROOT, 'applications'), path.join(dir, 'apps')]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), [[], 1, { code: 1077, message: 'from the CommonJS copy' }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
