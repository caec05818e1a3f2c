/**
 * The package as users install it: packed once with `npm pack`, linted by
 * publint and @arethetypeswrong/cli, unpacked and checked for what it must
 * carry (both builds, source maps with their sources, the bundled
 * applications with their application.json), imported as an ES module and
 * required as CommonJS in child processes, bundled for a browser by esbuild
 * to prove that the ES build tree-shakes (`RemoteError` alone must not pull
 * in the client) and that the root entry is not for pages, and compiled
 * against by consumer projects under node16, bundler and a page's settings.
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

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/*
 * The consumer projects' sources, put together per project below. Each
 * sample compiles only while the package's types are right: `exactly`
 * fails on `any` (which `Equal` matches to nothing but `any`), and a
 * `@ts-expect-error` with no error under it is an error of its own.
 */
const equality = `
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const exactly = <Check extends true>(): Check | undefined => undefined;
`;
const serverImports = "import { Server, connect, RemoteError, defineApplication, type ApiOf, type MethodContext } from 'tjstp';";

/** An in-code application served and called through `typeof shop` and `ApiOf`. */
const inCode = `
export const shop = defineApplication({
  name: 'shop',
  api: {
    cart: {
      add: (context: MethodContext, item: string, count = 1) => {
        context.emit('cart', 'changed', count);
        return count + item.length;
      },
      fail: () => {
        throw new RemoteError(1001, 'Sold out');
      },
    },
  },
});

export const serveAndCall = async (): Promise<number | undefined> => {
  const server = new Server({ applications: [shop] });
  const [listener] = await server.listen({ host: '127.0.0.1', tcp: 0 });
  const client = await connect<typeof shop>(listener.url, { app: 'shop' });
  const total = await client.api.cart.add('apple', 2);
  exactly<Equal<typeof total, number>>();
  // @ts-expect-error: the item is a string
  await client.api.cart.add(42);
  const failure: unknown = await client.api.cart.fail().catch((error: unknown) => error);
  const events = await connect<ApiOf<typeof shop, { cart: { changed: [count: number] } }>>(listener.url, { app: 'shop' });
  events.onEvent('cart.changed', (count) => exactly<Equal<typeof count, number>>());
  // @ts-expect-error: the shop sends no such event
  events.onEvent('cart.emptied', () => undefined);
  client.close();
  events.close();
  await server.close();
  return failure instanceof RemoteError ? failure.code : undefined;
};
`;

