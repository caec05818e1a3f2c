/**
 * Loading applications from a directory: names and versions from the
 * layout, TypeScript and JavaScript modules, load errors that name the
 * file, and the handshake choosing among versions side by side.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RemoteError } from '../../lib/index';
import { LoadError, loadApplications } from '../../lib/server/loader/index';
import { makeApps, serve } from './loader-fixtures';

const versionMethod = "module.exports = (context) => context.config.tag ?? 'none';\n";

describe('application layout', () => {
  it('takes names and versions from directories and application.json', async () => {
    const root = makeApps({
      'plain/api/a/f.js': versionMethod,
      'chat@2.1.0/api/a/f.js': versionMethod,
      'renamed/application.json': JSON.stringify({ name: 'store', version: '3.0.0', description: 'Shop', config: { tag: 'x' } }),
      'renamed/api/a/f.js': versionMethod,
      'empty/application.json': '{}',
      'not-an-app/README.md': 'helpers only',
      '.hidden/api/a/f.js': versionMethod,
    });
    try {
      const { applications } = await loadApplications(root);
      const found = applications.map((app) => `${app.name}@${app.version}`).sort();
      assert.deepEqual(found, ['chat@2.1.0', 'empty@1.0.0', 'plain@1.0.0', 'store@3.0.0']);
      const store = applications.find((app) => app.name === 'store');
      assert.equal(store?.description, 'Shop');
      assert.deepEqual(store?.config, { tag: 'x' });
      assert.deepEqual(store?.interfaces(), ['a']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('loads TypeScript and JavaScript methods, helpers and packages', async () => {
    const root = makeApps({
      'app/api/math/double.ts': [
        "import { twice } from '../../lib/twice';",
        "import path from 'node:path';",
        'interface Context { config?: Record<string, unknown> }',
        'export default {',
        "  parameters: [{ title: 'n', type: 'number' }],",
        '  handler: (_context: Context, n: number): number => twice(n) + path.sep.length - 1,',
        '};',
      ].join('\n'),
      'app/lib/twice.ts': 'export const twice = (n: number): number => n * 2;\nexport const loads = { count: 0 };\n',
      'app/api/math/triple.js': "const { loads } = require('../../lib/twice');\nloads.count++;\nmodule.exports = (_c, n) => n * 3;\n",
      'app/api/math/square.js': "import { loads } from '../../lib/twice.js';\nloads.count++;\nexport default (_c, n) => n * n;\n",
      'app/api/math/loads.js': "module.exports = () => require('../../lib/twice').loads.count;\n",
      'app/api/math/config.cjs': "const data = require('../../data.json');\nmodule.exports = () => data.answer;\n",
      'app/data.json': '{ "answer": 42 }',
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'app' });
      assert.equal(await client.call('math', 'double', 4), 8);
      assert.equal(await client.call('math', 'triple', 4), 12);
      assert.equal(await client.call('math', 'square', 4), 16);
      assert.equal(await client.call('math', 'loads'), 2, 'one helper instance per load');
      assert.equal(await client.call('math', 'config'), 42);
      assert.deepEqual((await client.inspect('math')).sort(), ['config', 'double', 'loads', 'square', 'triple']);
    } finally {
      await served.close();
    }
  });

  const failing: [string, Record<string, string>, string, RegExp][] = [
    ['a syntax error', { 'app/api/a/f.js': 'module.exports = (;\n' }, 'app/api/a/f.js', /f\.js:1:19: SyntaxError: Unexpected token ';'$/],
    ['a TypeScript syntax error', { 'app/api/a/f.ts': 'export default (x: number => x;\n' }, 'app/api/a/f.ts', /f\.ts:1:27: SyntaxError: Unexpected token, expected ","$/],
    ['a module that throws', { 'app/api/a/f.js': "throw new Error('no config');\n" }, 'app/api/a/f.js', /Error: no config/],
    ['a helper that throws', {
      'app/api/a/f.js': "require('../../lib/h');\nmodule.exports = () => 1;\n",
      'app/lib/h.ts': "throw new Error('helper broke');\n",
    }, 'app/lib/h.ts', /helper broke/],
    ['an unknown definition key', { 'app/api/a/f.js': 'module.exports = { handler() {}, acess: "user" };\n' }, 'app/api/a/f.js', /unknown key acess/],
    ['a definition without handler', { 'app/api/a/f.js': 'module.exports = { access: "user" };\n' }, 'app/api/a/f.js', /handler must be a function/],
    ['a bad access', { 'app/api/a/f.js': 'module.exports = { handler() {}, access: "admin" };\n' }, 'app/api/a/f.js', /access must be/],
    ['a schema that does not compile', {
      'app/api/a/f.js': 'module.exports = { handler() {}, parameters: [{ type: "string" }, { type: "strin" }] };\n',
    }, 'app/api/a/f.js', /parameter 2: schema is invalid/],
    ['a default that fails its schema', {
      'app/api/a/f.js': 'module.exports = { handler() {}, parameters: [{ type: "integer", default: "x" }] };\n',
    }, 'app/api/a/f.js', /default does not match/],
    ['a bad returns schema', { 'app/api/a/f.js': 'module.exports = { handler() {}, returns: { minimum: "1" } };\n' }, 'app/api/a/f.js', /returns: /],
    ['two files for one method', { 'app/api/a/f.js': versionMethod, 'app/api/a/f.ts': versionMethod }, 'app/api/a/f.ts', /f\.js defines "f" too/],
    ['the reserved interface', { 'app/api/$tjstp/f.js': versionMethod }, 'app', /reserved/],
    ['a file directly in api/', { 'app/api/f.js': versionMethod }, 'app/api/f.js', /a directory per interface/],
    ['a non-function event handler', { 'app/api/a/f.js': versionMethod, 'app/events/a/e.js': 'module.exports = 1;\n' }, 'app/events/a/e.js', /must be a function/],
    ['an ES module without default export', { 'app/api/a/f.ts': 'export const f = 1;\n' }, 'app/api/a/f.ts', /no default export/],
    ['invalid application.json', { 'app/application.json': '{ "version": "one" }' }, 'app/application.json', /semver/],
    ['an unknown application.json key', { 'app/application.json': '{ "confg": {} }' }, 'app/application.json', /unknown key/],
    ['versions that disagree', { 'app@1.0.0/application.json': '{ "version": "2.0.0" }' }, 'app@1.0.0/application.json', /differs/],
    ['a bad directory version', { 'app@one/api/a/f.js': versionMethod }, 'app@one', /not a semver version/],
    ['one version in two directories', {
      'app@1.0.0/api/a/f.js': versionMethod,
      'other/application.json': '{ "name": "app" }',
    }, 'other', /app@1\.0\.0 is also in/],
  ];
  for (const [what, files, file, message] of failing) {
    it(`reports ${what}, naming the file`, async () => {
      const root = makeApps(files);
      try {
        await assert.rejects(loadApplications(root), (error: unknown) => {
          assert.ok(error instanceof LoadError, String(error));
          assert.equal(error.file, path.join(root, file));
          assert.match(error.message, message);
          assert.ok(error.message.startsWith(path.join(root, file)), error.message);
          return true;
        });
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  }
});

describe('versions side by side', () => {
  it('the handshake picks the newest, an exact version or a range; none matching is error 10', async () => {
    const root = makeApps({
      'chat@1.0.0/application.json': '{ "config": { "tag": "1.0.0" } }',
      'chat@1.0.0/api/info/version.js': versionMethod,
      'chat@1.2.0/application.json': '{ "config": { "tag": "1.2.0" } }',
      'chat@1.2.0/api/info/version.js': versionMethod,
      'chat/application.json': '{ "version": "2.0.0", "config": { "tag": "2.0.0" } }',
      'chat/api/info/version.js': versionMethod,
    });
    const served = await serve(root);
    try {
      const versionOf = async (options: { app: string; version?: string }): Promise<unknown> => {
        const client = await served.connect(options);
        return client.call('info', 'version');
      };
      assert.equal(await versionOf({ app: 'chat' }), '2.0.0');
      assert.equal(await versionOf({ app: 'chat@1.2.0' }), '1.2.0');
      assert.equal(await versionOf({ app: 'chat@1.0.0' }), '1.0.0');
      assert.equal(await versionOf({ app: 'chat', version: '^1.0.0' }), '1.2.0');
      assert.equal(await versionOf({ app: 'chat', version: '~1.0.0' }), '1.0.0');
      for (const options of [{ app: 'chat', version: '3.x' }, { app: 'chat@1.1.0' }, { app: 'nope' }]) {
        await assert.rejects(served.connect({ ...options, reconnect: false }), (error: unknown) => error instanceof RemoteError && error.code === 10);
      }
    } finally {
      await served.close();
    }
  });
});
