/**
 * A transport wrapper between the client and its real transports. It sees
 * every packet without the client knowing, which gives the REPL:
 *
 * - `--verbose`: packets in both directions, with the session id masked and
 *   login credentials hidden;
 * - wire counters for `.session` (messages and bytes, per connection and in all);
 * - how many messages the server replayed on a restore: its `sent` from the
 *   handshake reply minus our `received` from the request;
 * - `.drop`: cutting the live connection the way a network failure would,
 *   and failing new connection attempts for a while, so the client's own
 *   backoff and restore run exactly as they would in the field; when the
 *   network is back the caller is told, to reconnect at once.
 */
import { Buffer } from 'node:buffer';
import type { TransportFactory } from '../../client/types.js';
import { parseRecord } from '../../protocol/record.js';
import type { Transport, TransportHandler } from '../../transport/transport.js';
import { maskId } from './printer.js';

export type Direction = 'in' | 'out';

/** Messages and bytes each way. */
export interface WireCounters {
  sent: number;
  received: number;
  sentBytes: number;
  receivedBytes: number;
}

/** What the last handshake reply said. */
export interface HandshakeReport {
  resumed: boolean;
  /** Messages the server resends; unknown for a reference server, which does not say. */
  serverReplayed: number | undefined;
}

/** Receives each packet to show, redacted, as `→ …` (sent) or `← …` (received). */
export type PacketListener = (line: string) => void;

const HEARTBEAT = /^\{\s*(?:"?(?:ping|pong)"?\s*:|\})/;

const newCounters = (): WireCounters => ({ sent: 0, received: 0, sentBytes: 0, receivedBytes: 0 });

/** Raised by held connection attempts, as an unplugged network would. */
export class SimulatedOutage extends Error {
  readonly code = 'ENETDOWN';

