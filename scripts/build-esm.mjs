// After the two tsc runs: marks dist/esm as ES modules and bundles the
// browser client (one file a page can load with <script type="module">,
// served by `tjstp serve --http`). esbuild is a devDependency: the bundle
// is made here, at build time, and shipped.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const moduleScope = '{\n  "type": "module",\n  "sideEffects": false\n}\n';
fs.writeFileSync(path.join(root, 'dist/esm/package.json'), moduleScope);
fs.mkdirSync(path.join(root, 'dist/browser'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist/browser/package.json'), moduleScope);
await build({
  entryPoints: [path.join(root, 'lib/client/index.ts')],
  outfile: path.join(root, 'dist/browser/tjstp-client.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  sourcesContent: true,
  legalComments: 'none',
  logLevel: 'warning',
});
