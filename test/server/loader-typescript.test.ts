/**
 * TypeScript application files as sucrase turns them into CommonJS: the
 * syntax applications use, imports used only as types requiring nothing,
 * `tjstp` being the serving copy, and load errors pointing at the line and
 * column of the source as written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LoadError, loadApplications } from '../../lib/server/loader/index';
import { makeApps, paths, serve } from './loader-fixtures';

describe('TypeScript applications', () => {
  it('loads type-only imports and exports, enums, satisfies, parameter properties, export = and import = require', async () => {
    const root = makeApps({
      'app/api/ts/features.ts': [
        "import { RemoteError, type MethodContext, type MethodDefinition } from 'tjstp';",
        "import type { Missing } from 'a-package-nobody-installed';",
        "import { OnlyAType } from 'another-package-nobody-installed';",
        "import helper = require('../../lib/legacy');",
        "import { Shade, Point } from '../../lib/shapes';",
        'export type Unused = Missing | OnlyAType;',
        'const enum Local { Answer = 42 }',
        'export default {',
        "  parameters: [{ title: 'n', type: 'integer' }],",
        '  handler: (_context: MethodContext, n: number) => {',
        "    if (n < 0) throw new RemoteError(1042, 'negative');",
        '    const point = new Point(n, Local.Answer);',
        '    return [Shade.Dark, Shade[Shade.Light], point.sum(), helper.twice(n)];',
        '  },',
        '} satisfies MethodDefinition;',
      ].join('\n'),
      'app/lib/shapes.ts': [
        "export enum Shade { Light, Dark = 'dark' }",
        'export class Point {',
        '  declare tag: string;',
        '  constructor(readonly x: number, private readonly y: number) {}',
        '  sum(): number { return this.x + this.y; }',
        '}',
      ].join('\n'),
      'app/lib/legacy.ts': 'export = { twice: (n: number): number => n * 2 };\n',
      'app/api/ts/same.ts': [
        "import * as namespace from 'tjstp';",
        "import { RemoteError } from 'tjstp';",
        "import { connect } from 'tjstp/client';",
        `const served = require(${paths.lib});`,
        `const servedClient = require(${JSON.stringify(path.resolve(__dirname, '../../lib/client/index'))});`,
        'export default () => [namespace.RemoteError === served.RemoteError, RemoteError === served.RemoteError, connect === servedClient.connect];',
      ].join('\n'),
      'app/api/ts/plain.ts': "export = (_context: unknown, text: string): string => text.toUpperCase();\n",
    });
    const served = await serve(root);
    try {
      const client = await served.connect({ app: 'app' });
      assert.deepEqual(await client.call('ts', 'features', 3), ['dark', 'Light', 45, 6]);
      await assert.rejects(client.call('ts', 'features', -1), (error: { code?: number; message?: string }) => error.code === 1042 && error.message === 'negative');
      assert.deepEqual(await client.call('ts', 'same'), [true, true, true], 'tjstp is the copy serving the application');
      assert.equal(await client.call('ts', 'plain', 'abc'), 'ABC', 'export = is the default export');
    } finally {
      await served.close();
    }
  });

  // [what, files, the failing file, its message after the path]
  const failing: [string, Record<string, string>, string, string][] = [
    ['a top-level throw, after type annotations', {
      'app/api/a/f.ts': "import type { MethodContext } from 'tjstp';\nconst limit: number = 3;\nif (limit > 2) throw new Error('too many: ' + limit);\nexport default (_c: MethodContext) => limit;\n",
    }, 'app/api/a/f.ts', ":3:22: Error: too many: 3"],
    ['a package that is not installed', {
      'app/api/a/f.ts': "const id: string = 'x';\nimport { thing } from 'not-installed-anywhere';\nexport default () => thing + id;\n",
    }, 'app/api/a/f.ts', ":2:1: Error: Cannot find module 'not-installed-anywhere'"],
    ['a syntax error only V8 finds', {
      'app/api/a/f.ts': "export default () => 1;\nconst twice: number = 1;\nconst twice: string = '2';\n",
    }, 'app/api/a/f.ts', ":3:7: SyntaxError: Identifier 'twice' has already been declared"],
    ['a TypeScript syntax error in a helper', {
      'app/api/a/f.ts': "import { h } from '../../lib/h';\nexport default h;\n",
      'app/lib/h.ts': 'export const h = 1;\nexport const broken = (x: number => x;\n',
    }, 'app/lib/h.ts', ':2:34: SyntaxError: Unexpected token, expected ","'],
    ['TypeScript syntax in a .js file', {
      'app/api/a/f.js': "import fs from 'node:fs';\nexport default (x: number) => fs && x;\n",
    }, 'app/api/a/f.js', ':2:18: SyntaxError: Unexpected token, expected ","'],
    ['a thrown string', { 'app/api/a/f.js': "throw 'not an error';\n" }, 'app/api/a/f.js', ': threw not an error'],
    // sucrase reports an error in a typed arrow function's body at the arrow: the message says so.
    ['a syntax error in the body of a typed arrow function', {
      'app/api/a/f.ts': "import type { MethodContext } from 'tjstp';\nexport default (context: MethodContext, n: number) => {\n  const y = n +;\n  return y;\n};\n",
    }, 'app/api/a/f.ts', ':2:52: SyntaxError: Unexpected token, expected ";" (somewhere in the arrow function that starts here)'],
  ];
  for (const [what, files, file, expected] of failing) {
    it(`reports ${what} at its line and column, in one line`, async () => {
      const root = makeApps(files);
      try {
        await assert.rejects(loadApplications(root), (error: unknown) => {
          assert.ok(error instanceof LoadError, String(error));
          assert.equal(error.message, `${path.join(root, file)}${expected}`);
          assert.equal(error.describe(root), `${file}${expected}`);
          return true;
        });
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
