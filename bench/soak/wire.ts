/**
 * A lean raw JSTP connection for the soak's attackers and fuzzer: TCP
 * (NUL-terminated), WebSocket `metarhia-jstp` (a message per frame) or
 * `tjstp-batch` (NUL-terminated messages in frames), from a chosen local
 * address, with no tjstp client logic in between.
 *
 * Unlike the test helpers' raw clients it keeps only the first bytes of
 * each message (`head`): an attacker receives megabytes of room messages
 * it never reads, and parsing or storing them would make the attacking
 * process, not the server, the bottleneck.
 */
import net from 'node:net';
import WebSocket from 'ws';

export type WireKind = 'tcp' | 'ws' | 'ws-batch';

export const WIRE_KINDS: readonly WireKind[] = ['tcp', 'ws', 'ws-batch'];

export interface Endpoint {
  tcpPort: number;
  wsUrl: string;
}

/** How a connection ended: WS close status and reason, or none (TCP). */
export interface WireEnd {
  code: number | undefined;
  reason: string;
}

/** Bytes of each message kept for inspection: enough for a handshake reply or a close. */
const HEAD = 2048;

type Waiter = { match: (head: string) => boolean; resolve: (head: string | undefined) => void; timer: ReturnType<typeof setTimeout> };

export class Wire {
  readonly kind: WireKind;
  /** Messages received so far. */
  received = 0;
  /** Bytes received so far (payload). */
  bytes = 0;
  /** Heads of the latest messages, newest last (a few only). */
  readonly recent: string[] = [];
  closed = false;
  end: WireEnd = { code: undefined, reason: '' };
  readonly #send: (data: string | Buffer, fragment?: { binary: boolean; fin: boolean }) => void;
  readonly #destroy: () => void;
  /** Resolves when the connection has closed. */
  readonly done: Promise<void>;
  readonly #waiters = new Set<Waiter>();
  #wakeDone: () => void = () => {};
  /** TCP: the head of the message being received, and whether it is complete. */
  #partial: Buffer[] = [];
  #partialBytes = 0;

  constructor(kind: WireKind, send: (data: string | Buffer, fragment?: { binary: boolean; fin: boolean }) => void, destroy: () => void) {
    this.kind = kind;
    this.#send = send;
    this.#destroy = destroy;
    this.done = new Promise((resolve) => {
      this.#wakeDone = resolve;
    });
  }

  /** One message: TCP and ws-batch append the NUL, ws sends it as one frame. */
  send(text: string): void {
    this.#send(this.kind === 'ws' ? text : `${text}\0`);
  }

  /** TCP: these bytes, nothing appended. WS: one text frame (binary if asked). */
  sendRaw(data: string | Buffer, binary = false): void {
    this.#send(data, { binary, fin: true });
  }

