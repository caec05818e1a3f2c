/**
 * Admission limits: how many sessions one address or one user may hold, how
 * fast an address may open sessions or attempt restores, how many calls of
 * one session may run at once. Each limit refuses with error 31 naming it
 * (`[31, message, limit]`) and counts the refusal; memory is the budget's
 * business (`memory-budget.ts`). Addresses are counted by `addressKey`:
 * IPv6 by /64, local peers not at all.
 *
 * One share is not a refusal but a pace: the output an address gets. What
 * the server produces for an address's sessions (replies, events, in bytes)
 * draws on that address's allowance; while it is overdrawn, the calls of
 * its sessions wait before they run. The server's time goes mostly into
 * producing output, so this is what keeps a few addresses that ask for a
 * lot from slowing everyone else down.
 */
import { LimitName, type LimitNameValue } from '../protocol/errors.js';

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
  /** Bytes of output (replies, events) per second one address's sessions get, sustained; more makes their calls wait. Default 4 MiB. */
  outputBytesPerSecond: number;
  /** …and at once; a call waits at most this over the rate (8 s by default). Default 32 MiB. */
  outputBurst: number;
}

export const defaultAdmissionLimits: Readonly<AdmissionLimits> = {
  maxSessionsPerAddress: 1000,
  maxSessionsPerLogin: 100,
  newSessionsPerSecond: 20,
  newSessionsBurst: 200,
  restoresPerMinute: 1200,
  maxCallsInFlight: 256,
  outputBytesPerSecond: 4 * 1024 * 1024,
  outputBurst: 32 * 1024 * 1024,
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

/**
 * One address: its live sessions, and its output allowance. Sessions keep
 * a reference and draw on it directly, so charging output is one
 * subtraction on the hot path; refilling happens when a call asks.
 */
export class AddressShare {
  sessions = 0;
  /** Bytes of output left; negative when overdrawn. */
  tokens: number;
  /** When `tokens` was last refilled, ms. */
  at: number;

  constructor(tokens: number, now: number) {
    this.tokens = tokens;
    this.at = now;
  }

  /** Output produced for one of its sessions. */
  draw(bytes: number): void {
    this.tokens -= bytes;
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
  /** Calls that waited for their address's output allowance. */
  deferredCalls = 0;
  readonly #addresses = new Map<string, AddressShare>();
  readonly #sessionsByUser = new Map<string, number>();
  readonly #sessionRate: RateLimiter;
  readonly #restoreRate: RateLimiter;
  readonly #maxPerAddress: number;
  readonly #maxPerLogin: number;
  readonly #maxCallsInFlight: number;
  /** Output allowance refill, bytes per ms, and its cap. */
  readonly #outputPerMs: number;
  readonly #outputBurst: number;

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = { ...defaultAdmissionLimits, ...limits };
    const { newSessionsPerSecond, newSessionsBurst, restoresPerMinute } = this.limits;
    const rate = bound(newSessionsPerSecond);
    this.#sessionRate = new RateLimiter(rate === Infinity ? Infinity : bound(newSessionsBurst), rate / 1000);
    this.#restoreRate = new RateLimiter(bound(restoresPerMinute), bound(restoresPerMinute) / 60_000);
    this.#maxPerAddress = bound(this.limits.maxSessionsPerAddress);
    this.#maxPerLogin = bound(this.limits.maxSessionsPerLogin);
    this.#maxCallsInFlight = bound(this.limits.maxCallsInFlight);
    this.#outputPerMs = bound(this.limits.outputBytesPerSecond) / 1000;
    this.#outputBurst = bound(this.limits.outputBurst);
  }

  /**
   * May `address` open a session? Asked before any login runs, so failed
   * logins spend the address's rate too. Takes a token from the rate only
   * when the count allows it. Returns the limit it would break, counted as
   * a refusal, or undefined.
   */
  admitSession(address: string | undefined): LimitNameValue | undefined {
    if (address === undefined) return undefined;
    if ((this.#addresses.get(address)?.sessions ?? 0) >= this.#maxPerAddress) return this.#refuse(LimitName.SESSIONS_PER_ADDRESS);
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

  /**
   * How long a call of a session drawing on `share` must wait before it
   * runs, ms: 0 while the address has output left, else until the rate has
   * refilled what it overdrew (at most the burst's worth).
   */
  outputDelay(share: AddressShare | undefined, now = Date.now()): number {
    if (share === undefined || this.#outputPerMs === Infinity) return 0;
    this.#refill(share, now);
    if (share.tokens >= 0) return 0;
    this.deferredCalls++;
    return Math.ceil(Math.min(-share.tokens, this.#outputBurst) / this.#outputPerMs);
  }

  /**
   * A session now counts against its address and user; returns the
   * address's share for the session to draw its output on.
   */
  opened(address: string | undefined, user: string | null): AddressShare | undefined {
    if (user !== null) increment(this.#sessionsByUser, user);
    if (address === undefined) return undefined;
    let share = this.#addresses.get(address);
    if (share === undefined) {
      if (this.#addresses.size >= MAX_BUCKETS) this.#sweep();
      share = new AddressShare(this.#outputBurst, Date.now());
      this.#addresses.set(address, share);
    }
    share.sessions++;
    return share;
  }

  /** …and no longer does (it ended, or its user changed). */
  closed(address: string | undefined, user: string | null): void {
    if (user !== null) decrement(this.#sessionsByUser, user);
    if (address === undefined) return;
    const share = this.#addresses.get(address);
    if (share === undefined) return;
    share.sessions--;
    // An overdrawn address keeps its share: ending its sessions must not reset it.
    if (share.sessions <= 0 && this.#refill(share, Date.now()) >= this.#outputBurst) this.#addresses.delete(address);
  }

  /** Counts a refusal decided elsewhere (a restore race). */
  count(limit: LimitNameValue): void {
    this.#refuse(limit);
  }

  /** Refills a share for the time passed; returns its tokens. */
  #refill(share: AddressShare, now: number): number {
    const refilled = this.#outputPerMs === Infinity ? Infinity : share.tokens + (now - share.at) * this.#outputPerMs;
    share.tokens = Math.min(this.#outputBurst, refilled);
    share.at = now;
    return share.tokens;
  }

  /** Forgets addresses with no sessions whose allowance is whole again. */
  #sweep(): void {
    const now = Date.now();
    for (const [address, share] of this.#addresses) {
      if (share.sessions <= 0 && this.#refill(share, now) >= this.#outputBurst) this.#addresses.delete(address);
    }
  }

  #refuse(limit: LimitNameValue): LimitNameValue {
    this.refusals.set(limit, (this.refusals.get(limit) ?? 0) + 1);
    return limit;
  }
}
