/**
 * A RemoteError from another copy of tjstp (one an application bundles)
 * is recognised by its brand, not `instanceof`: the client gets its code
 * and message, not an internal error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { capturingLogger, makeApps, paths, serve, writeFiles } from './loader-fixtures';

describe('RemoteError of another copy', () => {
  it('thrown by a method, reaches the client with its code and message', async () => {
    // A fresh copy of the module file: a class of its own, the same brand.
    const root = makeApps({});
    const copy = path.join(root, 'copy', 'errors.js');
    writeFiles(root, {
      'copy/errors.js': fs.readFileSync(path.resolve(__dirname, '../../lib/protocol/errors.js'), 'utf8'),
      'app/api/a/fail.js': [
        `const { RemoteError } = require(${JSON.stringify(copy)});`,
        `const served = require(${paths.lib});`,
        'module.exports = () => {',
        "  if (RemoteError === served.RemoteError) return 'the same class: nothing tried';",
        "  throw new RemoteError(1099, 'from another copy', ['detail']);",
        '};',
      ].join('\n'),
    });
    const logger = capturingLogger();
    const served = await serve(root, { server: { logger } });
    try {
      const client = await served.connect({ app: 'app' });
      await assert.rejects(client.call('a', 'fail'), (error: { code?: number; message?: string; info?: unknown[] }) => {
        assert.equal(error.code, 1099);
        assert.equal(error.message, 'from another copy');
        assert.deepEqual(error.info, ['detail']);
        return true;
      });
      assert.deepEqual(logger.errors, [], 'not logged as a failure');
    } finally {
      await served.close();
    }
  });
});

describe('instanceof across copies of tjstp', () => {
  it("holds for tjstp's error classes by brand, and only for the right class", () => {
    const here = require('../../lib/protocol/errors') as typeof import('../../lib/protocol/errors');
    // The ES build is another copy with classes of its own, as a program loading both builds has.
    const file = path.resolve(__dirname, '../../../dist/esm/protocol/errors.js');
    const fresh = new Function('file', 'return import(file)') as (file: string) => Promise<typeof here>;
    return fresh(file).then((other) => {
      assert.notEqual(other.RemoteError, here.RemoteError, 'two copies');
      const remote = new other.RemoteError(1001, 'no');
      const lost = new other.SessionLostError('expired');
      const unknown = new other.OutcomeUnknownError('expired');
      const protocol = new other.ProtocolError('bad');
      assert.ok(remote instanceof here.RemoteError && remote instanceof here.TjstpError);
      assert.ok(lost instanceof here.SessionLostError && !(lost instanceof here.OutcomeUnknownError));
      assert.ok(unknown instanceof here.OutcomeUnknownError && unknown instanceof here.SessionLostError);
      assert.ok(protocol instanceof here.ProtocolError && !(protocol instanceof here.RemoteError));
      assert.ok(!(remote instanceof here.SessionLostError) && !(new Error('x') instanceof here.TjstpError));
      assert.ok(!({ code: 1 } instanceof here.RemoteError), 'a look-alike without the brand is not one');
      // A subclass an application makes has no brand: the usual prototype check.
      class Mine extends here.RemoteError {}
      assert.ok(new Mine(1) instanceof Mine && new Mine(1) instanceof here.RemoteError);
      assert.ok(!(new here.RemoteError(1) instanceof Mine));
    });
  });
});
