/**
 * Turns TypeScript, and JavaScript written with `import`/`export`, into the
 * CommonJS the loader evaluates, with sucrase: types removed and imports
 * turned into requires in one pass, about 0.3 ms a file, and a dependency
 * of tjstp, so applications in TypeScript need nothing installed.
 *
 * Not Node's own type stripping (22.6+): the loader evaluates every file as
 * fresh CommonJS for hot reload, so `import` would still need converting,
 * and strip-only mode rejects enums and parameter properties.
 *
 * Options, and why:
 * - `disableESTransforms`: Node 20 runs ES2022 as written; lowering class
 *   fields or `?.` would only move code and change class field semantics.
 * - `keepUnusedImports` off: imports used only as types are dropped, as
 *   tsc does, so `import { MethodContext } from 'tjstp'` requires nothing.
 * - No source maps while loading: sucrase keeps every line where it was, so
 *   stack traces name the right line. Only a load error maps its column
 *   back, transpiling the file once more with a map (errors are rare).
 * - No `jsx` transform, so `production` and `jsxRuntime` (JSX-only) do not
 *   apply; `.tsx` is not an application file.
 */
import { SourceMap, type SourceMapPayload, type SourceMapping } from 'node:module';
import type * as Sucrase from 'sucrase';
import { LoadError, type Position } from './load-error.js';

export interface Transpiler {
  /** CommonJS for `source`; throws a LoadError at the position of a syntax error. */
  transpile(filename: string, source: string): string;
  /** Where `position` in the transpiled code of `source` is in `source`. */
  original(filename: string, source: string, position: Position): Position;
}

let loading: Promise<Transpiler> | undefined;

/**
 * The transpiler, loaded on first use (sucrase takes ~60 ms to load, which
 * a process using tjstp only as a client should not pay).
 */
export const loadTranspiler = (): Promise<Transpiler> => {
  loading ??= import('sucrase').then((sucrase) => createTranspiler(sucrase));
  return loading;
};

const options = (filename: string): Sucrase.Options => ({
  // A .js file is JavaScript: TypeScript syntax in it is an error, as for Node.
  transforms: filename.endsWith('.ts') ? ['typescript', 'imports'] : ['imports'],
  filePath: filename,
  disableESTransforms: true,
});

/** sucrase's syntax errors: `Error transforming <file>: <reason> (<line>:<column>)`, with `loc`. */
const isSucraseError = (error: unknown): error is Error & { loc: { line: number; column: number } } =>
  error instanceof Error && typeof (error as { loc?: { line?: unknown } }).loc?.line === 'number';

/**
 * sucrase parses `(a: T) => …` by trying an arrow function and, when
 * anything in its body fails, reports the error at the arrow: the real one
 * is further on. (In `function` syntax it reports the right place.)
 */
const ARROW_HINT = ' (somewhere in the arrow function that starts here)';

/**
 * Whether sucrase's `loc` points at the `=>` of a complete parameter list
 * (`) =>`): an error right at an arrow that follows anything else, such as
 * `(x: number =>`, is where it says.
 */
const atArrow = (source: string, loc: { line: number; column: number }): boolean => {
  const line = source.split('\n', loc.line)[loc.line - 1] ?? '';
  const at = [loc.column - 1, loc.column].find((column) => line.startsWith('=>', column));
  return at !== undefined && line.slice(0, at).trimEnd().endsWith(')');
};

const createTranspiler = (sucrase: typeof Sucrase): Transpiler => {
  /** Transpiled code by file, reused while the source is unchanged. */
  const transpiled = new Map<string, { source: string; code: string }>();
  return {
    transpile(filename, source) {
      const known = transpiled.get(filename);
      if (known?.source === source) return known.code;
      let code: string;
      try {
        code = sucrase.transform(source, options(filename)).code;
      } catch (error) {
        if (!isSucraseError(error)) throw error;
        const reason = error.message.replace(/^Error transforming [^]*?: /, '').replace(/ \(\d+:\d+\)$/, '');
        throw new LoadError(filename, `SyntaxError: ${reason}${atArrow(source, error.loc) ? ARROW_HINT : ''}`, { cause: error, position: error.loc });
      }
      transpiled.set(filename, { source, code });
      return code;
    },
    original(filename, source, position) {
      if (position.column === undefined) return position;
      const { sourceMap } = sucrase.transform(source, { ...options(filename), sourceMapOptions: { compiledFilename: filename } });
      if (!sourceMap) return { line: position.line };
      const entry: Partial<SourceMapping> = new SourceMap(sourceMap as unknown as SourceMapPayload).findEntry(position.line - 1, position.column - 1);
      // Lines stay where they were; a column without a mapping on its line is unknown. The token
      // mapped is where the error is: V8 points at tokens, and a rewritten one (an import become a
      // require) has no column of its own to offset from.
      if (entry.generatedLine !== position.line - 1 || entry.originalColumn === undefined || entry.originalLine === undefined) {
        return { line: position.line };
      }
      return { line: entry.originalLine + 1, column: entry.originalColumn + 1 };
    },
  };
};
