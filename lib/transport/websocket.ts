/**
 * The WebSocket transport for Node, on the `ws` package. Connections come
 * from `websocket-client.ts` and `websocket-server.ts`.
 * A connection speaks `metarhia-jstp` (one message per frame) or, between
 * tjstp peers, `tjstp-batch` (a tick's messages in one frame, each
 * NUL-terminated): see `subprotocol.ts`.
 */

import type * as net from 'node:net';
import type { Duplex } from 'node:stream';

import WebSocket from 'ws';

import { ErrorCode, ProtocolError } from '../protocol/errors.js';
import {
  CLOSE_LINGER,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_UNSENT_BYTES,
  Transport,
  TransportHandler,
} from './transport.js';
import { FrameDecoder, type FrameSink } from './framing.js';
import { HandlerSlot, type HandlerSlotHooks } from './handler-slot.js';
import { formatAddress } from './socket.js';
import { BATCH_SUBPROTOCOL, Batch, maxFrameSize } from './subprotocol.js';
import { closeErrorFor, closeStatusFor } from './w3c-websocket.js';

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** Peer address for logs. Default: looked up on first use from `socket`. */
  remoteAddress?: string;
  /**
   * Largest message accepted, in bytes. Default 1 MiB. The WebSocket's own
   * `maxPayload` must allow {@link maxFrameSize} of it: the transport
   * checks each message, since a batch frame holds several.
   */
  maxMessageSize?: number;
  /** Unsent bytes past which a peer that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /**
   * The connection's socket, corked for a tick on send so that messages
   * sent in one tick leave in one segment (one frame each under
   * `metarhia-jstp`). Without it each frame is written on its own.
   */
  socket?: Pick<Duplex, 'cork' | 'uncork'> & Partial<Pick<net.Socket, 'remoteAddress' | 'remotePort' | 'end'>>;
}

const toBuffer = (data: WebSocket.RawData): Buffer => {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
};

/** Turns what `ws` emits as `error` into the error the handler sees. */
const toTransportError = (error: Error, maxPayload: number): Error => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return new ProtocolError(
      `Frame exceeds ${maxPayload} bytes`,
      ErrorCode.MESSAGE_TOO_LARGE,
    );
  }
  if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
    return new ProtocolError(`Invalid WebSocket frame: ${error.message}`);
  }
  return error;
};

/** Where a WebSocket's transport is found by the listeners all of them share. */
const OWNER = Symbol('tjstp.webSocketTransport');
type OwnedWebSocket = WebSocket & { [OWNER]?: WebSocketTransport };

/**
 * A {@link Transport} over an open `ws` WebSocket, in the subprotocol the
 * opening handshake selected. Every `error` the WebSocket emits is handled
 * and ends in exactly one `handler.close`.
 */
