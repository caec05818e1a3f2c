/**
 * Printing above the line being typed. Events, results and status lines
 * arrive at any moment; each one erases the prompt and the half-typed
 * input, prints, and draws them again with the cursor where it was, so
 * typing goes on undisturbed.
 */
import readline from 'node:readline';

/** A stream that may batch writes (a TTY or socket does). */
type Output = NodeJS.WritableStream & { cork?(): void; uncork?(): void };

export class Screen {
  readonly #rl: readline.Interface;
  readonly #output: Output;
  #prompting = false;
  #closed = false;
  #printed = 0;

  readonly #terminal: boolean;

  /** @param terminal - false when the output is not a terminal: lines are then only appended */
  constructor(rl: readline.Interface, output: Output, terminal: boolean) {
    this.#rl = rl;
    this.#output = output;
    this.#terminal = terminal;
  }

  /** Shows a fresh prompt (after a line was entered). */
  prompt(): void {
    if (this.#closed) return;
    this.#prompting = true;
    this.#rl.prompt();
  }

  /** Redraws the prompt and input, e.g. after the prompt text changed. */
  refresh(): void {
    if (this.#closed || !this.#prompting) return;
    this.#rl.prompt(true);
  }

  /** Nothing is printed after this: the session is over. */
  close(): void {
    this.#closed = true;
  }

  /** How many times `print` wrote: a result is right under its line only if this has not moved. */
  get printed(): number {
    return this.#printed;
  }

  /** Prints `text` (one or more lines) above the prompt. */
  print(text: string): void {
    if (this.#closed) return;
    this.#printed += 1;
    if (!this.#prompting || !this.#terminal) {
      this.#output.write(`${text}\n`);
      return;
    }
    // One write for the whole redraw, so the terminal never shows the
    // moment the prompt is erased.
    this.#output.cork?.();
    // Rows of the input above the cursor (long input wraps).
    const { rows } = this.#rl.getCursorPos();
    readline.moveCursor(this.#output, 0, -rows);
    readline.cursorTo(this.#output, 0);
    readline.clearScreenDown(this.#output);
    // readline redraws by first moving up as many rows as the cursor was
    // down: step down that far so it lands where the input starts.
    this.#output.write(`${text}\n${'\n'.repeat(rows)}`);
    this.#rl.prompt(true);
    this.#output.uncork?.();
  }
}
