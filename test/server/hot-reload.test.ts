/**
 * Hot reload: a running server serves changed, added and deleted method
 * files without a restart; calls in flight finish on the old code; a file
 * that fails to load is reported and the old code keeps serving. Each step
 * waits for the reload report, never for a fixed time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RemoteError } from '../../lib/index';
import { gate, makeApps, paths, serve, writeFiles } from './loader-fixtures';

/** Polls an asynchronous condition until it holds. */
const waitFor = async (check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> => {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const isCode = (code: number) => (error: unknown): boolean => error instanceof RemoteError && error.code === code;

describe('hot reload', () => {
  it('serves a changed method at once; a call in flight finishes on the old code', async () => {
    const root = makeApps({
      'chat@1.0.0/api/rooms/hello.ts': "export default (): string => 'hello v1';\n",
      'chat@1.0.0/api/rooms/slow.js': `const { gate } = require(${paths.fixtures});
module.exports = async () => { await gate('reload-in-flight').promise; return 'slow v1'; };
`,
    });
    const served = await serve(root, { watch: true });
    try {
      const client = await served.connect({ app: 'chat' });
      assert.equal(await client.call('rooms', 'hello'), 'hello v1');
      const inFlight = client.call('rooms', 'slow');
      const reported = served.nextReport();
      writeFiles(root, {
        'chat@1.0.0/api/rooms/hello.ts': "export default { returns: { type: 'string' }, handler: (): string => 'hello v2' };\n",
        'chat@1.0.0/api/rooms/slow.js': "module.exports = async () => 'slow v2';\n",
      });
      const report = await reported;
      assert.deepEqual({ ...report, file: undefined }, { app: 'chat', version: '1.0.0', ok: true, file: undefined });
      assert.ok(report.file?.startsWith(path.join(root, 'chat@1.0.0')));
      assert.equal(await client.call('rooms', 'hello'), 'hello v2');
      assert.equal(await client.call('rooms', 'slow'), 'slow v2');
      gate('reload-in-flight').open();
      assert.equal(await inFlight, 'slow v1', 'the call in flight ran the old code');
    } finally {
      await served.close();
    }
  });

  it('adds and deletes methods and interfaces', async () => {
    const root = makeApps({ 'app/api/a/one.js': 'module.exports = () => 1;\n' });
    const served = await serve(root, { watch: true });
    try {
      const client = await served.connect({ app: 'app' });
      let reported = served.nextReport();
      writeFiles(root, { 'app/api/a/two.js': 'module.exports = () => 2;\n', 'app/api/b/three.ts': 'export default () => 3;\n' });
      assert.equal((await reported).ok, true);
      assert.equal(await client.call('a', 'two'), 2);
      assert.equal(await client.call('b', 'three'), 3);
      assert.deepEqual(await client.call('$tjstp', 'interfaces'), ['a', 'b']);
      reported = served.nextReport();
      fs.rmSync(path.join(root, 'app/api/a/one.js'));
      assert.equal((await reported).ok, true);
      await assert.rejects(client.call('a', 'one'), isCode(14));
      assert.deepEqual(await client.inspect('a'), ['two']);
      reported = served.nextReport();
      fs.rmSync(path.join(root, 'app/api/b'), { recursive: true });
      assert.equal((await reported).ok, true);
      await assert.rejects(client.call('b', 'three'), isCode(12));
    } finally {
      await served.close();
    }
  });

  it('reports a broken file and keeps serving the old code until it is fixed', async () => {
    const root = makeApps({
      'app/api/a/f.js': "module.exports = () => 'v1';\n",
      'app/api/a/g.js': "module.exports = () => 'g1';\n",
    });
    const served = await serve(root, { watch: true });
    try {
      const client = await served.connect({ app: 'app' });
      const broken: [string, string, RegExp][] = [
        ['app/api/a/f.js', "module.exports = () => 'v2' +;\n", /SyntaxError/],
        ['app/api/a/f.js', "module.exports = { handler() {}, parameters: [{ type: 'nope' }] };\n", /parameter 1: schema is invalid/],
        ['app/application.json', '{ "version": "2.0.0" }', /cannot change the name or version/],
      ];
      for (const [file, content, message] of broken) {
        let reported = served.nextReport((report) => !report.ok);
        writeFiles(root, { 'app/api/a/g.js': "module.exports = () => 'g2';\n", [file]: content });
        const report = await reported;
        assert.equal(report.ok, false);
        assert.match(String(report.error?.message), message);
        if (!file.endsWith('.json')) assert.equal(report.file, path.join(root, file));
        assert.equal(await client.call('a', 'f'), 'v1', 'the old code serves');
        assert.equal(await client.call('a', 'g'), 'g1', 'nothing of the failed load was applied');
        reported = served.nextReport((report) => report.ok);
        writeFiles(root, { 'app/api/a/f.js': "module.exports = () => 'v1';\n", 'app/api/a/g.js': "module.exports = () => 'g1';\n" });
        fs.rmSync(path.join(root, 'app/application.json'), { force: true });
        await reported;
      }
      writeFiles(root, { 'app/api/a/f.js': "module.exports = () => 'v3';\n" });
      await waitFor(async () => (await client.call('a', 'f')) === 'v3', 'the fixed file to serve');
    } finally {
      await served.close();
    }
  });

  it('reloads config and helpers, and reruns changed hooks', async () => {
    const root = makeApps({
      'app/application.json': JSON.stringify({ config: { greeting: 'hi' } }),
      'app/lib/suffix.ts': "export const suffix = '!';\n",
      'app/api/a/greet.ts': "import { suffix } from '../../lib/suffix';\nexport default (context: { config?: Record<string, unknown> }) => `${context.config?.greeting}${suffix}`;\n",
      'app/start.js': "module.exports = (app) => require('node:fs').appendFileSync(__dirname + '/hooks.log', 'start1 ');\n",
      'app/stop.js': "module.exports = (app) => require('node:fs').appendFileSync(__dirname + '/hooks.log', 'stop1 ');\n",
    });
    const log = path.join(root, 'app', 'hooks.log');
    const served = await serve(root, { watch: true });
    try {
      await served.loaded.start(served.server);
      const client = await served.connect({ app: 'app' });
      assert.equal(await client.call('a', 'greet'), 'hi!');
      let reported = served.nextReport();
      writeFiles(root, {
        'app/application.json': JSON.stringify({ config: { greeting: 'hello' } }),
        'app/lib/suffix.ts': "export const suffix = '?';\n",
      });
      assert.equal((await reported).ok, true);
      assert.equal(await client.call('a', 'greet'), 'hello?');
      assert.equal(fs.readFileSync(log, 'utf8'), 'start1 ', 'hooks untouched by other changes');
      reported = served.nextReport();
      writeFiles(root, { 'app/start.js': "module.exports = () => require('node:fs').appendFileSync(__dirname + '/hooks.log', 'start2 ');\n" });
      assert.equal((await reported).ok, true);
      assert.equal(fs.readFileSync(log, 'utf8'), 'start1 stop1 start2 ');
    } finally {
      await served.close();
    }
    assert.equal(fs.existsSync(log), false, 'cleaned up');
  });

  it('reports a new application directory as needing a restart', async () => {
    const root = makeApps({ 'app/api/a/f.js': 'module.exports = () => 1;\n' });
    const served = await serve(root, { watch: true });
    try {
      const reported = served.nextReport();
      writeFiles(root, { 'other@2.0.0/api/a/f.js': 'module.exports = () => 1;\n', 'README.md': 'not an app' });
      const report = await reported;
      assert.deepEqual([report.app, report.version, report.ok], ['other', '2.0.0', false]);
      assert.match(String(report.error?.message), /restart the server/);
    } finally {
      await served.close();
    }
  });
});
