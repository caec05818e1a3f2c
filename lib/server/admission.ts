/**
 * Admission limits: how many sessions one address or one user may hold, how
 * fast an address may open sessions or attempt restores, how many calls of
 * one session may run at once. Each limit refuses with error 31 naming it
 * (`[31, message, limit]`) and counts the refusal; memory is the budget's
 * business (`memory-budget.ts`). Addresses are counted by `addressKey`:
 * IPv6 by /64, local peers not at all.
 */
import { LimitName, type LimitNameValue } from '../protocol/errors';

/** The limits, each 0 (or Infinity) for none. */
export interface AdmissionLimits {
  /** Live sessions (attached or held) opened from one address. Default 1,000. */
  maxSessionsPerAddress: number;
  /** Live sessions of one logged-in user. Default 100. */
  maxSessionsPerLogin: number;
  /** New sessions per second from one address, sustained. Default 20. */
  newSessionsPerSecond: number;
  /** …and in a burst. Default 200. */
  newSessionsBurst: number;
  /** Restore attempts per minute from one address, refused ones included (a burst may use all at once). Default 1,200. */
  restoresPerMinute: number;
  /** Calls of one session whose methods are still running; more are answered 31 without running. Default 256. */
  maxCallsInFlight: number;
}

export const defaultAdmissionLimits: Readonly<AdmissionLimits> = {
  maxSessionsPerAddress: 1000,
  maxSessionsPerLogin: 100,
  newSessionsPerSecond: 20,
  newSessionsBurst: 200,
  restoresPerMinute: 1200,
  maxCallsInFlight: 256,
};

/** 0 means no limit, as in the config file and on the command line. */
const bound = (value: number): number => (value > 0 ? value : Infinity);

/** Buckets beyond which the full ones are swept (and, failing that, the oldest dropped). */
const MAX_BUCKETS = 100_000;

/**
 * Token buckets by key: `capacity` tokens, refilled at `perMs`. Full buckets
 * carry no information and are swept when there are many.
 */
class RateLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(capacity: number, perMs: number) {
    this.#capacity = capacity;
    this.#perMs = perMs;
  }

  /** Takes a token for `key`; false when there is none left. */
  take(key: string, now = Date.now()): boolean {
    if (this.#capacity === Infinity) return true;
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#sweep(now);
      this.#buckets.set(key, { tokens: this.#capacity - 1, at: now });
      return this.#capacity >= 1;
    }
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.#capacity) this.#buckets.delete(key);
    }
    // Still full of live buckets: forget the oldest (their owners get a fresh burst).
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_BUCKETS) break;
      this.#buckets.delete(key);
    }
  }
}

const increment = (counts: Map<string, number>, key: string): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1);
};

const decrement = (counts: Map<string, number>, key: string): void => {
  const count = (counts.get(key) ?? 0) - 1;
  if (count > 0) counts.set(key, count);
  else counts.delete(key);
};

export class Admission {
  readonly limits: Readonly<AdmissionLimits>;
  /** Refusals by limit, for telemetry. */
  readonly refusals = new Map<LimitNameValue, number>();
  readonly #sessionsByAddress = new Map<string, number>();
  readonly #sessionsByUser = new Map<string, number>();
  readonly #sessionRate: RateLimiter;
  readonly #restoreRate: RateLimiter;
  readonly #maxPerAddress: number;
  readonly #maxPerLogin: number;
  readonly #maxCallsInFlight: number;

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = { ...defaultAdmissionLimits, ...limits };
    const { newSessionsPerSecond, newSessionsBurst, restoresPerMinute } = this.limits;
    const rate = bound(newSessionsPerSecond);
    this.#sessionRate = new RateLimiter(rate === Infinity ? Infinity : bound(newSessionsBurst), rate / 1000);
    this.#restoreRate = new RateLimiter(bound(restoresPerMinute), bound(restoresPerMinute) / 60_000);
    this.#maxPerAddress = bound(this.limits.maxSessionsPerAddress);
    this.#maxPerLogin = bound(this.limits.maxSessionsPerLogin);
    this.#maxCallsInFlight = bound(this.limits.maxCallsInFlight);
  }

  /**
   * May `address` open a session? Asked before any login runs, so failed
   * logins spend the address's rate too. Takes a token from the rate only
   * when the count allows it. Returns the limit it would break, counted as
   * a refusal, or undefined.
   */
  admitSession(address: string | undefined): LimitNameValue | undefined {
    if (address === undefined) return undefined;
    if ((this.#sessionsByAddress.get(address) ?? 0) >= this.#maxPerAddress) return this.#refuse(LimitName.SESSIONS_PER_ADDRESS);
    if (!this.#sessionRate.take(address)) return this.#refuse(LimitName.SESSION_RATE);
    return undefined;
  }

  /** May one more session belong to `user`? (Also when a session logs in.) */
  admitLogin(user: string | null): LimitNameValue | undefined {
    if (user !== null && (this.#sessionsByUser.get(user) ?? 0) >= this.#maxPerLogin) {
      return this.#refuse(LimitName.SESSIONS_PER_LOGIN);
    }
    return undefined;
  }

  /** Takes a restore attempt from the address's allowance; false (counted) when spent. */
  admitRestore(address: string | undefined): boolean {
    if (address === undefined || this.#restoreRate.take(address)) return true;
    this.#refuse(LimitName.RESTORE_RATE);
    return false;
  }

  /** May a session with `running` calls in flight start one more? */
  admitCall(running: number): boolean {
    if (running < this.#maxCallsInFlight) return true;
    this.#refuse(LimitName.CALLS_IN_FLIGHT);
    return false;
  }

  /** A session now counts against its address and user. */
  opened(address: string | undefined, user: string | null): void {
    if (address !== undefined) increment(this.#sessionsByAddress, address);
    if (user !== null) increment(this.#sessionsByUser, user);
  }

  /** …and no longer does (it ended, or its user changed). */
  closed(address: string | undefined, user: string | null): void {
    if (address !== undefined) decrement(this.#sessionsByAddress, address);
    if (user !== null) decrement(this.#sessionsByUser, user);
  }

  /** Counts a refusal decided elsewhere (a restore race). */
  count(limit: LimitNameValue): void {
    this.#refuse(limit);
  }

  #refuse(limit: LimitNameValue): LimitNameValue {
    this.refusals.set(limit, (this.refusals.get(limit) ?? 0) + 1);
    return limit;
  }
}
