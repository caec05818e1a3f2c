/**
 * Raw wire clients for server tests: a TCP socket speaking NUL-terminated
 * text and a `ws` WebSocket speaking one message per frame (`ws`) or
 * NUL-terminated messages in frames (`ws-batch`, the `tjstp-batch`
 * subprotocol), with no tjstp client logic in between. They record everything the server sends and
 * how the connection ended, so tests can assert on exact bytes.
 */
import net from 'node:net';
import WebSocket from 'ws';

/** A message the server sent, parsed (the server always sends JSON). */
export type Msg = Record<string, any>;

export type RawKind = 'tcp' | 'ws' | 'ws-batch';

export interface RawClient {
  readonly kind: RawKind;
  /** Every message text received, in order. */
  readonly texts: string[];
  /** Parsed messages; a text that is not JSON is kept as `{ unparsed: text }`. */
  readonly messages: Msg[];
  readonly closed: boolean;
  /** WS only: the close status and reason the server sent. */
  readonly closeCode: number | undefined;
  readonly closeReason: string;
  /** Sends one message: TCP and ws-batch append `\0`, WS sends one text frame. */
  send(text: string): void;
  /** TCP: raw bytes, nothing appended. WS: one frame (binary if asked). */
  sendRaw(data: string | Buffer, options?: { binary?: boolean }): void;
  /** Resolves with the first message (received so far or later) matching `match`. */
  waitMessage(match: (message: Msg) => boolean, ms?: number, what?: string): Promise<Msg>;
  /** Resolves once the connection is closed (by either side). */
  waitClose(ms?: number): Promise<void>;
  /** Orderly close (TCP FIN / WS close 1000). */
  end(): void;
  /** Drops the connection at once. */
  destroy(): void;
}

const parse = (text: string): Msg => {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Msg;
    return { unparsed: text };
  } catch {
    return { unparsed: text };
  }
};

abstract class Base implements RawClient {
  abstract readonly kind: RawKind;
  readonly texts: string[] = [];
  readonly messages: Msg[] = [];
  closed = false;
  closeCode: number | undefined;
  closeReason = '';
  #wakers = new Set<() => void>();

  abstract send(text: string): void;
  abstract sendRaw(data: string | Buffer, options?: { binary?: boolean }): void;
  abstract end(): void;
  abstract destroy(): void;

  protected received(text: string): void {
    this.texts.push(text);
    this.messages.push(parse(text));
    this.#wake();
  }

