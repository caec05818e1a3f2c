/**
 * Evaluates an application's files as CommonJS modules, fresh on every
 * load: Node's require cache would keep serving the old code after a hot
 * reload. TypeScript (and JavaScript written with `import`/`export`) is
 * transpiled with `typescript.transpileModule`, loaded only when such a file
 * is found.
 *
 * Relative requires that stay inside the application directory go through
 * the same loader (so helpers are fresh too, may be TypeScript, and are
 * shared by every file of one load); anything else — packages, Node
 * built-ins, files outside — is Node's `require` from the file's location.
 *
 * This is not a sandbox: application code runs with the server's rights.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import type * as TypeScript from 'typescript';

/** A file of an application that could not be loaded; `file` is its absolute path. */
export class LoadError extends Error {
  readonly file: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.file = file;
    this.name = 'LoadError';
  }
}

interface LoadedModule {
  exports: unknown;
  readonly id: string;
  readonly filename: string;
  loaded: boolean;
}

const wrapperParameters = ['exports', 'require', 'module', '__filename', '__dirname'];
const localExtensions = ['.ts', '.js', '.cjs', '.json'];
const esmSyntax = /^\s*(?:import|export)\b/m;

/** Loads the files of one load of one application. */
export class ModuleLoader {
  readonly #root: string;
  readonly #modules = new Map<string, LoadedModule>();

  /** `root`: the application directory; relative requires inside it load fresh. */
  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  /** The file's default export: `export default`, else `module.exports`. */
  loadDefault(filename: string): unknown {
    const exports = this.load(filename);
    if (typeof exports === 'object' && exports !== null && (exports as { __esModule?: unknown }).__esModule) {
      if (!('default' in exports)) throw new LoadError(filename, 'has no default export');
      return (exports as { default: unknown }).default;
    }
    return exports;
  }

  /** The file's `module.exports`, evaluated once per loader. */
  load(filename: string): unknown {
    const known = this.#modules.get(filename);
    if (known) return known.exports;
    const module: LoadedModule = { exports: {}, id: filename, filename, loaded: false };
    // Cached before it runs, so circular requires see the partial exports, as in Node.
    this.#modules.set(filename, module);
    try {
      this.#evaluate(module);
    } catch (error) {
      this.#modules.delete(filename);
      // A helper's error names the helper, not the file that required it.
      if (error instanceof LoadError) throw error;
      throw new LoadError(filename, describeFailure(error), { cause: error });
    }
    module.loaded = true;
    return module.exports;
  }

  #evaluate(module: LoadedModule): void {
    const { filename } = module;
    const source = fs.readFileSync(filename, 'utf8');
    if (filename.endsWith('.json')) {
      module.exports = JSON.parse(source);
      return;
    }
    const code = filename.endsWith('.ts') || esmSyntax.test(source) ? transpile(filename, source, this.#root) : source;
    const run = vm.compileFunction(code, wrapperParameters, { filename });
    run.call(module.exports, module.exports, this.#requireFor(filename), module, filename, path.dirname(filename));
  }

  #requireFor(filename: string): NodeJS.Require {
    const nodeRequire = createRequire(filename);
    const local = (specifier: string): unknown => {
      if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
        const target = this.#resolveLocal(path.resolve(path.dirname(filename), specifier));
        if (target !== undefined) return this.load(target);
      }
      return nodeRequire(specifier);
    };
    return Object.assign(local, {
      resolve: nodeRequire.resolve,
      cache: nodeRequire.cache,
      main: nodeRequire.main,
      extensions: nodeRequire.extensions,
    });
  }

  /** A file inside the application, with Node's extension rules plus `.ts` (and `./x.js` meaning `x.ts`). */
  #resolveLocal(base: string): string | undefined {
    if (base !== this.#root && !base.startsWith(this.#root + path.sep)) return undefined;
    const candidates = [base, ...localExtensions.map((extension) => base + extension)];
    if (base.endsWith('.js')) candidates.push(`${base.slice(0, -3)}.ts`);
    candidates.push(...localExtensions.map((extension) => path.join(base, `index${extension}`)));
    return candidates.find(isFile);
  }
}

const isFile = (file: string): boolean => fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;

/** What went wrong, with the line for syntax errors (V8 puts it in the stack). */
const describeFailure = (error: unknown): string => {
  if (!(error instanceof Error)) return `threw ${String(error)}`;
  if (error instanceof SyntaxError) {
    const where = /:(\d+)\n/.exec(error.stack ?? '');
    return `${where ? `line ${where[1]}: ` : ''}SyntaxError: ${error.message}`;
  }
  return `${error.name}: ${error.message}`;
};

/** Transpiled code by file, reused while the source is unchanged. */
const transpiled = new Map<string, { source: string; code: string }>();
let typescript: typeof TypeScript | undefined;

const loadTypeScript = (filename: string, root: string): typeof TypeScript => {
  if (typescript) return typescript;
  for (const from of [__filename, path.join(root, 'package.json')]) {
    try {
      typescript = createRequire(from)('typescript') as typeof TypeScript;
      return typescript;
    } catch {
      // Try the next location.
    }
  }
  throw new LoadError(filename, 'TypeScript and import/export syntax need the "typescript" package: npm install typescript');
};

const transpile = (filename: string, source: string, root: string): string => {
  const known = transpiled.get(filename);
  if (known?.source === source) return known.code;
  const ts = loadTypeScript(filename, root);
  const output = ts.transpileModule(source, {
    fileName: filename,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  const problem = output.diagnostics?.find((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  if (problem) {
    const text = ts.flattenDiagnosticMessageText(problem.messageText, '\n');
    const line = problem.file && problem.start !== undefined
      ? `line ${problem.file.getLineAndCharacterOfPosition(problem.start).line + 1}: `
      : '';
    throw new LoadError(filename, `${line}${text}`);
  }
  transpiled.set(filename, { source, code: output.outputText });
  return output.outputText;
};
