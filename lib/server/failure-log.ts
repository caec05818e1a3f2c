/**
 * Keeps repeated failures from filling the disk. A client can make a
 * failing method fail as often as it can send calls, and each failure
 * logged in full costs a stack trace. So per source (a method or an event
 * handler of one application version) the first `burst` failures of each
 * `interval` are logged in full; the rest are only counted, and summarised
 * in one line when the interval ends:
 *
 *   997 more failures of chat@1.0.0 rooms.say in the last 60 s; last: TypeError: …
 *
 * Sources are few (an application's methods), but their number is bounded
 * anyway: past `maxSources`, failures of new sources share one count.
 */
import { ApplicationFailure, describeFailure } from './failure.js';
import { logError, withFields, type Logger } from './options.js';

export interface FailureLogOptions {
  /** Failures of one source logged in full per interval. Default 5; 0 logs only summaries. */
  burst?: number;
  /** ms. Counts start afresh, and summaries are written, this often. Default 60,000. */
  interval?: number;
  /** Sources counted apart; failures of further sources share one count. Default 1000. */
  maxSources?: number;
}

export const defaultFailureLog: Readonly<Required<FailureLogOptions>> = {
  burst: 5,
  interval: 60_000,
  maxSources: 1000,
};

/** Where failures of sources past `maxSources` are counted. */
const OTHER_SOURCES = 'other sources';

interface Tally {
  logged: number;
  suppressed: number;
  /** The last suppressed failure, described. */
  last: string;
}

const checkInteger = (name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`failureLog.${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
};

export class FailureLog {
  readonly burst: number;
  readonly interval: number;
  readonly maxSources: number;
  readonly #summarize: (line: string) => void;
  readonly #tallies = new Map<string, Tally>();
  /** Runs while anything failed in the current interval; none on a quiet server. */
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `summarize` writes a summary line (the server: its logger). */
  constructor(options: FailureLogOptions = {}, summarize: (line: string) => void) {
    this.burst = checkInteger('burst', options.burst ?? defaultFailureLog.burst, 0);
    this.interval = checkInteger('interval', options.interval ?? defaultFailureLog.interval, 1, 2 ** 31 - 1);
    this.maxSources = checkInteger('maxSources', options.maxSources ?? defaultFailureLog.maxSources, 1);
    this.#summarize = summarize;
  }

  /**
   * Counts a failure of `source`; says whether to log it in full. When not,
   * it is in the summary at the end of the interval.
   */
  admit(source: string, error: unknown): boolean {
    const tallies = this.#tallies;
    const key = tallies.has(source) || tallies.size < this.maxSources ? source : OTHER_SOURCES;
    let tally = tallies.get(key);
    if (tally === undefined) {
      tallies.set(key, (tally = { logged: 0, suppressed: 0, last: '' }));
      this.#timer ??= setInterval(() => this.#tick(), this.interval).unref();
    }
    if (tally.logged < this.burst) {
      tally.logged++;
      return true;
    }
    tally.suppressed++;
    tally.last = describeFailure(error);
    return false;
  }

  /** Writes the pending summaries and starts the counts afresh. */
  flush(): void {
    const span = this.interval % 1000 === 0 ? `${this.interval / 1000} s` : `${this.interval} ms`;
    for (const [source, { suppressed, last }] of this.#tallies) {
      if (suppressed === 0) continue;
      const line = `${suppressed} more failure${suppressed === 1 ? '' : 's'} of ${source} in the last ${span}; last: ${last}`;
      try {
        this.#summarize(line);
      } catch (error) {
        // Called from a timer: a failing logger must not take the process down.
        console.error(line, error);
      }
    }
    this.#tallies.clear();
  }

  /** Flushes and stops the timer (a later failure starts it again). */
  close(): void {
    this.flush();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#tallies.size === 0) this.close();
    else this.flush();
  }
}

/**
 * Logs a call that failed in a session, unless its source failed too often
 * lately. An {@link ApplicationFailure} names its method; its message goes
 * with the session's label, and what was thrown is logged as the error.
 */
export const logCallFailure = (
  failures: FailureLog,
  logger: Logger,
  session: { readonly label: string; readonly app: { readonly name: string; readonly version: string } },
  error: unknown,
): void => {
  const failure = error instanceof ApplicationFailure ? error : undefined;
  const cause = failure?.cause ?? error;
  const app = `${session.app.name}@${session.app.version}`;
  if (!failures.admit(failure?.source ?? app, cause)) return;
  const fields = { app, session: session.label };
  logError(withFields(logger, fields), failure ? `${session.label}: ${failure.message}` : `${session.label}: method failed`, cause);
};
