/**
 * One attacker of the memory attack, from its own loopback address. It
 * does what issue 11 describes, as a stranger could with the bundled chat:
 *
 * - opens anonymous sessions over TCP, WS and WS `tjstp-batch`, half as a
 *   tjstp client (the key marker: it gets a key and restores with a proof),
 *   half as a legacy client (restored by id alone);
 * - makes each hold as much unacknowledged output as it can: joins rooms
 *   of a shared pool (each join answers the room's history), joins them
 *   again (the history again), says long texts (half of them two-byte)
 *   into rooms full of the attackers' detached sessions, so every member's
 *   outbox grows; it never acknowledges anything, never answers a ping;
 * - disconnects without a goodbye, so the session is held for `holdTime`;
 * - now and then restores an old session (with a valid proof when it has
 *   the key), counting how many come back `evicted`, and hammers past the
 *   admission limits with bursts of hellos and of restores of bogus ids.
 *
 * It waits for each session's last reply before dropping it, and holds at
 * most `wave` sessions open at once: its pace is the server's, not a busy
 * loop (a flood of connections is another attack, which no memory budget
 * answers). The room pool is bounded, so whatever the chat keeps per room
 * stays small: the figure measured is the sessions', not the chat's.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { restoreProofInput } from '../../lib/protocol/restore';
import { prng, sleep, tally } from './shared';
import { errorOf, openWire, parseHead, WIRE_KINDS, type Endpoint, type Wire, type WireKind } from './wire';

export interface AttackerConfig {
  localAddress: string;
  endpoint: Endpoint;
  /** Date.now() at which to stop. */
  until: number;
  seed: number;
  /** Room names shared by all attackers. */
  rooms: readonly string[];
  /** Sessions open at once. */
  wave: number;
  /** Rooms each session joins, then how many more joins (history again), then long texts said. */
  joins: number;
  rejoins: number;
  says: number;
  /** Characters per text (the chat's maximum is 2,000). */
  textLength: number;
  /** A restore of an old session after every this many sessions. */
  restoreEvery: number;
  /**
   * Every this many ms, a burst of `hammerHellos` hellos at once (past the
   * new-session burst allowance), then of `hammerRestores` restores of ids
   * that never existed (past the restore allowance).
   */
  hammerEveryMs: number;
  hammerHellos: number;
  hammerRestores: number;
}

export interface AttackerStats {
  sessionsOpened: number;
  bound: number;
  legacy: number;
  byKind: Record<string, number>;
  /** Handshakes refused, by `code` or `code limit` (30 budget, 31 admission). */
  refusals: Record<string, number>;
  /** Restores of old sessions, by outcome: `resumed`, the loss reason (`evicted`, `expired`, …) or `code limit`. */
  restores: Record<string, number>;
  /** Restores of bogus ids, by outcome. */
  bogusRestores: Record<string, number>;
  /** Calls the sessions made, and answers of theirs that were errors, by code. */
  calls: number;
  callErrors: Record<string, number>;
  /** Connections that could not open, or whose hello got no reply. */
  connectFailures: number;
  noReply: number;
  bytesReceived: number;
}

/** A session dropped on purpose, kept to try restoring it later. */
interface Dropped {
  id: string;
  key: string | undefined;
  kind: WireKind;
  sent: number;
  nonce: number;
}

const BOUND_HELLO = '{"handshake":[0,"chat"],"anonymous":null,"tjstp":{"version":1}}';
const LEGACY_HELLO = '{"handshake":[0,"chat"]}';
const isHandshake = (head: string): boolean => head.startsWith('{"handshake"');

/** `[code, message, info]` → `30` or `31 sessionRate` or `11 evicted`. */
const outcomeOf = (error: unknown[] | undefined): string => {
  if (error === undefined) return 'no reply';
  const [code, , info] = error;
  return typeof info === 'string' ? `${String(code)} ${info}` : String(code);
};

export const newAttackerStats = (): AttackerStats => ({
  sessionsOpened: 0,
  bound: 0,
  legacy: 0,
  byKind: {},
  refusals: {},
  restores: {},
  bogusRestores: {},
  calls: 0,
  callErrors: {},
  connectFailures: 0,
  noReply: 0,
  bytesReceived: 0,
});

export class Attacker {
  readonly stats = newAttackerStats();
  readonly #config: AttackerConfig;
  readonly #random: () => number;
  readonly #dropped: Dropped[] = [];
  readonly #open = new Set<Wire>();
  #texts = 0;

  constructor(config: AttackerConfig) {
    this.#config = config;
    this.#random = prng(config.seed);
  }

