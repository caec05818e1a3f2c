/**
 * Keeps a connection honest: pings when the line is quiet or when sent
 * messages await acknowledgement (a reference peer acknowledges only by
 * answering pings), and declares the connection dead when nothing at all
 * has arrived for two intervals. Dead-peer detection matters most on
 * mobile, where a network switch leaves a socket that never errors.
 */
import type { Peer } from './peer.js';

export class Heartbeat {
  readonly #peer: Peer;
  readonly #interval: number;
  readonly #onDead: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #silentTicks = 0;

  /** `interval` 0 disables the heartbeat. */
  constructor(peer: Peer, interval: number, onDead: () => void) {
    this.#peer = peer;
    this.#interval = interval;
    this.#onDead = onDead;
  }

  start(): void {
    if (this.#interval <= 0 || this.#timer !== undefined) return;
    this.#peer.heard = false;
    this.#silentTicks = 0;
    this.#timer = setInterval(() => this.#tick(), this.#interval);
    // A heartbeat alone must not keep a process alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const peer = this.#peer;
    if (peer.heard) {
      peer.heard = false;
      this.#silentTicks = 0;
      if (peer.state.acked < peer.state.lastSeq) peer.ping();
      return;
    }
    this.#silentTicks++;
    if (this.#silentTicks >= 2) {
      this.stop();
      this.#onDead();
      return;
    }
    peer.ping();
  }
}
