/**
 * The session file: how `tjstp serve` without a shared store keeps its
 * sessions across a restart. On a graceful stop the server writes every
 * session to the file; on start the next process takes the file, revives
 * the sessions and deletes it.
 *
 * Deleting it matters: a file is true only of the moment it was written.
 * After a crash, reviving an older file would give clients counters the
 * session has since passed; calls would run twice. So a file is used once,
 * and a process that dies without writing one leaves none: its clients
 * are told their sessions are gone (`not_found`), which is honest.
 *
 * The file holds no session id (only its hash) but does hold each
 * session's key and application state: it is written readable by its
 * owner only, atomically (a temporary file renamed over it).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SavedSession } from './session-store.js';

const FORMAT = 'tjstp-sessions';
const VERSION = 1;

/** What a session file held, claimed by this process. */
export interface TakenSessionFile {
  /** The saved sessions, each still to be checked (see `handover.ts`). */
  readonly sessions: readonly unknown[];
  /** When the file was written, ms since the epoch. */
  readonly savedAt: number;
  /** The sessions are served here now: the file goes. */
  commit(): Promise<void>;
  /** They are not (the server failed to start): the file goes back for the next try. */
  abandon(): Promise<void>;
}

/** A session file that could not be read; it was moved aside to `movedTo`. */
export class SessionFileError extends Error {
  readonly movedTo: string | undefined;

  constructor(message: string, movedTo?: string) {
    super(message);
    this.name = 'SessionFileError';
    this.movedTo = movedTo;
  }
}

/** What {@link writeSessionFile} wrote. */
export interface SessionFileReport {
  written: number;
  /** Sessions whose application state could not be serialized: lost. */
  unserializable: number;
  bytes: number;
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Writes the sessions, replacing the file at once or not at all. Each
 * session is serialized on its own, so one whose state cannot be (a cycle,
 * a BigInt) is counted and left out rather than losing the rest.
 */
export const writeSessionFile = async (file: string, sessions: readonly SavedSession[]): Promise<SessionFileReport> => {
  const parts: string[] = [];
  let unserializable = 0;
  for (const session of sessions) {
    try {
      parts.push(JSON.stringify(session));
    } catch {
      unserializable++;
    }
  }
  const text = `{"format":"${FORMAT}","version":${VERSION},"savedAt":${Date.now()},"sessions":[\n${parts.join(',\n')}\n]}\n`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      // On disk before it replaces anything: a power cut leaves one file or the other.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
  } catch (error) {
    // A full disk, say: no half-written file left beside the real one.
    await fs.rm(temporary, { force: true });
    throw error;
  }
  return { written: parts.length, unserializable, bytes: Buffer.byteLength(text) };
};

/**
 * Claims the session file for this process: renamed aside first, so two
 * processes never revive the same sessions, then read. Resolves to null
 * when there is none. A file that cannot be read is moved aside (so the
 * next start is not stuck on it) and reported as a SessionFileError.
 */
export const takeSessionFile = async (file: string): Promise<TakenSessionFile | null> => {
  const claimed = `${file}.${process.pid}.taken`;
  try {
    await fs.rename(file, claimed);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw new SessionFileError(`session file ${file}: ${(error as Error).message}`);
  }
  let contents: unknown;
  try {
    contents = JSON.parse(await fs.readFile(claimed, 'utf8'));
  } catch (error) {
    throw await setAside(claimed, file, (error as Error).message);
  }
  const { format, version, savedAt, sessions } = (contents ?? {}) as Record<string, unknown>;
  if (format !== FORMAT || !Array.isArray(sessions) || typeof savedAt !== 'number') {
    throw await setAside(claimed, file, 'not a tjstp session file');
  }
  if (version !== VERSION) throw await setAside(claimed, file, `format version ${String(version)}, this tjstp reads ${VERSION}`);
  return {
    sessions,
    savedAt,
    commit: () => fs.rm(claimed, { force: true }),
    abandon: async () => {
      // Unless a newer file appeared meanwhile: that one is truer.
      try {
        await fs.link(claimed, file);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      await fs.rm(claimed, { force: true });
    },
  };
};

const setAside = async (claimed: string, file: string, why: string): Promise<SessionFileError> => {
  const aside = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    await fs.rename(claimed, aside);
    return new SessionFileError(`session file ${file}: ${why}; moved to ${aside}, starting without its sessions`, aside);
  } catch {
    return new SessionFileError(`session file ${file}: ${why}; starting without its sessions`);
  }
};
