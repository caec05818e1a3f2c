/**
 * The package as users install it: packed once with `npm pack`, linted by
 * publint and @arethetypeswrong/cli, unpacked and checked for what it must
 * carry (both builds, source maps with their sources, the bundled
 * applications with their application.json), imported as an ES module in
 * a child process, and bundled for a browser by esbuild to prove that the
 * ES build tree-shakes: `RemoteError` alone must not pull in the client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');
const bin = (name: string): string => path.join(root, 'node_modules', '.bin', name);

describe('the published package', { timeout: 120_000 }, () => {
  let work = '';
  let tarball = '';
  let unpacked = '';

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tjstp-package-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root });
    tarball = path.join(work, stdout.trim().split('\n').pop() as string);
    // Installed as a dependency of a project, so that `tjstp/client` resolves through `exports`.
    unpacked = path.join(work, 'project', 'node_modules', 'tjstp');
    fs.mkdirSync(unpacked, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
    // Its dependencies are the repository's, as npm would have installed them.
    for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
      if (name === '.bin' || name === 'tjstp') continue;
      fs.symlinkSync(path.join(root, 'node_modules', name), path.join(work, 'project', 'node_modules', name));
    }
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('passes publint with warnings as errors', async () => {
    const { stdout } = await run(bin('publint'), ['run', tarball, '--strict', '--pack', 'false']);
    assert.match(stdout, /All good/);
  });

  it('has right types for every entry point and resolution mode (arethetypeswrong)', async () => {
    const result = await run(bin('attw'), [tarball, '--format', 'json']).catch((error: { stdout?: string }) => error);
    const report = JSON.parse(result.stdout ?? '{}') as { analysis?: { problems?: unknown[]; entrypoints?: Record<string, unknown> } };
    assert.deepEqual(report.analysis?.problems, [], JSON.stringify(report.analysis?.problems, null, 1));
    assert.deepEqual(Object.keys(report.analysis?.entrypoints ?? {}).sort(), ['.', './client', './package.json']);
  });

  it('ships both builds, the browser bundle, the applications, and source maps that carry their sources', () => {
    for (const file of [
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/esm/client/index.js',
      'dist/browser/tjstp-client.js', 'dist/bin/tjstp.js', 'applications/chat/application.json',
      'applications/chat/api/rooms/say.ts', 'client/package.json',
    ]) assert.ok(fs.existsSync(path.join(unpacked, file)), `${file} is shipped`);
    assert.ok(!fs.existsSync(path.join(unpacked, 'dist/test')), 'tests are not shipped');
    const maps = ['dist/lib/client/client.js.map', 'dist/esm/client/client.js.map', 'dist/browser/tjstp-client.js.map'];
    for (const file of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(unpacked, file), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      assert.ok(map.sources.length > 0, file);
      assert.equal(map.sourcesContent?.length, map.sources.length, `${file} embeds its sources`);
      assert.ok(map.sourcesContent.every((text) => typeof text === 'string' && text.length > 0), `${file} embeds every source`);
    }
  });

  /**
   * Runs a program in the project that serves an in-code application and
   * calls it through the installed package: `imports` bring `Server`,
   * `connect`, `RemoteError` (from `tjstp`) and `Client` (from
   * `tjstp/client`), `resolve` names the file an import specifier loads.
   */
  const smoke = async (file: string, imports: string, resolve: string): Promise<unknown> => {
    const script = path.join(work, 'project', file);
    fs.writeFileSync(script, `${imports}
      (async () => {
        const server = new Server({ logger: { info() {}, warn() {}, error() {} }, applications: [{ name: 'a', version: '1.0.0',
          api: { math: { add: (context, x, y) => x + y, fail: () => { throw new RemoteError(1001, 'no'); } } } }] });
        const [listener] = await server.listen({ host: '127.0.0.1', tcp: 0 });
        const client = await connect(listener.url, { app: 'a' });
        const sum = await client.call('math', 'add', 2, 3);
        const failure = await client.call('math', 'fail').catch((error) => error);
        const entries = ['tjstp', 'tjstp/client'].map((name) => String(${resolve}).replace(/^.*node_modules[\\\\/]tjstp[\\\\/]/, ''));
        console.log(JSON.stringify({ sum, code: failure.code, remote: failure instanceof RemoteError, client: client instanceof Client, entries }));
        client.close();
        await server.close();
      })().catch((error) => { console.error(error); process.exitCode = 1; });
    `);
    const { stdout } = await run(process.execPath, [script], { cwd: path.dirname(script), timeout: 20_000 });
    return JSON.parse(stdout.trim());
  };

  it('imports as an ES module and serves a call with the ES build on both ends', async () => {
    const imports = "import { Server, connect, RemoteError } from 'tjstp';\nimport { Client } from 'tjstp/client';";
    assert.deepEqual(await smoke('smoke.mjs', imports, 'import.meta.resolve(name)'),
      { sum: 5, code: 1001, remote: true, client: true, entries: ['dist/esm/index.js', 'dist/esm/client/index.js'] });
  });

  it('requires as CommonJS and serves a call with the CommonJS build on both ends', async () => {
    const imports = "const { Server, connect, RemoteError } = require('tjstp');\nconst { Client } = require('tjstp/client');";
    assert.deepEqual(await smoke('smoke.cjs', imports, 'require.resolve(name)'),
      { sum: 5, code: 1001, remote: true, client: true, entries: ['dist/lib/index.js', 'dist/lib/client/index.js'] });
  });

  it('tree-shakes for a browser: RemoteError alone is small, the whole client has no Node built-in, the root entry is not for pages', async (t) => {
    const esbuild = await import(path.join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
    const size = async (source: string): Promise<{ minified: number; gzipped: number }> => {
      const result = await (esbuild as typeof import('esbuild')).build({
        stdin: { contents: source, resolveDir: path.join(work, 'project'), loader: 'js' },
        bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
      });
      const code = (result.outputFiles[0] as { contents: Uint8Array }).contents;
      return { minified: code.length, gzipped: zlib.gzipSync(code, { level: 9 }).length };
    };
    const alone = await size("import { RemoteError } from 'tjstp/client'; console.log(new RemoteError(1001));");
    const whole = await size("import { connectBrowser } from 'tjstp/client'; console.log(connectBrowser);");
    t.diagnostic(`bundle sizes (minified/gzipped bytes): RemoteError ${alone.minified}/${alone.gzipped}, client ${whole.minified}/${whole.gzipped}`);
    assert.ok(alone.minified < 4_000, `RemoteError alone is ${alone.minified} bytes minified`);
    assert.ok(whole.minified > 10 * alone.minified, 'the whole client is much bigger: the small one was shaken');
    assert.ok(whole.gzipped < 24_000, `the client is ${whole.gzipped} bytes gzipped`);
    // The root entry point has no `browser` condition: a tool that turns it on by default (Jest's jsdom
    // environment) would otherwise swap `Server` for the client without a word. A page imports
    // `tjstp/client`; bundling `tjstp` for one fails at once, on the server's Node built-ins.
    const viaRoot = await size("import { connectBrowser } from 'tjstp'; console.log(connectBrowser);")
      .then(() => undefined, (error: { errors?: { text: string }[] }) => error);
    const unresolved = (viaRoot?.errors ?? []).map((error) => error.text);
    assert.ok(unresolved.some((text) => /^Could not resolve "node:[a-z_]+"$/.test(text)), `bundling tjstp for a page: ${unresolved.slice(0, 3).join('; ') || 'no error'}`);
  });
});
