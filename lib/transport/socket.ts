/**
 * Stream transports: TCP, TLS and IPC (Unix socket / Windows named pipe),
 * all speaking NUL-terminated messages (see `framing.ts`).
 */

import * as net from 'node:net';
import * as tls from 'node:tls';

import { ProtocolError } from '../protocol/errors.js';
import { FrameDecoder, type FrameSink } from './framing.js';
import { HandlerSlot } from './handler-slot.js';
import {
  CLOSE_LINGER,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_UNSENT_BYTES,
  Transport,
  TransportHandler,
} from './transport.js';

/** The stream transport kinds. */
export type SocketKind = 'tcp' | 'tls' | 'ipc';

/** Options of {@link SocketTransport}. */
export interface SocketTransportOptions {
  /** Largest accepted message in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Unsent bytes past which a peer that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /**
   * Overrides the peer address shown in logs. IPC sockets have no peer
   * address, so callers pass the socket path.
   */
  remoteAddress?: string;
}

/** Where a socket's transport is found by the listeners all sockets share. */
const OWNER = Symbol('tjstp.socketTransport');
type OwnedSocket = net.Socket & { [OWNER]?: SocketTransport };

/** `host:port` of a socket's peer (`[v6]:port`), or `unknown` once it is closed. */
export const formatAddress = (socket: { readonly remoteAddress?: string; readonly remotePort?: number }): string => {
  const { remoteAddress: host, remotePort: port } = socket;
  if (host === undefined) return 'unknown';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
};

/**
 * A {@link Transport} over a connected `net.Socket` or `tls.TLSSocket`.
 *
 * Sends made in one tick are joined into one string and written once on
 * the next tick. Every socket `error` is handled: it ends in exactly one
 * `handler.close(error)`, reported when the socket's `close` event fires.
 */
