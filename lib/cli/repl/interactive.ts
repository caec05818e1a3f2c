/**
 * The interactive loop on a terminal. Input is never blocked: a call that
 * waits (the session is offline, the method is slow) prints its result when
 * it comes, and meanwhile people can type, check `.session` or `.reconnect`.
 * Everything that arrives on its own (results, events, status, packets) is
 * printed above the line being typed.
 */
import readline from 'node:readline';
import type { ClientState } from '../../client/types.js';
import { complete, type Names } from './completer.js';
import { execute, type ReplContext } from './commands.js';
import { saveHistory, loadHistory, type HistoryFile } from './history.js';
import type { TerminalInput } from './password.js';
import { formatError, formatEvent, paint, type Style } from './printer.js';
import { Screen } from './screen.js';
import type { Tone } from './status.js';
import { readStatements, type ReadStatement } from './syntax.js';

/** The terminal output the loop needs. */
export interface TerminalOutput extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export interface InteractiveOptions {
  input: TerminalInput;
  output: TerminalOutput;
  history: HistoryFile;
  /** The first lines shown, after connecting. */
  banner: string;
}

const TONES: Readonly<Record<Tone, Style>> = { good: 'green', warn: 'yellow', bad: 'red', info: 'blue' };
const OFFLINE: Readonly<Partial<Record<ClientState, string>>> = {
  connecting: 'connecting',
  handshaking: 'connecting',
  waiting: 'offline',
  closed: 'closed',
};
/** Packets longer than this are cut in the display. */
const PACKET_DISPLAY = 2000;

/**
 * Runs the loop until `.exit`, Ctrl+D or Ctrl+C twice, then closes the
 * session. Resolves to the exit code (0).
 */
export const runInteractive = (context: ReplContext, options: InteractiveOptions): Promise<number> => {
  const { client, catalog, print } = context;
  const { input, output, history } = options;
  const app = context.status.view().app;
  const promptFor = (state: ClientState): string => {
    const offline = OFFLINE[state];
    return offline === undefined ? `${paint(print, 'cyan', app)}> ` : `${paint(print, 'cyan', app)} ${paint(print, 'yellow', `(${offline})`)}> `;
  };

  const names: Names = { get interfaces() { return catalog.interfaces; }, methodsOf: (iface) => catalog.methodsOf(iface) };
  const completer = (line: string, callback: (error: Error | null, result: [string[], string]) => void): void => {
    const answer = (): void => {
      const result = complete(line, names);
      if ('completion' in result) {
        callback(null, result.completion);
        return;
      }
      catalog.fetchMethods(result.fetch).then(
        () => {
          const again = complete(line, names);
          callback(null, 'completion' in again ? again.completion : [[], line]);
        },
        () => callback(null, [[], line]),
      );
    };
    catalog.load().then(answer, answer);
  };

  const rl = readline.createInterface({
    input,
    output,
    terminal: output.isTTY === true,
    prompt: promptFor(client.state),
    completer,
    history: loadHistory(history),
    historySize: history.path === undefined ? 0 : history.size,
    removeHistoryDuplicates: true,
    tabSize: 2,
  });
  const screen = new Screen(rl, output, output.isTTY === true);
  let historyError = false;
  rl.on('history', (lines) => {
    const error = saveHistory(history, lines);
    if (error && !historyError) {
      historyError = true;
      screen.print(paint(print, 'yellow', `history not saved: ${error.message}`));
    }
  });

  const onResize = (): void => {
    print.columns = output.columns;
  };
  output.on('resize', onResize);
  context.status.notify = (line) => screen.print(paint(print, TONES[line.tone], `• ${line.text}`));
  context.tap.onPacket = (line) => {
    const shown = line.length > PACKET_DISPLAY ? `${line.slice(0, PACKET_DISPLAY)}… (${line.length} chars)` : line;
    screen.print(paint(print, 'dim', shown));
  };
  const onEvent = (event: { iface: string; name: string; args: unknown[] }): void => {
    catalog.learn(event.iface);
    if (context.events.shows(event.iface)) screen.print(formatEvent(event, print));
  };
  client.on('event', onEvent);
  const onState = (state: ClientState): void => {
    rl.setPrompt(promptFor(state));
    screen.refresh();
  };
  client.on('state', onState);

  /** Lines entered so far. */
  let entered = 0;
  /**
   * The one way an outcome is shown. Right under its own line it stands
   * alone; anywhere else (another line was entered, anything was printed
   * since, as when a call made offline is answered after the resume) it is
   * labelled with its statement, so it cannot be taken for another's.
   */
  const show = (text: string, statement: string, since: { line: number; printed: number; alone: boolean }): void => {
    const underItsLine = since.alone && since.line === entered && since.printed === screen.printed;
    screen.print(underItsLine ? text : `${paint(print, 'dim', `${statement} →`)} ${text}`);
  };
  const runLine = async (reads: ReadStatement[], lineNumber: number, promptWidth: number): Promise<void> => {
    const since = { line: lineNumber, printed: screen.printed, alone: reads.length === 1 };
    for (const read of reads) {
      if ('error' in read) {
        const { column } = read.error;
        if (column !== undefined && lineNumber === entered) screen.print(`${' '.repeat(promptWidth + column)}${paint(print, 'red', '^')}`);
        screen.print(formatError(read.error, print));
        continue;
      }
      try {
        const outcome = await execute(read.command, context);
        if (outcome.exit) {
          rl.close();
          return;
        }
        if (outcome.text !== undefined) show(outcome.text, read.statement.text, since);
      } catch (error) {
        show(formatError(error, print), read.statement.text, since);
      }
    }
  };

  let interrupted = false;
  rl.on('line', (line) => {
    interrupted = false;
    entered += 1;
    const promptWidth = visibleWidth(rl.getPrompt());
    const reads = readStatements(line);
    screen.prompt();
    runLine(reads, entered, promptWidth).catch((error: unknown) => screen.print(formatError(error, print)));
  });
  rl.on('SIGINT', () => {
    if (rl.line !== '') {
      // Ctrl+E then Ctrl+U: readline's own keys to empty the line.
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      interrupted = false;
      return;
    }
    if (interrupted) {
      rl.close();
      return;
    }
    interrupted = true;
    screen.print(paint(print, 'dim', '(Ctrl+C again, Ctrl+D or .exit to leave)'));
  });

  output.write(`${options.banner}\n`);
  screen.prompt();
  return new Promise((resolve) => {
    rl.once('close', () => {
      screen.close();
      output.removeListener('resize', onResize);
      client.off('event', onEvent);
      client.off('state', onState);
      context.tap.onPacket = undefined;
      context.status.markClosing();
      client.close();
      // Erase the prompt drawn after the last line (.exit) or left by Ctrl+D.
      if (output.isTTY === true) {
        readline.cursorTo(output, 0);
        readline.clearLine(output, 0);
      } else {
        output.write('\n');
      }
      resolve(0);
    });
  });
};

/** Width of text on screen, without ANSI styles. */
const visibleWidth = (text: string): number => text.replace(/\u001b\[[0-9;]*m/g, '').length;
