/**
 * The client core must run in browsers and React Native: no Node built-in
 * may be imported by it, directly or through anything it imports. The one
 * package it uses, @noble/hashes (the restore proof's HMAC), is walked too,
 * as a bundler would for a browser (its `browser` field).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const lib = path.join(__dirname, '..', '..', '..', 'lib');
const entry = path.join(lib, 'client', 'index.ts');

/** Packages the core may import: their own graphs are walked below. */
const allowedPackages = ['@noble/hashes'];

/** The files a browser build of `specifier` pulls in, and what they require that is not a file. */
const walkPackage = (specifier: string, seen: Set<string>, outside: string[]): void => {
  const [scope = '', name = '', ...rest] = specifier.split('/');
  const root = path.join(lib, '..', 'node_modules', scope, name);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { browser?: Record<string, string> };
  const browserPath = (subpath: string): string => {
    const mapped = manifest.browser?.[`./${subpath}`] ?? `./${subpath}.js`;
    return path.join(root, mapped.endsWith('.js') ? mapped : `${mapped}.js`);
  };
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const [, required] of source.matchAll(/require\("([^"]+)"\)/g)) {
      const target = required as string;
      if (target.startsWith('.')) visit(path.resolve(path.dirname(file), target.endsWith('.js') ? target : `${target}.js`));
      else if (target.startsWith(`${scope}/${name}/`)) visit(browserPath(target.slice(scope.length + name.length + 2)));
      else outside.push(`${path.relative(root, file)} requires ${target}`);
    }
  };
  visit(browserPath(rest.join('/')));
};

const importsOf = (file: string): string[] => {
  const source = fs.readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1] as string);
};

it('the client core imports no Node built-ins and no Node-only packages', () => {
  const seen = new Set<string>();
  const packageFiles = new Set<string>();
  const offending: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) {
        // The sources import with `.js`, as ES modules must: the file is the `.ts` beside it.
        visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else if (allowedPackages.some((name) => specifier.startsWith(`${name}/`))) {
        walkPackage(specifier, packageFiles, offending);
      } else {
        offending.push(`${path.relative(lib, file)} imports ${specifier}`);
      }
    }
  };
  visit(entry);
  assert.ok(seen.size >= 8, `walked the client core (${seen.size} files)`);
  assert.ok(seen.has(path.join(lib, 'session', 'peer.ts')));
  assert.ok(packageFiles.size >= 4, `walked @noble/hashes (${packageFiles.size} files)`);
  assert.deepEqual(offending, []);
});
