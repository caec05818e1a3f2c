/**
 * Evaluates an application's files as CommonJS modules, fresh on every
 * load: Node's require cache would keep serving the old code after a hot
 * reload. TypeScript (and JavaScript written with `import`/`export`) is
 * transpiled first (./transpile.ts).
 *
 * Relative requires that stay inside the application directory go through
 * the same loader (so helpers are fresh too, may be TypeScript, and are
 * shared by every file of one load). `tjstp` and `tjstp/client` are the
 * copy of tjstp serving the application, wherever the files are and
 * whatever is installed near them. Anything else — packages, Node
 * built-ins, files outside — is Node's `require` from the file's location.
 *
 * This is not a sandbox: application code runs with the server's rights.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
// Circular (the index exports the loader): read only when an application requires it, never while modules evaluate.
import * as tjstp from '../../index.js';
import * as tjstpClient from '../../client/index.js';
import { LoadError, evaluatedPosition, loadFailureReason } from './load-error.js';
import type { Transpiler } from './transpile.js';

export { LoadError };

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
  readonly #transpiler: Transpiler;
  readonly #modules = new Map<string, LoadedModule>();

  /** `root`: the application directory; relative requires inside it load fresh. */
  constructor(root: string, transpiler: Transpiler) {
    this.#root = path.resolve(root);
    this.#transpiler = transpiler;
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
    let source: string | undefined;
    let code: string | undefined;
    try {
      source = fs.readFileSync(filename, 'utf8');
      if (filename.endsWith('.json')) {
        module.exports = JSON.parse(source);
      } else {
        code = filename.endsWith('.ts') || esmSyntax.test(source) ? this.#transpiler.transpile(filename, source) : source;
        const run = vm.compileFunction(code, wrapperParameters, { filename });
        run.call(module.exports, module.exports, this.#requireFor(filename), module, filename, path.dirname(filename));
      }
    } catch (error) {
      this.#modules.delete(filename);
      // A helper's error names the helper, not the file that required it.
      if (error instanceof LoadError) throw error;
      let position = evaluatedPosition(error, filename);
      if (position && source !== undefined && code !== source) position = this.#transpiler.original(filename, source, position);
      throw new LoadError(filename, loadFailureReason(error), { cause: error, position });
    }
    module.loaded = true;
    return module.exports;
  }

  #requireFor(filename: string): NodeJS.Require {
    const nodeRequire = createRequire(filename);
    const local = (specifier: string): unknown => {
      if (specifier === 'tjstp') return tjstp;
      if (specifier === 'tjstp/client') return tjstpClient;
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
