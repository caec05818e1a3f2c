/**
 * What the protocol engine needs from a transport: ordered, whole messages in
 * and out. Implementations live beside this file; this interface carries no
 * Node built-ins so the client core can run in browsers and React Native.
 */

/** The listener a transport reports to. Exactly one at a time. */
export interface TransportHandler {
  /** One whole, still serialized message (no NUL terminator, one WS frame). */
  message(text: string): void;
  /**
   * The transport is gone. `error` is set when it died of an error (socket
   * error, oversize message, malformed framing) rather than an orderly close.
   */
  close(error?: Error): void;
  /**
   * Optional: the peer sent input the transport refuses (a message over the
   * size limit, bad framing). Reading has stopped. The handler may send one
   * last message explaining why and call `close()`; if it does not close,
   * the transport is destroyed. `close(error)` follows either way.
   */
  violation?(error: Error): void;
}

export type TransportKind = 'tcp' | 'tls' | 'ipc' | 'ws' | 'wss';

export interface Transport {
  readonly kind: TransportKind;
  /** Peer address for logs (`127.0.0.1:53412`, a socket path, …). */
  readonly remoteAddress: string;
  /** False once closing or closed; sends are then dropped silently. */
  readonly open: boolean;
  /**
   * Queues one serialized message. Writes are batched and flushed once per
   * tick, so many sends in one tick leave in one segment.
   */
  send(message: string): void;
  /**
   * Flushes what is queued, then closes in an orderly way. `code` is a tjstp
   * error code (see `ErrorCode`) that WebSocket transports map to a close
   * status and reason; stream transports ignore it.
   */
  close(code?: number): void;
  /** Drops the connection at once, discarding anything queued. */
  destroy(): void;
  /**
   * Optional: closes by ending the byte stream underneath (a TCP FIN),
   * with no closing handshake of the transport's own, and reports `close`
   * once the peer has ended its side too. A peer that closes on reading an
   * end has then seen ours; after a WebSocket close frame it need not have.
   * What is queued is sent first. Where absent, `close()` is that already
   * (stream transports) or the best there is (the W3C WebSocket).
   */
  end?(): void;
  /**
   * Installs the listener. A transport starts with a handler that buffers
   * nothing: messages that arrive before `bind` are queued and delivered on
   * `bind`, so no data is lost between accept and handshake.
   */
  bind(handler: TransportHandler): void;
  /**
   * Detaches the current listener: from now on nothing is reported. Used
   * when a session moves to another transport, so a dying socket can never
   * touch the session again.
   */
  unbind(): void;
}

/** Options every transport understands. */
export interface TransportLimits {
  /**
   * Largest message accepted, in bytes (TCP: up to the NUL; WS: the whole
   * message). Larger input closes the connection with MESSAGE_TOO_LARGE.
   * Default 1 MiB.
   */
  maxMessageSize?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

/**
 * Bytes written but not yet taken by the peer past which a transport gives
 * up on it: a peer that does not read (while, say, flooding pings) must not
 * grow the server's memory without bound. 16 MiB.
 */
export const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/** ms a transport waits for the peer to finish an orderly close before dropping it. */
export const CLOSE_LINGER = 2000;
