/**
 * The peer's calls whose asynchronous methods are still running on this
 * side. Their ids matter when the process stops (their outcome is then in
 * doubt), and their messages stay in memory until they finish (the
 * arguments are the method's), which the memory meter hears of. A Peer
 * creates the table with its first asynchronous call.
 */
import type { MemoryMeter } from './memory.js';

export class RunningCalls {
  readonly #ids = new Set<number>();
  #bytes = 0;
  readonly #meter: MemoryMeter | undefined;

  constructor(meter: MemoryMeter | undefined) {
    this.#meter = meter;
  }

  get size(): number {
    return this.#ids.size;
  }

  /** What the messages of the running calls cost. */
  get bytes(): number {
    return this.#bytes;
  }

  ids(): number[] {
    return [...this.#ids];
  }

  /** Call `id`, whose message cost `size`, started running. */
  start(id: number, size: number): void {
    this.#ids.add(id);
    this.#hold(size);
  }

  /** Call `id` finished: called before its answer goes out. */
  finish(id: number, size: number): void {
    this.#ids.delete(id);
    this.#hold(-size);
  }

  #hold(bytes: number): void {
    if (bytes === 0) return;
    this.#bytes += bytes;
    this.#meter?.charge(bytes);
  }
}
