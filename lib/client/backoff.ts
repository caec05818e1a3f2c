/**
 * Capped exponential backoff with jitter for reconnecting. Jitter spreads a
 * crowd of clients that lost the same server, so they do not return in one
 * synchronized storm.
 */
export interface BackoffOptions {
  /** First delay, ms. Default 250. */
  initialDelay: number;
  /** Largest delay, ms. Default 30,000. */
  maxDelay: number;
  /** Growth per failed attempt. Default 2. */
  factor: number;
  /** Fraction of each delay that is random, 0–1. Default 0.5. */
  jitter: number;
}

export const defaultBackoff: Readonly<BackoffOptions> = {
  initialDelay: 250,
  maxDelay: 30_000,
  factor: 2,
  jitter: 0.5,
};

export class Backoff {
  readonly options: BackoffOptions;
  #attempt = 0;
  readonly #random: () => number;

  constructor(options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    this.options = { ...defaultBackoff, ...options };
    const { initialDelay, maxDelay, factor, jitter } = this.options;
    if (!(initialDelay >= 0 && maxDelay >= initialDelay && factor >= 1 && jitter >= 0 && jitter <= 1)) {
      throw new RangeError('Invalid backoff options');
    }
    this.#random = random;
  }

  /** Attempts since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call counts one attempt. */
  next(): number {
    const { initialDelay, maxDelay, factor, jitter } = this.options;
    const base = Math.min(maxDelay, initialDelay * factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