export class WebSocketTransport implements Transport {
  /**
   * WebSocket listeners shared by every transport (`this` is the WebSocket)
   * and one small flow-control object: a server holds many idle
   * connections, and closures per connection cost it a few hundred bytes.
   */
  static readonly #listeners = {
    message(this: OwnedWebSocket, data: WebSocket.RawData): void {
      const transport = this[OWNER];
      if (transport) transport.#receive(toBuffer(data));
    },
    error(this: OwnedWebSocket, error: Error): void {
      const transport = this[OWNER];
      if (!transport) return;
      transport.#open = false;
      transport.#slot.fail(toTransportError(error, maxFrameSize(transport.#maxMessageSize)));
    },
    close(this: OwnedWebSocket, status: number, reason: Buffer): void {
      const transport = this[OWNER];
      if (!transport) return;
      transport.#open = false;
      transport.#uncork();
      const error = transport.#closing
        ? undefined
        : closeErrorFor(status, reason.toString('utf8'));
      transport.#slot.end(error);
    },
  };

  /**
   * Reading stops while nobody is bound (until `bind`), never while
   * closing: the close handshake needs the peer's frame.
   */
  static readonly #Flow = class implements HandlerSlotHooks {
    readonly #transport: WebSocketTransport;

    constructor(transport: WebSocketTransport) {
      this.#transport = transport;
    }

    pause(): void {
      if (this.#transport.#open) this.#transport.#ws.pause();
    }

    resume(): void {
      this.#transport.#ws.resume();
    }
  };

  /** Receives what a batch frame's decoder finds. */
  static readonly #Sink = class implements FrameSink {
    readonly #transport: WebSocketTransport;

    constructor(transport: WebSocketTransport) {
      this.#transport = transport;
    }

    message(text: string): void {
      this.#transport.#slot.message(text);
    }

    error(error: ProtocolError): void {
      this.#transport.#refuse(error);
    }
  };

  /**
   * The end of a tick that sent something: the batch (if batching) becomes
   * a frame, and the socket, corked since the tick's first send, writes
   * all of the tick's frames at once.
   */
  static #endTick(transport: WebSocketTransport): void {
    transport.#tickScheduled = false;
    const batch = transport.#batch;
    if (batch && transport.open) transport.#sendFrame(batch.take());
    transport.#uncork();
  }

  readonly kind: 'ws' | 'wss';
  readonly #ws: OwnedWebSocket;
  readonly #socket: WebSocketTransportOptions['socket'];
  #remoteAddress: string | undefined;
  readonly #slot: HandlerSlot;
  readonly #maxUnsentBytes: number;
  readonly #maxMessageSize: number;
  /** Under `tjstp-batch`: what this tick sent. */
  readonly #batch: Batch | undefined;
  /** Under `tjstp-batch`: what arrives; made with the first frame. */
  #decoder: FrameDecoder | undefined;
  #tickScheduled = false;
  #open = true;
  /** We started the close, so the status the peer echoes is no error. */
  #closing = false;
  #corked = false;
  /**
   * False once we closed or destroyed the transport, or the peer broke a
   * limit or the framing: nothing more it sent is delivered, not even the
   * rest of the frame or chunk being delivered.
   */
  #reading = true;

  constructor(
    ws: WebSocket,
    kind: 'ws' | 'wss',
    options: WebSocketTransportOptions,
  ) {
    this.kind = kind;
    this.#remoteAddress = options.remoteAddress;
    this.#ws = ws;
    this.#socket = options.socket;
    this.#maxUnsentBytes = options.maxUnsentBytes ?? MAX_UNSENT_BYTES;
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#slot = new HandlerSlot(new WebSocketTransport.#Flow(this));
    if (ws.protocol === BATCH_SUBPROTOCOL) this.#batch = new Batch();
    // Text and binary frames alike carry UTF-8 text.
    (ws as OwnedWebSocket)[OWNER] = this;
    const listeners = WebSocketTransport.#listeners;
    ws.on('message', listeners.message);
    ws.on('error', listeners.error);
    ws.on('close', listeners.close);
    if (ws.readyState !== WebSocket.OPEN) this.#open = false;
  }

  /** The peer's address; looked up on first use, so read it while connected. */
  get remoteAddress(): string {
    return (this.#remoteAddress ??= this.#socket ? formatAddress(this.#socket) : 'unknown');
  }

  /** True when the connection speaks `tjstp-batch`. */
  get batching(): boolean {
    return this.#batch !== undefined;
  }

  get open(): boolean {
    return this.#open && this.#ws.readyState === WebSocket.OPEN;
  }

  send(message: string): void {
    if (!this.open) return;
    if (!this.#tickScheduled) {
      this.#tickScheduled = true;
      if (this.#socket) {
        this.#corked = true;
        this.#socket.cork();
      }
      process.nextTick(WebSocketTransport.#endTick, this);
    }
    // Batching, a frame is only sent here when the batch is full.
    const frame = this.#batch ? this.#batch.add(message) : message;
    if (frame !== undefined) this.#sendFrame(frame);
  }

  /**
   * Sends what is queued, then a close frame: PROTOCOL_ERROR → 1002,
   * MESSAGE_TOO_LARGE → 1009, SERVER_CLOSING → 1001, anything else 1000;
   * the reason is the code's default message.
   */
  close(code?: number): void {
    if (!this.#open) return;
    const queued = this.#batch?.take();
    if (queued && this.#ws.readyState === WebSocket.OPEN) this.#ws.send(queued);
    this.#open = false;
    this.#closing = true;
    // As on the stream transports, what arrives after our close is not read.
    this.#stopReading();
    const { status, reason } = closeStatusFor(code);
    this.#ws.close(status, reason);
    this.#uncork();
    this.#ws.resume();
    // ws waits 30 s for the peer's close frame; a peer that never sends one
    // must not hold the connection that long.
    setTimeout(() => this.#ws.terminate(), CLOSE_LINGER).unref();
  }

  /**
   * Ends the TCP stream with no close frame: a peer that closes on reading
   * the end (as the reference does) has seen it once `close` is reported.
   * Without the socket, an ordinary {@link close}.
   */
  end(): void {
    const socket = this.#socket;
    if (!this.#open || socket?.end === undefined) {
      this.close();
      return;
    }
    const queued = this.#batch?.take();
    if (queued && this.#ws.readyState === WebSocket.OPEN) this.#ws.send(queued);
    this.#open = false;
    this.#closing = true;
    this.#stopReading();
    this.#uncork();
    socket.end();
    // Reading goes on, unread, to see the peer's end.
    this.#ws.resume();
    setTimeout(() => this.#ws.terminate(), CLOSE_LINGER).unref();
  }

  destroy(): void {
    this.#open = false;
    this.#closing = true;
    this.#corked = false; // the socket is going away with its buffer
    this.#batch?.take();
    this.#stopReading();
    this.#ws.terminate();
  }

  bind(handler: TransportHandler): void {
    this.#slot.bind(handler);
  }

  unbind(): void {
    this.#slot.unbind();
  }

  #sendFrame(text: string): void {
    if (text === '') return;
    this.#ws.send(text);
    if (this.#ws.bufferedAmount > this.#maxUnsentBytes) {
      this.#slot.fail(new ProtocolError(`Peer is not reading: over ${this.#maxUnsentBytes} bytes unsent`));
      this.destroy();
    }
  }

  #receive(frame: Buffer): void {
    if (!this.#reading) return;
    if (this.#batch === undefined) {
      if (frame.length > this.#maxMessageSize) {
        this.#refuse(new ProtocolError(`Message exceeds ${this.#maxMessageSize} bytes`, ErrorCode.MESSAGE_TOO_LARGE));
        return;
      }
      this.#slot.message(frame.toString('utf8'));
      return;
    }
    // A frame is taken whole or refused whole, as the W3C transport does.
    const last = frame.length - 1;
    if (last < 0 || frame[last] !== 0) {
      this.#refuse(new ProtocolError(`A ${BATCH_SUBPROTOCOL} frame must end with a message terminator (NUL)`));
      return;
    }
    // It ends with a terminator, so the decoder never holds a partial message.
    this.#decoder ??= new FrameDecoder(this.#maxMessageSize, new WebSocketTransport.#Sink(this));
    this.#decoder.push(frame);
  }

  /**
   * The peer's input broke a limit or the framing. Like the stream
   * transports, the handler may say why before the connection goes; the
   * close status (1009, 1002) tells the peer either way.
   */
  #refuse(error: ProtocolError): void {
    this.#stopReading();
    this.#slot.fail(error);
    if (this.#open) this.#slot.violation(error);
    // A no-op when the handler has closed already.
    this.close(error.code);
  }

  #stopReading(): void {
    this.#reading = false;
    this.#decoder?.halt();
  }

  #uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket?.uncork();
  }
}
