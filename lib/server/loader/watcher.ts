/**
 * Watches the applications directory (one recursive `fs.watch`) and reports
 * changes per top-level entry — one application directory — once they
 * settle, so an editor's burst of writes, or a `git checkout`, reloads an
 * application once rather than once per event.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface WatcherOptions {
  /** Quiet time before a batch is reported, ms. Default 100. */
  delay?: number;
  /** `entry`: the top-level name (`chat@2.0.0`); `files`: absolute paths that changed. */
  onChange(entry: string, files: readonly string[]): void;
  onError(error: Error): void;
}

export class DirectoryWatcher {
  readonly #root: string;
  readonly #options: WatcherOptions;
  readonly #watcher: fs.FSWatcher;
  readonly #pending = new Map<string, { timer?: ReturnType<typeof setTimeout>; files: Set<string> }>();

  constructor(root: string, options: WatcherOptions) {
    this.#root = root;
    this.#options = options;
    this.#watcher = fs.watch(root, { recursive: true }, (_event, filename) => {
      if (filename) this.#changed(filename.toString());
    });
    this.#watcher.on('error', (error: Error) => options.onError(error));
  }

  close(): void {
    this.#watcher.close();
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }

  #changed(filename: string): void {
    const segments = filename.split(path.sep);
    // Editors' swap and backup files, and installed packages, are not the application.
    if (segments.some((segment) => segment.startsWith('.') || segment === 'node_modules') || filename.endsWith('~')) return;
    const entry = segments[0] as string;
    const batch = this.#pending.get(entry) ?? { files: new Set<string>() };
    clearTimeout(batch.timer);
    batch.files.add(path.join(this.#root, filename));
    batch.timer = setTimeout(() => {
      this.#pending.delete(entry);
      this.#options.onChange(entry, [...batch.files]);
    }, this.#options.delay ?? 100);
    this.#pending.set(entry, batch);
  }
}
