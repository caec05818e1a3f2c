/**
 * NUL-delimited framing for the stream transports (TCP, TLS, IPC).
 *
 * Every JSTP message on a stream is its UTF-8 text followed by one `\0`.
 * The decoder works on bytes, not strings: it finds terminators with
 * `Buffer#indexOf` (native, no per-byte JS loop) and decodes only whole
 * messages, so a multi-byte character split across chunks is never mangled
 * and the size limit is counted in bytes, as the option promises.
 */

import { ErrorCode, ProtocolError } from '../protocol/errors';

/** Where a {@link FrameDecoder} reports what it found. */
export interface FrameSink {
  /** One whole message, decoded as UTF-8, without its terminator. */
  message(text: string): void;
  /**
   * The input broke a limit. The decoder has already halted: it ignores
   * further input, so the owner only has to drop the connection.
   */
  error(error: ProtocolError): void;
}

/**
 * Incremental decoder: feed it chunks in arrival order with {@link push};
 * it reports each complete message to the sink, in order, synchronously.
 *
 * A message larger than `maxMessageSize` bytes is reported as
 * `MESSAGE_TOO_LARGE` as soon as the limit is passed, without waiting for
 * its terminator (a peer could otherwise make us buffer without bound).
 * An empty message (`\0\0`) is delivered as `''`; rejecting it is the
 * protocol layer's job.
 */
export class FrameDecoder {
  readonly maxMessageSize: number;
  readonly #sink: FrameSink;
  /** Bytes of the current, still unterminated message. */
  #parts: Buffer[] = [];
  #size = 0;
  #halted = false;

  /**
   * @param maxMessageSize largest accepted message in bytes, terminator
   *   excluded.
   * @param sink receives messages and the error, if any.
   */
  constructor(maxMessageSize: number, sink: FrameSink) {
    if (!(maxMessageSize >= 0)) {
      throw new RangeError(`Invalid maxMessageSize: ${maxMessageSize}`);
    }
    this.maxMessageSize = maxMessageSize;
    this.#sink = sink;
  }

  /** Bytes held for a message whose terminator has not arrived yet. */
  get buffered(): number {
    return this.#size;
  }

  /** True after an error or {@link halt}: input is then ignored. */
  get halted(): boolean {
    return this.#halted;
  }

  /**
   * Stops decoding and drops buffered bytes. Safe to call from inside a
   * sink callback: the rest of the current chunk is not reported.
   */
  halt(): void {
    this.#halted = true;
    this.#parts = [];
    this.#size = 0;
  }

  /** Feeds the next chunk of the stream. */
  push(chunk: Buffer): void {
    let start = 0;
    // The sink may halt us (e.g. the session destroys the transport), so
    // the flag is rechecked after every delivery.
    while (!this.#halted) {
      const end = chunk.indexOf(0, start);
      if (end === -1) {
        this.#keep(chunk, start);
        return;
      }
      const length = end - start;
      if (this.#size + length > this.maxMessageSize) {
        this.#fail(this.#size + length);
        return;
      }
      let text: string;
      if (this.#parts.length === 0) {
        // Common case: the whole message is inside this chunk. Decode it in
        // place, no intermediate copy.
        text = chunk.toString('utf8', start, end);
      } else {
        this.#parts.push(chunk.subarray(start, end));
        text = Buffer.concat(this.#parts, this.#size + length).toString('utf8');
        this.#parts = [];
        this.#size = 0;
      }
      start = end + 1;
      this.#sink.message(text);
    }
  }

  /** Holds the unterminated tail of a chunk. */
  #keep(chunk: Buffer, start: number): void {
    const rest = chunk.length - start;
    if (rest === 0) return;
    if (this.#size + rest > this.maxMessageSize) {
      this.#fail(this.#size + rest);
      return;
    }
    // A view, not a copy; it pins the chunk, but never more than the limit
    // plus one chunk's worth of memory.
    this.#parts.push(start === 0 ? chunk : chunk.subarray(start));
    this.#size += rest;
  }

  #fail(seen: number): void {
    this.halt();
    this.#sink.error(
      new ProtocolError(
        `Message exceeds ${this.maxMessageSize} bytes (at least ${seen} received)`,
        ErrorCode.MESSAGE_TOO_LARGE,
      ),
    );
  }
}
