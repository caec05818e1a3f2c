/**
 * What one side has sent and the other has not yet acknowledged, in send
 * order. Sequence numbers only grow, and acknowledgements are cumulative, so
 * the outbox is a FIFO: pushing and acknowledging are O(1) amortized, with
 * no per-message allocation beyond the array slots.
 *
 * Sizes are real bytes ({@link messageBytes}), reported to a meter as they
 * change, so a server can bound what all its sessions hold together. They
 * share one array with the sequence numbers, `[seq, size, seq, size, …]`:
 * an idle session then costs one empty array less.
 */
import { messageBytes, type MemoryMeter } from './memory.js';

export class Outbox {
  /** Sequence number and size of each message, in pairs. */
  #marks: number[] = [];
  #texts: string[] = [];
  #head = 0;
  #bytes = 0;
  readonly #meter: MemoryMeter | undefined;

  constructor(meter?: MemoryMeter) {
    this.#meter = meter;
  }

  /** What the held messages cost, in bytes (see {@link messageBytes}). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#texts.length - this.#head;
  }

  /**
   * Appends a message; `seq` is its unsigned sequence number. `bytes` is its
   * cost when the caller already knows it (a broadcast measures its body once).
   */
  push(seq: number, text: string, bytes = messageBytes(text)): void {
    this.#marks.push(seq, bytes);
    this.#texts.push(text);
    this.#bytes += bytes;
    this.#meter?.charge(bytes);
  }

  /** Drops every message with a sequence number up to `seq`; returns how many. */
  ackThrough(seq: number): number {
    const marks = this.#marks;
    const texts = this.#texts;
    let head = this.#head;
    const start = head;
    let freed = 0;
    while (head < texts.length && (marks[head * 2] as number) <= seq) {
      freed += marks[head * 2 + 1] as number;
      texts[head] = '';
      head++;
    }
    this.#head = head;
    if (freed > 0) {
      this.#bytes -= freed;
      this.#meter?.charge(-freed);
    }
    this.#compact();
    return head - start;
  }

  /** The held messages in send order. */
  *entries(): IterableIterator<[number, string]> {
    for (let i = this.#head; i < this.#texts.length; i++) {
      yield [this.#marks[i * 2] as number, this.#texts[i] as string];
    }
  }

  clear(): void {
    const freed = this.#bytes;
    this.#marks = [];
    this.#texts = [];
    this.#head = 0;
    this.#bytes = 0;
    if (freed > 0) this.#meter?.charge(-freed);
  }

  /** Reclaims the acknowledged prefix once it dominates the arrays. */
  #compact(): void {
    const head = this.#head;
    if (head === this.#texts.length) {
      this.#marks.length = 0;
      this.#texts.length = 0;
      this.#head = 0;
    } else if (head > 1024 && head * 2 > this.#texts.length) {
      this.#marks = this.#marks.slice(head * 2);
      this.#texts = this.#texts.slice(head);
      this.#head = 0;
    }
  }
}