  protected ended(): void {
    this.closed = true;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /** Waits until `check` returns something other than undefined. */
  protected until<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first !== undefined) {
        resolve(first);
        return;
      }
      const waker = (): void => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.kind}: timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(this.texts)}${this.closed ? ' (closed)' : ''}`));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(waker);
      };
      this.#wakers.add(waker);
    });
  }

  waitMessage(match: (message: Msg) => boolean, ms = 2000, what = 'a message'): Promise<Msg> {
    return this.until(() => this.messages.find((message) => {
      try {
        return match(message);
      } catch {
        return false;
      }
    }), ms, what);
  }

  async waitClose(ms = 2000): Promise<void> {
    await this.until(() => (this.closed ? true : undefined), ms, 'the connection to close');
  }
}

export class RawTcp extends Base {
  readonly kind = 'tcp' as const;
  readonly socket: net.Socket;
  #buffer = '';

  constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let end = this.#buffer.indexOf('\0');
      while (end !== -1) {
        this.received(this.#buffer.slice(0, end));
        this.#buffer = this.#buffer.slice(end + 1);
        end = this.#buffer.indexOf('\0');
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.ended());
  }

  /** Bytes received after the last NUL (a message without its terminator). */
  get unterminated(): string {
    return this.#buffer;
  }

  send(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text + '\0');
  }

  sendRaw(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class RawWs extends Base {
  readonly kind: 'ws' | 'ws-batch';
  readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    this.kind = ws.protocol === 'tjstp-batch' ? 'ws-batch' : 'ws';
    ws.on('message', (data: WebSocket.RawData) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const text = buffer.toString('utf8');
      if (this.kind === 'ws') this.received(text);
      else for (const message of text.slice(0, -1).split('\0')) this.received(message);
    });
    ws.on('error', () => {});
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString('utf8');
      this.ended();
    });
  }

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.kind === 'ws' ? text : `${text}\0`);
  }

  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary: options.binary ?? false });
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

export const openTcp = (port: number): Promise<RawTcp> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new RawTcp(socket));
    });
  });

export const openWs = (url: string, batch = false): Promise<RawWs> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, batch ? 'tjstp-batch' : 'metarhia-jstp', { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(new RawWs(ws));
    });
  });

/** Where a fixture listens: `{ port: { tcp }, url: { ws } }` as `startServer` returns. */
export interface Endpoints {
  port: { tcp: number };
  url: { ws: string };
}

export const openRaw = (kind: RawKind, at: Endpoints): Promise<RawClient> =>
  kind === 'tcp' ? openTcp(at.port.tcp) : openWs(at.url.ws, kind === 'ws-batch');

export const isHandshake = (message: Msg): boolean => Array.isArray(message.handshake);
export const isClose = (message: Msg): boolean => Array.isArray(message.close);
export const isCallback = (id: number) => (message: Msg): boolean =>
  Array.isArray(message.callback) && message.callback[0] === id;

/** Sends a hello and resolves with the server's handshake reply. */
export const hello = async (client: RawClient, text = '{"handshake":[0,"testApp"]}'): Promise<Msg> => {
  client.send(text);
  return client.waitMessage(isHandshake, 2000, 'the handshake reply');
};

/** Opens a connection, says an anonymous hello; resolves with the client and session id. */
export const openSession = async (kind: RawKind, at: Endpoints): Promise<{ client: RawClient; id: string }> => {
  const client = await openRaw(kind, at);
  const reply = await hello(client);
  if (typeof reply.ok !== 'string') throw new Error(`handshake failed: ${JSON.stringify(reply)}`);
  return { client, id: reply.ok };
};

/** Sends a call with an explicit id and resolves with its callback. */
export const rawCall = (
  client: RawClient,
  id: number,
  iface: string,
  method: string,
  args: unknown[],
  ms = 2000,
): Promise<Msg> => {
  client.send(JSON.stringify({ call: [id, iface], [method]: args }));
  return client.waitMessage(isCallback(id), ms, `the callback of call ${id}`);
};

/**
 * A client that stays connected through a test file and proves the server
 * still serves others: each check makes a fresh call on its own session.
 */
export class Healthy {
  #next = 1;

  constructor(readonly client: RawClient) {}

  static async open(kind: RawKind, at: Endpoints): Promise<Healthy> {
    const { client } = await openSession(kind, at);
    return new Healthy(client);
  }

  /** Fails unless `calc.add(n, 1)` is answered with `n + 1` on this connection. */
  async check(): Promise<void> {
    const id = this.#next++;
    if (this.client.closed) throw new Error(`healthy ${this.client.kind} client was closed`);
    const reply = await rawCall(this.client, id, 'calc', 'add', [id, 1]);
    if (!Array.isArray(reply.ok) || reply.ok[0] !== id + 1) {
      throw new Error(`healthy ${this.client.kind} client got ${JSON.stringify(reply)}`);
    }
  }
}

/** What a tjstp client says in a new session's hello: it can prove a key. */
export const BOUND_HELLO = '{"handshake":[0,"testApp"],"anonymous":null,"tjstp":{"version":1}}';

/** Opens a session as a tjstp client would: the welcome carries the session's key. */
export const openBoundSession = async (kind: RawKind, at: Endpoints): Promise<{ client: RawClient; id: string; key: string }> => {
  const client = await openRaw(kind, at);
  const reply = await hello(client, BOUND_HELLO);
  if (typeof reply.ok !== 'string' || typeof reply.tjstp?.key !== 'string') throw new Error(`bound handshake failed: ${JSON.stringify(reply)}`);
  return { client, id: reply.ok, key: reply.tjstp.key };
};
