/**
 * What one side has sent and the other has not yet acknowledged, in send
 * order. Sequence numbers only grow, and acknowledgements are cumulative, so
 * the outbox is a FIFO: pushing and acknowledging are O(1) amortized, with
 * no per-message allocation beyond the two array slots.
 */
export class Outbox {
  #seqs: number[] = [];
  #texts: string[] = [];
  #head = 0;
  #bytes = 0;

  /** Sum of the held messages' lengths, in UTF-16 code units. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#seqs.length - this.#head;
  }

  /** Appends a message; `seq` is its unsigned sequence number. */
  push(seq: number, text: string): void {
    this.#seqs.push(seq);
    this.#texts.push(text);
    this.#bytes += text.length;
  }

  /** Drops every message with a sequence number up to `seq`; returns how many. */
  ackThrough(seq: number): number {
    const seqs = this.#seqs;
    const texts = this.#texts;
    let head = this.#head;
    const start = head;
    while (head < seqs.length && (seqs[head] as number) <= seq) {
      this.#bytes -= (texts[head] as string).length;
      texts[head] = '';
      head++;
    }
    this.#head = head;
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
    this.#seqs = [];
    this.#texts = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  /** Reclaims the acknowledged prefix once it dominates the arrays. */
  #compact(): void {
    const head = this.#head;
    if (head === this.#seqs.length) {
      this.#seqs.length = 0;
      this.#texts.length = 0;
      this.#head = 0;
    } else if (head > 1024 && head * 2 > this.#seqs.length) {
      this.#seqs = this.#seqs.slice(head);
      this.#texts = this.#texts.slice(head);
      this.#head = 0;
    }
  }
}
