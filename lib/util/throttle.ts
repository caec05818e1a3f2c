/**
 * Keeps a stream of log lines a stranger can provoke (refused restores,
 * evictions) from filling the disk: the first `burst` lines of each
 * `interval` go out as they come, the rest are counted and reported in
 * one line when the interval ends.
 */
export class LogThrottle<Fields = undefined> {
  readonly #burst: number;
  readonly #interval: number;
  readonly #write: (line: string, fields?: Fields) => void;
  #windowStart = 0;
  #written = 0;
  #suppressed = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `write` gets each line, with the fields given to `log` (none for a summary). */
  constructor(write: (line: string, fields?: Fields) => void, burst = 10, interval = 10_000) {
    this.#write = write;
    this.#burst = burst;
    this.#interval = interval;
  }

  log(line: string, fields?: Fields, now = Date.now()): void {
    if (now - this.#windowStart >= this.#interval) {
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#burst) {
      this.#written++;
      this.#write(line, fields);
      return;
    }
    this.#suppressed++;
    this.#timer ??= setTimeout(() => this.#flush(), this.#windowStart + this.#interval - now).unref();
  }

  #flush(): void {
    this.#timer = undefined;
    const count = this.#suppressed;
    this.#suppressed = 0;
    if (count > 0) this.#write(`… and ${count} more like it in the last ${this.#interval / 1000} s`);
  }
}