/** A call through the declarations `tjstp types` wrote (api.d.ts, imported as `ChatApi` by the file). */
const generated = (connectWith: 'connect' | 'connectBrowser'): string => `
export const chat = async (url: string): Promise<unknown> => {
  const client = await ${connectWith}<ChatApi>(url, { app: 'chat' });
  const id = await client.api.rooms.say('lobby', 'hi');
  exactly<Equal<typeof id, number>>();
  // @ts-expect-error: the text is a string
  await client.api.rooms.say('lobby', 42);
  client.onEvent('rooms.message', (message) => exactly<Equal<typeof message.text, string>>());
  const failure: unknown = await client.call('rooms', 'say', 'lobby', 'hi').catch((error: unknown) => error);
  client.close();
  return failure;
};
`;

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
      'applications/chat/api/rooms/say.ts', 'client/package.json', 'LICENSE',
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

  /*
   * Consumer projects, type-checked by tsc against the installed package
   * (found in <work>/project/node_modules, never the repository's sources),
   * one tsc each, side by side. Each must compile; a failure shows tsc's
   * diagnostics. The Node projects skip the declarations' own check (as
   * most projects do): attw covers their resolution, and the page's project
   * checks the client's declarations in full.
   */
  describe('type-checks consumer projects against the installed package', { concurrency: true }, () => {
    const consumers = (): string => path.join(work, 'project', 'consumers');
    const shipped = (file: string): string => path.join(unpacked, file);

    before(async () => {
      fs.mkdirSync(consumers());
      await run(process.execPath, [shipped('dist/bin/tjstp.js'), 'types', '--applications', shipped('applications'), '--out', path.join(consumers(), 'api.d.ts')]);
    });

    /** Writes the project (with api.d.ts and a tsconfig of `options`), runs tsc, and returns the files it read. */
    const typeCheck = async (name: string, options: Record<string, unknown>, files: Record<string, string>): Promise<string[]> => {
      const dir = path.join(consumers(), name);
      fs.mkdirSync(dir);
      fs.copyFileSync(path.join(consumers(), 'api.d.ts'), path.join(dir, 'api.d.ts'));
      const tsconfig = { compilerOptions: { target: 'ES2022', strict: true, noEmit: true, ...options }, include: ['*.ts', '*.cts'] };
      for (const [file, text] of Object.entries({ 'tsconfig.json': JSON.stringify(tsconfig, null, 2), ...files })) {
        fs.writeFileSync(path.join(dir, file), text);
      }
      const outcome = await run(process.execPath, [tsc, '-p', '.', '--pretty', 'false', '--listFiles'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 })
        .then(({ stdout }) => ({ failed: false, stdout, stderr: '' }),
          (error: { stdout?: string; stderr?: string }) => ({ failed: true, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }));
      const lines = outcome.stdout.split('\n').filter((line) => line !== '');
      const diagnostics = lines.filter((line) => !path.isAbsolute(line));
      assert.ok(!outcome.failed && diagnostics.length === 0, `tsc on the ${name} consumer:\n${diagnostics.join('\n')}\n${outcome.stderr}`);
      const read = lines.filter((line) => path.isAbsolute(line));
      assert.ok(!read.some((file) => file.startsWith(path.join(root, 'lib')) || file.startsWith(path.join(root, 'dist'))), 'nothing of the repository is read');
      return read;
    };

    it('node16 modules: an ES module (`./api.js`) and a .cts, each reading its own build\'s declarations', async () => {
      const read = await typeCheck('node16', { module: 'node16', moduleResolution: 'node16', types: ['node'], skipLibCheck: true }, {
        'package.json': '{ "type": "module" }\n',
        'consumer.ts': `${serverImports}\nimport type { ChatApi } from './api.js';\n${equality}${inCode}${generated('connect')}`,
        'consumer.cts': `${serverImports}\n${equality}${inCode}`,
      });
      assert.ok(read.includes(shipped('dist/esm/index.d.ts')), 'the ES module reads the ES declarations');
      assert.ok(read.includes(shipped('dist/lib/index.d.ts')), 'the .cts reads the CommonJS declarations');
    });

    it('bundler resolution: the in-code application and the generated declarations', async () => {
      const read = await typeCheck('bundler', { module: 'esnext', moduleResolution: 'bundler', types: ['node'], skipLibCheck: true }, {
        'consumer.ts': `${serverImports}\nimport type { ChatApi } from './api';\n${equality}${inCode}${generated('connect')}`,
      });
      assert.ok(read.includes(shipped('dist/esm/index.d.ts')));
    });

    it('a page: tjstp/client compiles with the DOM and without Node types, its declarations checked too', async () => {
      const page = `${generated('connectBrowser')}
export const show = async (): Promise<void> => {
  const failure = await chat(\`wss://\${location.host}/\`);
  document.title = failure instanceof RemoteError ? \`failed with \${failure.code}\` : 'ok';
};
`;
      const read = await typeCheck('browser', {
        module: 'esnext', moduleResolution: 'bundler', customConditions: ['browser'], lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false,
      }, { 'page.ts': `import { connectBrowser, RemoteError } from 'tjstp/client';\nimport type { ChatApi } from './api';\n${equality}${page}` });
      assert.ok(read.includes(shipped('dist/esm/client/index.d.ts')), 'the page reads the client\'s declarations');
      const unwanted = read.filter((file) => /[\\/]@types[\\/]node[\\/]|[\\/]dist[\\/]esm[\\/]index\.d\.ts$/.test(file));
      assert.equal(unwanted.length, 0, `no Node types, no server, yet it read ${unwanted.slice(0, 3).join(', ')}…`);
    });
  });
});