  constructor() {
    super('Network down (simulated by .drop)');
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Handshakes only, so the record parser's speed does not matter; the reference sends record syntax. */
const parse = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = parseRecord(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

export class WireTap {
  /** Packets go here; set by whichever mode prints them. */
  onPacket: PacketListener | undefined;
  /** Which packets `onPacket` gets: 0 none, 1 all but pings and pongs, 2 all. */
  verbose = 0;
  /** Every connection so far. */
  readonly total: WireCounters = newCounters();
  #connections = 0;
  #current: { transport: Transport; counters: WireCounters } | undefined;
  #hello: Record<string, unknown> | undefined;
  #lastHandshake: HandshakeReport | undefined;
  #sessionId: string | undefined;
  #outageUntil = 0;
  #outageEnd: ReturnType<typeof setTimeout> | undefined;

  /** Connections opened so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Counters of the live connection, if any. */
  get connection(): WireCounters | undefined {
    return this.#current && { ...this.#current.counters };
  }

  /** The last handshake reply, read before the client acts on it. */
  get lastHandshake(): HandshakeReport | undefined {
    return this.#lastHandshake;
  }

  /** Wraps a transport factory; every transport it makes is watched. */
  wrap(factory: TransportFactory): TransportFactory {
    return async () => {
      if (Date.now() < this.#outageUntil) throw new SimulatedOutage();
      const transport = await factory();
      return this.#watch(transport);
    };
  }

  /**
   * Cuts the live connection abruptly and fails connection attempts for
   * `ms`, then calls `back`: the client's backoff has grown meanwhile, and
   * a network that is back should be used at once. Returns false when
   * there was no connection to cut.
   */
  drop(ms: number, back: () => void): boolean {
    this.#outageUntil = Date.now() + ms;
    clearTimeout(this.#outageEnd);
    this.#outageEnd = setTimeout(back, ms);
    // A session closed during the outage must not keep the process alive.
    this.#outageEnd.unref?.();
    const current = this.#current;
    if (!current) return false;
    current.transport.destroy();
    return true;
  }

  /** Ends a simulated outage early (`.reconnect`). */
  restore(): void {
    this.#outageUntil = 0;
    clearTimeout(this.#outageEnd);
  }

  /**
   * A packet made safe to print: session ids masked; credentials, the
   * session key and restore proofs hidden.
   */
  redact(text: string): string {
    let shown = text;
    if (shown.startsWith('{"handshake"')) {
      const message = parse(shown);
      if (message) {
        for (const key of Object.keys(message)) {
          const value = message[key];
          if (key === 'tjstp' && isRecord(value) && value.key !== undefined) message[key] = { ...value, key: '***' };
          if (key === 'session' && Array.isArray(value) && value.length === 5) message[key] = [...value.slice(0, 4), '***'];
          if (key === 'handshake' || key === 'session' || key === 'ok' || key === 'error' || key === 'tjstp') continue;
          message[key] = key === 'login' && Array.isArray(value) ? [value[0], '***'] : '***';
        }
        shown = JSON.stringify(message);
      }
    } else if (shown.includes('"$tjstp"],"rotate":[')) {
      // A rotation carries the next id and key.
      const message = parse(shown);
      const args = message?.rotate;
      if (message && Array.isArray(args) && typeof args[0] === 'string') {
        message.rotate = [maskId(args[0]), '***', ...args.slice(2)];
        shown = JSON.stringify(message);
      }
    }
    return this.#sessionId ? shown.split(this.#sessionId).join(maskId(this.#sessionId)) : shown;
  }

  #watch(inner: Transport): Transport {
    const counters = newCounters();
    const connection = { transport: inner, counters };
    this.#connections += 1;
    this.#current = connection;
    this.#hello = undefined;
    let handshaken = false;
    const tap = (direction: Direction, text: string): void => {
      const bytes = Buffer.byteLength(text);
      if (direction === 'out') {
        counters.sent += 1;
        counters.sentBytes += bytes;
        this.total.sent += 1;
        this.total.sentBytes += bytes;
        if (counters.sent === 1) this.#hello = parse(text);
      } else {
        counters.received += 1;
        counters.receivedBytes += bytes;
        this.total.received += 1;
        this.total.receivedBytes += bytes;
        if (!handshaken) {
          handshaken = true;
          this.#readWelcome(text);
        }
      }
      if (this.onPacket && this.verbose > (HEARTBEAT.test(text) ? 1 : 0)) {
        this.onPacket(`${direction === 'out' ? '→' : '←'} ${this.redact(text)}`);
      }
    };
    const wrapper: Transport = {
      get kind() {
        return inner.kind;
      },
      get remoteAddress() {
        return inner.remoteAddress;
      },
      get open() {
        return inner.open;
      },
      send(message) {
        if (inner.open) tap('out', message);
        inner.send(message);
      },
      close: (code) => inner.close(code),
      destroy: () => inner.destroy(),
      bind: (handler) => {
        const watched: TransportHandler = {
          message: (text) => {
            tap('in', text);
            handler.message(text);
          },
          close: (error) => {
            if (this.#current === connection) this.#current = undefined;
            handler.close(error);
          },
        };
        const { violation } = handler;
        if (violation) watched.violation = (error) => violation.call(handler, error);
        inner.bind(watched);
      },
      unbind: () => {
        if (this.#current === connection) this.#current = undefined;
        inner.unbind();
      },
    };
    return wrapper;
  }

  /** The first message of a connection is the handshake reply. */
  #readWelcome(text: string): void {
    const welcome = parse(text);
    if (!welcome || welcome.error !== undefined) return;
    const ok = welcome.ok;
    if (typeof ok === 'string') {
      this.#sessionId = ok;
      this.#lastHandshake = { resumed: false, serverReplayed: 0 };
      return;
    }
    const session = this.#hello?.session;
    // [id, sent, received] or, bound, [id, sent, received, nonce, proof].
    const ourReceived = Array.isArray(session) && session.length >= 3 ? session[2] : undefined;
    const serverSent = Array.isArray(ok) ? ok[0] : undefined;
    const replayed = typeof serverSent === 'number' && typeof ourReceived === 'number' ? Math.max(0, serverSent - ourReceived) : undefined;
    this.#lastHandshake = { resumed: true, serverReplayed: replayed };
  }
}