export class SocketTransport implements Transport {
  /**
   * Socket listeners shared by every transport (`this` is the socket), and
   * one small sink object: a server holds many idle connections, and
   * closures per connection cost it a few hundred bytes each.
   */
  static readonly #listeners = {
    data(this: OwnedSocket, chunk: Buffer): void {
      const transport = this[OWNER];
      if (transport) transport.#decoder.push(chunk);
    },
    end(this: OwnedSocket): void {
      // The peer finished sending; Node ends our side too (no half-open).
      const transport = this[OWNER];
      if (transport) transport.#open = false;
    },
    error(this: OwnedSocket, error: Error): void {
      const transport = this[OWNER];
      if (!transport) return;
      transport.#slot.fail(error);
      transport.#open = false;
    },
    close(this: OwnedSocket): void {
      const transport = this[OWNER];
      if (transport) transport.#closed();
    },
  };

  static readonly #Sink = class implements FrameSink {
    readonly #transport: SocketTransport;

    constructor(transport: SocketTransport) {
      this.#transport = transport;
    }

    message(text: string): void {
      this.#transport.#slot.message(text);
    }

    error(error: ProtocolError): void {
      this.#transport.#fail(error);
    }
  };

  readonly kind: SocketKind;
  readonly #socket: OwnedSocket;
  readonly #decoder: FrameDecoder;
  readonly #maxUnsentBytes: number;
  readonly #slot: HandlerSlot;
  #remoteAddress: string | undefined;
  #open = true;
  #pending = '';
  #flushScheduled = false;

  /**
   * Takes ownership of a connected socket: from now on the transport owns
   * its `data`, `end`, `error` and `close` events.
   */
  constructor(
    socket: net.Socket,
    kind: SocketKind,
    options: SocketTransportOptions = {},
  ) {
    this.kind = kind;
    this.#socket = socket;
    this.#maxUnsentBytes = options.maxUnsentBytes ?? MAX_UNSENT_BYTES;
    this.#remoteAddress = options.remoteAddress;
    // The socket itself is the slot's flow control: it pauses reading until
    // someone binds, so an unbound transport never holds more than one
    // chunk's worth of messages.
    this.#slot = new HandlerSlot(socket);
    this.#decoder = new FrameDecoder(
      options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      new SocketTransport.#Sink(this),
    );
    if (kind !== 'ipc') socket.setNoDelay(true);
    (socket as OwnedSocket)[OWNER] = this;
    const listeners = SocketTransport.#listeners;
    socket.on('data', listeners.data);
    socket.on('end', listeners.end);
    socket.on('error', listeners.error);
    socket.on('close', listeners.close);
    if (socket.destroyed) {
      this.#open = false;
      process.nextTick(() => this.#closed());
    }
  }

  /**
   * `host:port` of the peer (IPC: the socket path). Looked up on first use,
   * which should be while the socket is connected: after it closes the
   * address is no longer known and this is `unknown`.
   */
  get remoteAddress(): string {
    return (this.#remoteAddress ??= formatAddress(this.#socket));
  }

  get open(): boolean {
    return this.#open;
  }

  send(message: string): void {
    if (!this.#open) return;
    this.#pending += message + '\0';
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Flushes queued sends, then ends the stream (TCP FIN). */
  close(): void {
    if (!this.#open) return;
    this.#flush();
    this.#open = false;
    // What arrives after we closed is not read, only drained to see the FIN;
    // a paused socket would never see it, so never `close`.
    this.#decoder.halt();
    this.#socket.resume();
    this.#socket.end();
    // A peer that never finishes the close must not hold the socket.
    setTimeout(() => this.#socket.destroy(), CLOSE_LINGER).unref();
  }

  destroy(): void {
    this.#open = false;
    this.#pending = '';
    this.#decoder.halt();
    this.#socket.destroy();
  }

  bind(handler: TransportHandler): void {
    this.#slot.bind(handler);
  }

  unbind(): void {
    this.#slot.unbind();
  }

  #flush(): void {
    if (this.#pending === '' || !this.#socket.writable) return;
    const data = this.#pending;
    this.#pending = '';
    this.#socket.write(data);
    if (this.#socket.writableLength > this.#maxUnsentBytes) {
      this.#slot.fail(new ProtocolError(`Peer is not reading: over ${this.#maxUnsentBytes} bytes unsent`));
      this.destroy();
    }
  }

  #fail(error: ProtocolError): void {
    this.#slot.fail(error);
    // Let the protocol layer say why before the connection goes.
    if (this.#open && this.#slot.violation(error)) {
      if (this.#open) {
        this.destroy();
        return;
      }
      // Our side is ended; a peer that keeps sending must not hold the socket.
      setTimeout(() => this.#socket.destroy(), CLOSE_LINGER).unref();
      return;
    }
    this.destroy();
  }

  #closed(): void {
    this.#open = false;
    this.#pending = '';
    this.#decoder.halt();
    this.#slot.end();
  }
}

/** Options of {@link createSocketServer}. */
export interface SocketServerOptions {
  kind: SocketKind;
  /** Certificate and key for `kind: 'tls'`. */
  tls?: tls.TlsOptions;
  /** Largest accepted message in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Unsent bytes past which a peer that does not read is dropped. Default 16 MiB. */
  maxUnsentBytes?: number;
  /** Called with each accepted connection (TLS: once the handshake is done). */
  onTransport(transport: SocketTransport): void;
}

/**
 * Creates a TCP, TLS or IPC server that wraps every accepted connection in
 * a {@link SocketTransport}. The caller calls `listen` and must handle the
 * server's own `error` event (EADDRINUSE and the like). Failed TLS
 * handshakes only drop that socket (Node's default `tlsClientError`
 * behaviour).
 */
export function createSocketServer(
  options: SocketServerOptions,
): net.Server | tls.Server {
  const { kind, maxMessageSize, maxUnsentBytes } = options;
  if (kind === 'tls') {
    if (!options.tls) throw new TypeError('kind "tls" needs the tls option');
    return tls.createServer(options.tls, (socket) => {
      options.onTransport(
        new SocketTransport(socket, kind, { maxMessageSize, maxUnsentBytes }),
      );
    });
  }
  const server: net.Server = net.createServer((socket) => {
    let remoteAddress: string | undefined;
    if (kind === 'ipc') {
      const address = server.address();
      remoteAddress = typeof address === 'string' ? address : 'ipc';
    }
    options.onTransport(
      new SocketTransport(socket, kind, { maxMessageSize, maxUnsentBytes, remoteAddress }),
    );
  });
  return server;
}

/** Options of {@link connectSocket}. */
export interface ConnectSocketOptions {
  kind: SocketKind;
  /** TCP/TLS host. Default `localhost`. */
  host?: string;
  /** TCP/TLS port. */
  port?: number;
  /** IPC socket path. */
  path?: string;
  /** TLS client options (`ca`, `servername`, `rejectUnauthorized`, …). */
  tls?: tls.ConnectionOptions;
  /** Largest accepted message in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Milliseconds to wait for the connection (TLS: its handshake). */
  timeout?: number;
}

/**
 * Connects and resolves with the transport once the connection is usable
 * (TLS: after `secureConnect`). Rejects with the socket's error
 * (`ECONNREFUSED`, certificate errors, …) or, after `timeout` ms, with an
 * error whose `code` is `ETIMEDOUT`.
 */
export function connectSocket(
  options: ConnectSocketOptions,
): Promise<SocketTransport> {
  const { kind, maxMessageSize, timeout } = options;
  let target: string;
  let socket: net.Socket;
  if (kind === 'ipc') {
    if (options.path === undefined) {
      return Promise.reject(new TypeError('kind "ipc" needs a path'));
    }
    target = options.path;
    socket = net.connect({ path: options.path });
  } else {
    if (options.port === undefined) {
      return Promise.reject(new TypeError(`kind "${kind}" needs a port`));
    }
    const host = options.host ?? 'localhost';
    target = `${host}:${options.port}`;
    socket =
      kind === 'tls'
        ? tls.connect({ ...options.tls, host, port: options.port })
        : net.connect({ host, port: options.port });
  }
  const readyEvent = kind === 'tls' ? 'secureConnect' : 'connect';

  return new Promise<SocketTransport>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
    };
    const onError = (error: Error): void => {
      cleanup();
      // Whatever a dying socket still emits must not crash the process.
      socket.on('error', () => {});
      socket.destroy();
      reject(error);
    };
    const onReady = (): void => {
      // The transport attaches its own error listener before ours goes.
      const transport = new SocketTransport(socket, kind, {
        maxMessageSize,
        remoteAddress: kind === 'ipc' ? target : undefined,
      });
      cleanup();
      resolve(transport);
    };
    socket.on('error', onError);
    socket.once(readyEvent, onReady);
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        const error = Object.assign(
          new Error(`Connecting to ${target} timed out after ${timeout} ms`),
          { code: 'ETIMEDOUT' },
        );
        onError(error);
      }, timeout);
    }
  });
}
