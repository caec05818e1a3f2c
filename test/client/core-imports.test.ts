/**
 * The client core must run in browsers and React Native: no Node built-in
 * may be imported by it, directly or through anything it imports.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const lib = path.join(__dirname, '..', '..', '..', 'lib');
const entry = path.join(lib, 'client', 'index.ts');

const importsOf = (file: string): string[] => {
  const source = fs.readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((match) => match[1] as string);
};

it('the client core imports no Node built-ins and no Node-only packages', () => {
  const seen = new Set<string>();
  const offending: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) {
        visit(path.resolve(path.dirname(file), `${specifier}.ts`));
      } else {
        offending.push(`${path.relative(lib, file)} imports ${specifier}`);
      }
    }
  };
  visit(entry);
  assert.ok(seen.size >= 8, `walked the client core (${seen.size} files)`);
  assert.ok(seen.has(path.join(lib, 'session', 'peer.ts')));
  assert.deepEqual(offending, []);
});
