/**
 * WebSocket client transport over the W3C `WebSocket` API, for browsers and
 * React Native. This file must not use Node built-ins or `ws`: only the
 * `WebSocket`, `TextDecoder`, `setTimeout` and `queueMicrotask` globals.
 *
 * It also holds what both WebSocket transports share (the close-code
 * mapping), since it is the Node-free one; the subprotocols are in
 * `subprotocol.ts`.
 */

import {
  ErrorCode,
  ProtocolError,
  TjstpError,
  defaultMessages,
} from '../protocol/errors.js';
import { HandlerSlot } from './handler-slot.js';
import {
  BATCH_SUBPROTOCOL,
  Batch,
  JSTP_SUBPROTOCOL,
  offeredSubprotocols,
  splitBatch,
} from './subprotocol.js';
import type { Transport, TransportHandler } from './transport.js';

export { BATCH_SUBPROTOCOL, JSTP_SUBPROTOCOL } from './subprotocol.js';

// Handlers typed as methods so that implementations with richer event
// types (DOM's, the `ws` package's) stay assignable.
type EventHandler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of a W3C `MessageEvent` this transport reads. */
export interface W3CMessageEvent {
  readonly data: unknown;
}

/** The part of a W3C `CloseEvent` this transport reads. */
export interface W3CCloseEvent {
  readonly code: number;
  readonly reason: string;
}

/** The part of the W3C `WebSocket` interface this transport uses. */
export interface W3CWebSocket {
  readonly readyState: number;
  /** The subprotocol the server selected, `''` if none. */
  readonly protocol: string;
  binaryType: string;
  onopen: EventHandler<unknown> | null;
  onmessage: EventHandler<W3CMessageEvent> | null;
  onclose: EventHandler<W3CCloseEvent> | null;
  onerror: EventHandler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A W3C `WebSocket` constructor (the global one, or `ws`'s class). */
export interface W3CWebSocketConstructor {
  new (url: string, protocols?: string | string[]): W3CWebSocket;
}

interface W3CTextDecoder {
  decode(input: ArrayBuffer | ArrayBufferView): string;
}

/**
 * The timer globals, typed here so that this file compiles without Node's
 * or the DOM's type declarations (every target runtime has them).
 */
const timers = globalThis as unknown as {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  queueMicrotask(callback: () => void): void;
};

const OPEN = 1;
const MAX_REASON_BYTES = 123;

/** Cuts `text` to at most `max` UTF-8 bytes, on a code point boundary. */
const truncateUtf8 = (text: string, max: number): string => {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes > max) break;
    end += char.length;
  }
  return text.slice(0, end);
};

/**
 * The WebSocket close status and reason for a tjstp error code, as passed
 * to `Transport#close(code)`.
 */
export const closeStatusFor = (
  code?: number,
): { status: number; reason: string } => {
  let status = 1000;
  if (code === ErrorCode.PROTOCOL_ERROR) status = 1002;
  else if (code === ErrorCode.MESSAGE_TOO_LARGE) status = 1009;
  else if (code === ErrorCode.SERVER_CLOSING) status = 1001;
  const message = code === undefined ? '' : (defaultMessages[code] ?? '');
  return { status, reason: truncateUtf8(message, MAX_REASON_BYTES) };
};

/**
 * What a close the peer started means for the handler: `undefined` for an
 * orderly close (1000, 1001, 1005), an error otherwise.
 */
export const closeErrorFor = (
  status: number,
  reason: string,
): Error | undefined => {
  const detail = reason ? `: ${reason}` : '';
  switch (status) {
    case 1000:
    case 1001:
    case 1005:
      return undefined;
    case 1002:
      return new TjstpError(
        ErrorCode.PROTOCOL_ERROR,
        `Peer closed the connection with a protocol error${detail}`,
      );
    case 1009:
      return new TjstpError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `Peer closed the connection: message too large${detail}`,
      );
    case 1006:
      return new Error('WebSocket connection closed abnormally (1006)');
    default:
      return new Error(`WebSocket closed with status ${status}${detail}`);
  }
};


let textDecoder: W3CTextDecoder | undefined;

const decodeBinary = (data: unknown): string | undefined => {
  const isBuffer = data instanceof ArrayBuffer;
  if (!isBuffer && !ArrayBuffer.isView(data)) return undefined;
  if (!textDecoder) {
    const Decoder = (
      globalThis as { TextDecoder?: new (label?: string) => W3CTextDecoder }
    ).TextDecoder;
    if (!Decoder) return undefined;
    textDecoder = new Decoder('utf-8');
  }
  return textDecoder.decode(data);
};

/**
 * A {@link Transport} over a W3C WebSocket that is already open. Under
 * `metarhia-jstp` each message is sent as its own text frame at once;
 * under `tjstp-batch` the messages sent before the next microtask
 * checkpoint leave in one frame. Closing can only use status 1000 here,
 * since browsers refuse other codes below 3000; the reason still names
 * the tjstp error.
 */
export class W3CWebSocketTransport implements Transport {
  readonly kind: 'ws' | 'wss';
  readonly remoteAddress: string;
  readonly #socket: W3CWebSocket;
  readonly #slot = new HandlerSlot();
  readonly #batch: Batch | undefined;
  #flushScheduled = false;
  #open = true;
  /** We started the close, so the status the peer echoes is no error. */
  #closing = false;

