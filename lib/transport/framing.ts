/**
 * NUL-delimited framing for the stream transports (TCP, TLS, IPC).
 *
 * Every JSTP message on a stream is its UTF-8 text followed by one `\0`.
 * The decoder works on bytes, not strings: it finds terminators with
 * `Buffer#indexOf` (native, no per-byte JS loop) and decodes only whole
 * messages, so a multi-byte character split across chunks is never mangled
 * and the size limit is counted in bytes, as the option promises.
 */

import { ErrorCode, ProtocolError } from '../protocol/errors.js';

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
    if (this.#halted) return;
    let start = 0;
    // The sink may halt us (e.g. the session destroys the transport), so
    // the flag is rechecked after every delivery.
    if (this.#parts.length > 0) {
      start = this.#finishHeld(chunk);
      if (start === -1) return;
    }
    const last = chunk.lastIndexOf(0);
    if (last < start) {
      this.#keep(chunk, start);
      return;
    }
    if (last - start <= this.maxMessageSize) {
      // No message between here and the last terminator can pass the limit:
      // decode them all at once and split the text (a NUL byte is never
      // part of a multi-byte character). One native call per chunk, not
      // one per message.
      const texts = chunk.toString('utf8', start, last).split('\0');
      for (const text of texts) {
        if (this.#halted) return;
        this.#sink.message(text);
      }
    } else if (!this.#pushEach(chunk, start, last)) {
      return;
    }
    if (!this.#halted) this.#keep(chunk, last + 1);
  }

  /**
   * Completes the message held from earlier chunks with this chunk's first
   * bytes. Returns where the rest begins, or -1 when there is nothing more
   * to do with this chunk.
   */
  #finishHeld(chunk: Buffer): number {
    const end = chunk.indexOf(0);
    if (end === -1) {
      this.#keep(chunk, 0);
      return -1;
    }
    if (this.#size + end > this.maxMessageSize) {
      this.#fail(this.#size + end);
      return -1;
    }
    this.#parts.push(chunk.subarray(0, end));
    const text = Buffer.concat(this.#parts, this.#size + end).toString('utf8');
    this.#parts = [];
    this.#size = 0;
    this.#sink.message(text);
    return this.#halted ? -1 : end + 1;
  }

  /**
   * Delivers the messages in `chunk[start..last]` one at a time, checking
   * each against the limit. Returns false when it stopped (limit, halt).
   */
  #pushEach(chunk: Buffer, start: number, last: number): boolean {
    let from = start;
    while (from <= last) {
      if (this.#halted) return false;
      const end = chunk.indexOf(0, from);
      if (end - from > this.maxMessageSize) {
        this.#fail(end - from);
        return false;
      }
      const text = chunk.toString('utf8', from, end);
      from = end + 1;
      this.#sink.message(text);
    }
    return true;
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
