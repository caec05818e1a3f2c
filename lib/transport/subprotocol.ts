/**
 * The WebSocket subprotocols tjstp speaks, and the batch framing of its own.
 * No Node built-ins: both WebSocket transports (Node's `ws`, W3C) use it.
 *
 * - `metarhia-jstp`: one JSTP message per text frame, without terminator.
 *   What the reference implementation speaks; always accepted.
 * - `tjstp-batch`: every text frame carries one or more whole messages,
 *   each followed by a NUL byte, exactly as on TCP. A sender joins what it
 *   sends in one tick into one frame. tjstp clients offer it after
 *   `metarhia-jstp` and tjstp servers choose it wherever it is in the
 *   offer, so two tjstp peers use it, and a server that knows only the
 *   reference's subprotocol, or naively takes the first one offered,
 *   selects `metarhia-jstp` in the opening handshake.
 *
 * Why a frame per tick and not per message: the per-frame cost (the `ws`
 * sender and receiver, a `message` event, in browsers a task each) is
 * most of what WebSocket adds over TCP. Fanning events out to many
 * connections or answering hundreds of calls in flight spends it once a
 * batch instead of once a message.
 */

/** One JSTP message per frame; the reference's subprotocol. */
export const JSTP_SUBPROTOCOL = 'metarhia-jstp';

/** Several NUL-terminated messages per frame; tjstp to tjstp. */
export const BATCH_SUBPROTOCOL = 'tjstp-batch';

/**
 * A batch of several messages is cut before it passes this many UTF-16
 * code units (at most 1.5 KiB of UTF-8); a single larger message goes in
 * a frame of its own. Small, because a frame is all or nothing: on a link
 * that dies every few kilobytes, messages that arrive one by one still
 * make progress and one big frame would not (the chaos test, which cuts
 * connections every 0.5–3 KB, took 4× as long with 2,048). Half a
 * kilobyte is a dozen typical messages, enough to spread the per-frame
 * cost: fan-out gained as much as with 16,384.
 */
export const BATCH_MAX_CHARS = 512;

/** Every receiver accepts batch frames this large, whatever its message limit. */
export const BATCH_FRAME_BYTES = 64 * 1024;

/**
 * The frame size a WebSocket receiver must allow for a message limit: one
 * message of the largest size with its terminator, or a full batch. The
 * message limit itself is then checked by the transport, per message.
 */
export const maxFrameSize = (maxMessageSize: number): number =>
  Math.max(maxMessageSize + 1, BATCH_FRAME_BYTES);

/**
 * What a client offers. `metarhia-jstp` comes first: a server that takes
 * the first subprotocol offered without knowing it must pick the one that
 * every JSTP server speaks.
 */
export const offeredSubprotocols = (batching: boolean): string[] =>
  batching ? [JSTP_SUBPROTOCOL, BATCH_SUBPROTOCOL] : [JSTP_SUBPROTOCOL];

/**
 * What a server selects from the client's offer: `tjstp-batch` wherever
 * it is offered (unless batching is off), else `metarhia-jstp`; false
 * when the client offers neither.
 */
export const selectSubprotocol = (
  offered: Iterable<string>,
  batching: boolean,
): string | false => {
  let jstp = false;
  for (const name of offered) {
    if (batching && name === BATCH_SUBPROTOCOL) return BATCH_SUBPROTOCOL;
    if (name === JSTP_SUBPROTOCOL) jstp = true;
  }
  return jstp ? JSTP_SUBPROTOCOL : false;
};

/**
 * What one connection has queued for its next batch frame. A transport
 * adds each message and, at the end of the tick, sends what it takes.
 */
export class Batch {
  #text = '';

  /** True when nothing is queued. */
  get empty(): boolean {
    return this.#text === '';
  }

  /**
   * Queues a message. Returns the batch so far when this message would
   * make it too long: the caller sends that first, as its own frame.
   */
  add(message: string): string | undefined {
    const text = this.#text;
    if (text !== '' && text.length + message.length >= BATCH_MAX_CHARS) {
      this.#text = `${message}\0`;
      return text;
    }
    this.#text = `${text}${message}\0`;
    return undefined;
  }

  /** Takes the queued frame (possibly empty) and starts a new one. */
  take(): string {
    const text = this.#text;
    this.#text = '';
    return text;
  }
}

/**
 * Splits a batch frame received as text into its messages. Returns
 * undefined when the frame does not end with a terminator: the peer
 * broke the framing.
 */
export const splitBatch = (frame: string): string[] | undefined => {
  if (frame.length === 0 || frame.charCodeAt(frame.length - 1) !== 0) return undefined;
  return frame.slice(0, -1).split('\0');
};