  /** Runs until `until`; then drops whatever is still open. */
  async run(): Promise<AttackerStats> {
    const { until, wave, hammerEveryMs } = this.#config;
    // Staggered, so the attackers' bursts do not all land at once.
    let nextHammer = Date.now() + hammerEveryMs * (0.3 + this.#random() * 0.7);
    const lane = async (): Promise<void> => {
      let sessions = 0;
      while (Date.now() < until) {
        if (Date.now() >= nextHammer) {
          nextHammer = Date.now() + hammerEveryMs;
          await this.#hammer();
          continue;
        }
        const refused = await this.#session();
        sessions++;
        if (sessions % this.#config.restoreEvery === 0) await this.#restoreOld();
        // Refused: the limit is what it is, a short pause spends less of both sides' CPU.
        if (refused) await sleep(50 + this.#random() * 150);
      }
    };
    await Promise.all(Array.from({ length: wave }, lane));
    for (const wire of this.#open) wire.destroy();
    return this.stats;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  async #connect(kind: WireKind): Promise<Wire | undefined> {
    try {
      const wire = await openWire(kind, this.#config.endpoint, this.#config.localAddress);
      this.#open.add(wire);
      void wire.done.then(() => {
        this.#open.delete(wire);
        this.stats.bytesReceived += wire.bytes;
      });
      return wire;
    } catch {
      this.stats.connectFailures++;
      return undefined;
    }
  }

  /** A long text, one-byte or two-byte (which V8 stores with two bytes per character). */
  #text(): string {
    const n = this.#texts++;
    const unit = n % 2 === 0 ? 'x' : 'ж';
    const prefix = `${n} `;
    return prefix + unit.repeat(this.#config.textLength - prefix.length);
  }

  /** Opens one session, fills it, drops it. Returns true when the hello was refused. */
  async #session(): Promise<boolean> {
    const { stats } = this;
    const kind = this.#pick(WIRE_KINDS);
    const bound = this.#random() < 0.5;
    const wire = await this.#connect(kind);
    if (wire === undefined) return true;
    wire.send(bound ? BOUND_HELLO : LEGACY_HELLO);
    const reply = await wire.waitFor(isHandshake, 10_000);
    const welcome = reply === undefined ? undefined : parseHead(reply);
    if (typeof welcome?.ok !== 'string') {
      if (reply === undefined) stats.noReply++;
      else tally(stats.refusals, outcomeOf(errorOf(reply)));
      wire.destroy();
      return true;
    }
    stats.sessionsOpened++;
    tally(stats.byKind, kind);
    if (bound) stats.bound++;
    else stats.legacy++;
    const key = (welcome.tjstp as { key?: string } | undefined)?.key;
    const { joins, rejoins, says } = this.#config;
    const rooms = Array.from({ length: joins }, () => this.#pick(this.#config.rooms));
    let id = 0;
    const call = (method: string, ...args: unknown[]): void => {
      wire.send(JSON.stringify({ call: [++id, 'rooms'], [method]: args }));
      stats.calls++;
    };
    for (const room of rooms) call('join', room);
    for (let i = 0; i < rejoins; i++) call('join', this.#pick(rooms));
    for (let i = 0; i < says; i++) call('say', this.#pick(rooms), this.#text());
    // Errors (a bounded chat refusing a join, the budget refusing a call) are counted, not fatal.
    const last = `{"callback":[${id},`;
    const errors = (head: string): boolean => {
      if (head.startsWith('{"callback"') && head.includes('"error"')) tally(stats.callErrors, String(errorOf(head)?.[0] ?? '?'));
      return head.startsWith(last);
    };
    await wire.waitFor(errors, 10_000);
    wire.destroy();
    this.#remember({ id: welcome.ok, key, kind, sent: id, nonce: 0 });
    return false;
  }

  #remember(dropped: Dropped): void {
    this.#dropped.push(dropped);
    if (this.#dropped.length > 500) this.#dropped.shift();
  }

  /** The restore hello for a dropped session: with a proof when it has the key. */
  #restoreHello(dropped: Dropped): string {
    if (dropped.key === undefined) {
      // Either id-only form: the reference's [id, received], or tjstp's [id, sent, received].
      const session = this.#random() < 0.5 ? [dropped.id, 0] : [dropped.id, dropped.sent, 0];
      return JSON.stringify({ handshake: [0, 'chat'], session });
    }
    const nonce = ++dropped.nonce;
    const proof = createHmac('sha256', Buffer.from(dropped.key, 'hex')).update(restoreProofInput(dropped.id, dropped.sent, 0, nonce)).digest('hex');
    return JSON.stringify({ handshake: [0, 'chat'], session: [dropped.id, dropped.sent, 0, nonce, proof] });
  }

  /** Restores the oldest dropped session it remembers, then drops it again (held anew). */
  async #restoreOld(): Promise<void> {
    const dropped = this.#dropped.shift();
    if (dropped === undefined) return;
    const outcome = await this.#hello(dropped.kind, this.#restoreHello(dropped));
    tally(this.stats.restores, outcome === 'ok' ? 'resumed' : outcome);
    if (outcome === 'ok') this.#remember(dropped);
  }

  /** Sends a hello on a fresh connection and drops it: `ok`, or what refused it. */
  async #hello(kind: WireKind, hello: string): Promise<string> {
    const wire = await this.#connect(kind);
    if (wire === undefined) return 'connect failed';
    wire.send(hello);
    const reply = await wire.waitFor(isHandshake, 10_000);
    wire.destroy();
    if (reply === undefined) return 'no reply';
    const error = errorOf(reply);
    return error === undefined ? 'ok' : outcomeOf(error);
  }

  /** Past the limits: a burst of hellos, then a burst of restores of ids that never existed. */
  async #hammer(): Promise<void> {
    const { hammerHellos, hammerRestores } = this.#config;
    const hellos = await Promise.all(Array.from({ length: hammerHellos }, () => this.#hello(this.#pick(WIRE_KINDS), LEGACY_HELLO)));
    for (const outcome of hellos) {
      if (outcome === 'ok') this.stats.sessionsOpened++;
      else tally(this.stats.refusals, outcome);
    }
    const bogus = (): string => JSON.stringify({ handshake: [0, 'chat'], session: [randomBytes(24).toString('base64url'), 0, 0] });
    const restores = await Promise.all(Array.from({ length: hammerRestores }, () => this.#hello(this.#pick(WIRE_KINDS), bogus())));
    for (const outcome of restores) tally(this.stats.bogusRestores, outcome);
  }
}
