/**
 * Runs a compiled Node script (the bench and soak harnesses, the CLI) as its own
 * process, and reads the results it wrote: one `.json` beside its `.md`.
 */
import { execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

export interface ScriptRun {
  /** The exit code; null when it was killed (its time limit passed). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export const runScript = (file: string, args: readonly string[], timeoutMs: number): Promise<ScriptRun> =>
  new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });

/** The JSON results written to `dir`, failing unless the Markdown report is there too. */
export const readResults = <T>(dir: string): T => {
  const files = fs.readdirSync(dir);
  const json = files.find((file) => file.endsWith('.json'));
  assert.ok(json && files.includes(json.replace(/\.json$/, '.md')), `results written: ${files.join(', ')}`);
  return JSON.parse(fs.readFileSync(path.join(dir, json), 'utf8')) as T;
};