  /**
   * One message in pieces, `pauseMs` apart: TCP bytes cut anywhere (inside
   * a UTF-8 sequence too), WS one message in fragments (continuation frames).
   */
  async sendPieces(text: string, cuts: readonly number[], pauseMs: number): Promise<void> {
    const bytes = Buffer.from(this.kind === 'ws' ? text : `${text}\0`, 'utf8');
    const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].filter((at) => at > 0 && at < bytes.length);
    let from = 0;
    for (const [i, at] of [...points, bytes.length].entries()) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      if (this.closed) return;
      this.#send(bytes.subarray(from, at), { binary: false, fin: at === bytes.length });
      from = at;
    }
  }

  destroy(): void {
    this.#destroy();
  }

  /** Resolves with the head of the first message from now on that matches, or undefined on close or timeout. */
  waitFor(match: (head: string) => boolean, ms: number): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve: (head) => {
          clearTimeout(waiter.timer);
          this.#waiters.delete(waiter);
          resolve(head);
        },
        timer: setTimeout(() => waiter.resolve(undefined), ms),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Resolves once closed, or after `ms` (false then). */
  waitClose(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    return Promise.race([this.done.then(() => true), late]).finally(() => clearTimeout(timer));
  }

  /** A whole message arrived (its first bytes). */
  message(head: string, size: number): void {
    this.received++;
    this.bytes += size;
    this.recent.push(head);
    if (this.recent.length > 8) this.recent.shift();
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(head)) waiter.resolve(head);
    }
  }

  /** TCP bytes: split at NULs, keeping only each message's head. */
  chunk(data: Buffer): void {
    let start = 0;
    let end = data.indexOf(0, start);
    while (end !== -1) {
      const piece = data.subarray(start, end);
      const size = this.#partialBytes + piece.length;
      const head = this.#partialBytes === 0
        ? piece.subarray(0, HEAD)
        : Buffer.concat([...this.#partial, piece.subarray(0, Math.max(0, HEAD - this.#partialBytes))]);
      this.#partial = [];
      this.#partialBytes = 0;
      this.message(head.toString('utf8'), size);
      start = end + 1;
      end = data.indexOf(0, start);
    }
    if (start < data.length) {
      const rest = data.subarray(start);
      if (this.#partialBytes < HEAD) this.#partial.push(Buffer.from(rest.subarray(0, HEAD - this.#partialBytes)));
      this.#partialBytes += rest.length;
    }
  }

  /** A WS frame: one message, or (batch) several, each ending with NUL. */
  frame(data: Buffer): void {
    if (this.kind === 'ws') {
      this.message(data.subarray(0, HEAD).toString('utf8'), data.length);
      return;
    }
    this.chunk(data);
  }

  ended(end: WireEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.end = end;
    for (const waiter of [...this.#waiters]) waiter.resolve(undefined);
    this.#wakeDone();
  }
}

/** Opens a connection of `kind` from `localAddress` (default: the kernel's choice). */
export const openWire = (kind: WireKind, at: Endpoint, localAddress?: string, timeoutMs = 10_000): Promise<Wire> =>
  kind === 'tcp' ? openTcp(at.tcpPort, localAddress, timeoutMs) : openWs(at.wsUrl, kind === 'ws-batch', localAddress, timeoutMs);

const openTcp = (port: number, localAddress: string | undefined, timeoutMs: number): Promise<Wire> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress !== undefined && { localAddress }) });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`tcp connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const wire = new Wire(
      'tcp',
      (data: string | Buffer) => {
        if (!socket.destroyed) socket.write(data);
      },
      () => socket.destroy(),
    );
    socket.on('data', (data: Buffer) => wire.chunk(data));
    socket.on('close', () => wire.ended({ code: undefined, reason: '' }));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(wire);
    });
  });

const openWs = (url: string, batch: boolean, localAddress: string | undefined, timeoutMs: number): Promise<Wire> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, batch ? 'tjstp-batch' : 'metarhia-jstp', {
      perMessageDeflate: false,
      // The server's frames are read for their first bytes only.
      skipUTF8Validation: true,
      handshakeTimeout: timeoutMs,
      ...(localAddress !== undefined && { localAddress }),
    });
    const wire = new Wire(
      batch ? 'ws-batch' : 'ws',
      (data, fragment = { binary: false, fin: true }) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data, fragment);
      },
      () => ws.terminate(),
    );
    ws.on('message', (data: WebSocket.RawData) => {
      wire.frame(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
    });
    ws.on('close', (code: number, reason: Buffer) => wire.ended({ code, reason: reason.toString('utf8') }));
    ws.on('error', (error) => {
      reject(error);
      wire.ended({ code: undefined, reason: String(error) });
    });
    ws.once('open', () => resolve(wire));
  });

/** The JSON of a small message's head, or undefined (cut or not JSON). */
export const parseHead = (head: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(head);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** The wire error a handshake reply or close carries (`[code, message, ...info]`), if any. */
export const errorOf = (head: string): unknown[] | undefined => {
  const message = parseHead(head);
  return Array.isArray(message?.error) ? (message.error as unknown[]) : undefined;
};
