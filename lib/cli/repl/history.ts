/**
 * The interactive history, kept across runs in a file: oldest line first,
 * like a shell's. `TJSTP_HISTORY` names the file (empty: no history),
 * `TJSTP_HISTORY_SIZE` caps it. The file is private to its owner: lines
 * may hold arguments people would rather not share.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Where the history lives and how long it gets. */
export interface HistoryFile {
  /** undefined: history is not kept. */
  path: string | undefined;
  size: number;
}

const DEFAULT_SIZE = 1000;

/** Reads the settings from the environment. */
export const historyFile = (env: NodeJS.ProcessEnv, homedir: string): HistoryFile => {
  const size = Number(env.TJSTP_HISTORY_SIZE);
  const limit = Number.isInteger(size) && size >= 0 ? size : DEFAULT_SIZE;
  const file = env.TJSTP_HISTORY ?? path.join(homedir, '.tjstp_history');
  return { path: file === '' || limit === 0 ? undefined : file, size: limit };
};

/** The saved lines, newest first (readline's order); empty when there are none. */
export const loadHistory = (history: HistoryFile): string[] => {
  if (history.path === undefined) return [];
  try {
    const lines = fs.readFileSync(history.path, 'utf8').split('\n').filter((line) => line.trim() !== '');
    return lines.slice(-history.size).reverse();
  } catch {
    return [];
  }
};

/**
 * Writes `lines` (newest first). Errors are returned, not thrown: losing
 * history must never end a session.
 */
export const saveHistory = (history: HistoryFile, lines: readonly string[]): Error | undefined => {
  if (history.path === undefined) return undefined;
  try {
    const text = lines.slice(0, history.size).reverse().join('\n');
    fs.writeFileSync(history.path, text === '' ? '' : `${text}\n`, { mode: 0o600 });
    return undefined;
  } catch (error) {
    return error as Error;
  }
};
