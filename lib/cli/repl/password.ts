/**
 * Asking for a password on a terminal without echoing it. Raw mode, read
 * keys by hand: readline would echo, and muting its output also hides the
 * prompt on some terminals.
 */

/** The terminal input the prompt needs. */
export interface TerminalInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** Ctrl+C or Ctrl+D at the prompt. */
export class PromptCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'PromptCancelled';
  }
}

/**
 * Writes `prompt`, then reads one line from a terminal without echo.
 * Backspace and Ctrl+U edit; escape sequences (arrow keys) are ignored.
 * @throws {@link PromptCancelled} on Ctrl+C, or Ctrl+D on an empty line
 */
export const askHidden = (prompt: string, input: TerminalInput, output: NodeJS.WritableStream): Promise<string> =>
  new Promise((resolve, reject) => {
    const setRaw = input.setRawMode?.bind(input);
    const wasRaw = input.isRaw === true;
    let chars: string[] = [];
    let escape = false;
    const finish = (error?: Error): void => {
      input.removeListener('data', onData);
      setRaw?.(wasRaw);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(chars.join(''));
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (escape) {
          // CSI sequences end with a letter or '~'; a lone ESC ends at the next key.
          if (/[A-Za-z~]/.test(ch)) escape = false;
          continue;
        }
        switch (ch) {
          case '\r':
          case '\n':
            finish();
            return;
          case '\u0003':
            finish(new PromptCancelled());
            return;
          case '\u0004':
            if (chars.length === 0) {
              finish(new PromptCancelled());
              return;
            }
            break;
          case '\u007f':
          case '\b':
            chars.pop();
            break;
          case '\u0015':
            chars = [];
            break;
          case '\u001b':
            escape = true;
            break;
          default:
            if (ch >= ' ') chars.push(ch);
        }
      }
    };
    output.write(prompt);
    setRaw?.(true);
    input.on('data', onData);
    input.resume();
  });