  constructor(socket: W3CWebSocket, url: string) {
    this.#socket = socket;
    this.remoteAddress = url;
    this.kind = /^(wss|https):/i.test(url) ? 'wss' : 'ws';
    if (socket.protocol === BATCH_SUBPROTOCOL) this.#batch = new Batch();
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onerror = () => {
      // Browsers give no detail; the close event that follows carries it.
    };
    socket.onclose = (event) => {
      this.#open = false;
      const error = this.#closing
        ? undefined
        : closeErrorFor(event.code, event.reason);
      this.#slot.end(error);
    };
  }

  get open(): boolean {
    return this.#open && this.#socket.readyState === OPEN;
  }

  /** True when the connection speaks `tjstp-batch`. */
  get batching(): boolean {
    return this.#batch !== undefined;
  }

  send(message: string): void {
    if (!this.open) return;
    const batch = this.#batch;
    if (!batch) {
      this.#sendFrame(message);
      return;
    }
    const full = batch.add(message);
    if (full !== undefined) this.#sendFrame(full);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    timers.queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.open) this.#sendFrame(batch.take());
    });
  }

  close(code?: number): void {
    if (!this.#open) return;
    const queued = this.#batch?.take();
    if (queued && this.#socket.readyState === OPEN) this.#sendFrame(queued);
    this.#open = false;
    this.#closing = true;
    this.#socket.close(1000, closeStatusFor(code).reason);
  }

  /**
   * The W3C API cannot drop a connection abruptly: this starts a close and
   * reports the end at once instead of waiting for the close handshake.
   */
  destroy(): void {
    this.#open = false;
    this.#closing = true;
    this.#batch?.take();
    try {
      this.#socket.close(1000);
    } catch {
      // Already closing; nothing more to do.
    }
    timers.queueMicrotask(() => this.#slot.end());
  }

  bind(handler: TransportHandler): void {
    this.#slot.bind(handler);
  }

  unbind(): void {
    this.#slot.unbind();
  }

  #sendFrame(text: string): void {
    if (text === '') return;
    try {
      this.#socket.send(text);
    } catch (error) {
      this.#slot.fail(error instanceof Error ? error : new Error(String(error)));
      this.destroy();
    }
  }

  #receive(data: unknown): void {
    // After our close or destroy nothing more is delivered.
    if (this.#slot.ended || this.#closing) return;
    const text = typeof data === 'string' ? data : decodeBinary(data);
    if (text === undefined) {
      // A Blob (binaryType ignored) or no TextDecoder: nothing sane to do.
      this.#refuse(new ProtocolError('Cannot decode a binary WebSocket message'));
      return;
    }
    if (!this.#batch) {
      this.#slot.message(text);
      return;
    }
    const messages = splitBatch(text);
    if (messages === undefined) {
      this.#refuse(new ProtocolError(`A ${BATCH_SUBPROTOCOL} frame must end with a message terminator (NUL)`));
      return;
    }
    for (const message of messages) {
      if (this.#closing) return;
      this.#slot.message(message);
    }
  }

  #refuse(error: ProtocolError): void {
    this.#slot.fail(error);
    this.destroy();
  }
}

/** Options of {@link connectW3CWebSocket}. */
export interface ConnectW3CWebSocketOptions {
  /** The implementation to use. Default `globalThis.WebSocket`. */
  WebSocket?: W3CWebSocketConstructor;
  /** Milliseconds to wait for the opening handshake. */
  timeout?: number;
  /**
   * Offer `tjstp-batch` besides `metarhia-jstp` (see `subprotocol.ts`).
   * Default true.
   */
  batching?: boolean;
}

/**
 * Opens a WebSocket offering `metarhia-jstp` and (unless `batching` is
 * false) `tjstp-batch`, and resolves once it is open. Rejects if it fails to
 * open, times out, or the server selected neither.
 */
export function connectW3CWebSocket(
  url: string,
  options: ConnectW3CWebSocketOptions = {},
): Promise<W3CWebSocketTransport> {
  const Ctor =
    options.WebSocket ??
    (globalThis as { WebSocket?: W3CWebSocketConstructor }).WebSocket;
  if (!Ctor) {
    return Promise.reject(
      new TypeError('No WebSocket implementation: pass options.WebSocket'),
    );
  }
  const offered = offeredSubprotocols(options.batching ?? true);
  return new Promise<W3CWebSocketTransport>((resolve, reject) => {
    let socket: W3CWebSocket;
    try {
      socket = new Ctor(url, offered);
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let settled = false;
    let detail = '';
    const timer =
      options.timeout === undefined
        ? undefined
        : timers.setTimeout(() => {
            fail(`timed out after ${options.timeout} ms`);
            socket.close();
          }, options.timeout);
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      reject(new Error(`WebSocket connection to ${url} failed: ${why}`));
    };
    socket.onerror = (event) => {
      // Browsers hide the cause; some implementations (`ws`) expose it.
      const message = (event as { message?: unknown } | null)?.message;
      if (typeof message === 'string' && message) detail = message;
    };
    socket.onclose = (event) => {
      fail(detail || `closed with status ${event.code}`);
    };
    socket.onopen = () => {
      if (settled) return;
      if (!offered.includes(socket.protocol)) {
        fail(`server did not select the ${JSTP_SUBPROTOCOL} subprotocol`);
        socket.close(1000, `${JSTP_SUBPROTOCOL} subprotocol required`);
        return;
      }
      settled = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      resolve(new W3CWebSocketTransport(socket, url));
    };
  });
}
