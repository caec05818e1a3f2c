/**
 * What one side has sent and the other has not yet acknowledged, in send
 * order. Sequence numbers only grow, and acknowledgements are cumulative, so
 * the outbox is a FIFO: pushing and acknowledging are O(1) amortized, with
 * no per-message allocation beyond the array slots.
 *
 * Sizes are real bytes ({@link messageBytes}), reported to a meter as they
 * change, so a server can bound what all its sessions hold together.
 */
import { messageBytes, type MemoryMeter } from './memory';

export class Outbox {
  #seqs: number[] = [];
  #texts: string[] = [];
  #sizes: number[] = [];
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
    return this.#seqs.length - this.#head;
  }

  /**
   * Appends a message; `seq` is its unsigned sequence number. `bytes` is its
   * cost when the caller already knows it (a broadcast measures its body once).
   */
  push(seq: number, text: string, bytes = messageBytes(text)): void {
    this.#seqs.push(seq);
    this.#texts.push(text);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
    this.#meter?.charge(bytes);
  }

  /** Drops every message with a sequence number up to `seq`; returns how many. */
  ackThrough(seq: number): number {
    const seqs = this.#seqs;
    const texts = this.#texts;
    const sizes = this.#sizes;
    let head = this.#head;
    const start = head;
    let freed = 0;
    while (head < seqs.length && (seqs[head] as number) <= seq) {
      freed += sizes[head] as number;
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
    for (let i = this.#head; i < this.#seqs.length; i++) {
      yield [this.#seqs[i] as number, this.#texts[i] as string];
    }
  }

  clear(): void {
    const freed = this.#bytes;
    this.#seqs = [];
    this.#texts = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    if (freed > 0) this.#meter?.charge(-freed);
  }

  /** Reclaims the acknowledged prefix once it dominates the arrays. */
  #compact(): void {
    const head = this.#head;
    if (head === this.#seqs.length) {
      this.#seqs.length = 0;
      this.#texts.length = 0;
      this.#sizes.length = 0;
      this.#head = 0;
    } else if (head > 1024 && head * 2 > this.#seqs.length) {
      this.#seqs = this.#seqs.slice(head);
      this.#texts = this.#texts.slice(head);
      this.#sizes = this.#sizes.slice(head);
      this.#head = 0;
    }
  }
}
