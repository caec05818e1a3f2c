/**
 * The counters of one side of a session and its outbox. Plain data with a
 * serializable snapshot, so a session can be stored (memory, Redis) and
 * resumed by another process or another client object.
 *
 * Invariants (all numbers unsigned, in this side's or the peer's id space):
 * - `acked <= lastSeq`: the peer cannot acknowledge what was never sent;
 * - the outbox holds exactly the messages with `acked < seq <= lastSeq`
 *   that carry a sequence number;
 * - `received` only grows while the peer speaks tjstp; a legacy peer reuses
 *   ids after a restore, so for it `received` mirrors the last id seen.
 */
import type { MemoryMeter } from './memory.js';
import { Outbox } from './outbox.js';

export type Role = 'client' | 'server';

/** The session's serializable form. */
export interface SessionSnapshot {
  /** Last sequence number this side used. */
  lastSeq: number;
  /** Highest sequence number of the peer's this side accepted. */
  received: number;
  /** Highest sequence number of this side's the peer acknowledged. */
  acked: number;
  /** Unacknowledged messages, as sent: `[seq, text]`. */
  outbox: [number, string][];
}

export class SessionState {
  readonly role: Role;
  /** Client ids count up, server ids count down (the reference's convention). */
  readonly sign: 1 | -1;
  lastSeq = 0;
  received = 0;
  acked = 0;
  readonly outbox: Outbox;

  /** `meter` hears of every change of what the outbox holds (see `Outbox`). */
  constructor(role: Role, snapshot?: SessionSnapshot, meter?: MemoryMeter) {
    this.role = role;
    this.outbox = new Outbox(meter);
    this.sign = role === 'client' ? 1 : -1;
    if (snapshot) {
      this.lastSeq = snapshot.lastSeq;
      this.received = snapshot.received;
      this.acked = snapshot.acked;
      for (const [seq, text] of snapshot.outbox) this.outbox.push(seq, text);
    }
  }

  /** Takes the next id, signed for the wire. */
  nextId(): number {
    this.lastSeq += 1;
    return this.sign * this.lastSeq;
  }

  /** Whether an id on the wire belongs to this side's id space. */
  isOwnId(id: number): boolean {
    return this.sign === 1 ? id > 0 : id < 0;
  }

  /**
   * The peer has everything up to `seq` (unsigned). Ignores claims beyond
   * what was sent and acknowledgements that move backwards.
   */
  acknowledge(seq: number): void {
    if (seq <= this.acked || seq > this.lastSeq) return;
    this.acked = seq;
    this.outbox.ackThrough(seq);
  }

  /**
   * Records an incoming sequenced message. Returns false for a duplicate,
   * which the caller must drop: it was delivered before a reconnect.
   */
  accept(seq: number, legacyPeer: boolean): boolean {
    if (legacyPeer) {
      this.received = seq;
      return true;
    }
    if (seq <= this.received) return false;
    this.received = seq;
    return true;
  }

  snapshot(): SessionSnapshot {
    return {
      lastSeq: this.lastSeq,
      received: this.received,
      acked: this.acked,
      outbox: [...this.outbox.entries()],
    };
  }
}
