/**
 * A TCP proxy between client and server that tests use to break
 * connections: kill them all (both sides see the loss), kill each after a
 * random number of bytes (mid-message), or freeze them (the server's socket
 * stays open and silent, like a phone that switched networks). With
 * `closeDelay` it relays closes the way a slow path does: a side's FIN
 * reaches the other side that much later, as a FIN (half-close), while data
 * keeps flowing at once.
 */
import net from 'node:net';

export interface ProxyOptions {
  /** Kill each connection after this many bytes in either direction. */
  killAfterBytes?: () => number;
  /**
   * When a byte budget runs out, the chance (0–1) that the connection is
   * frozen (client side cut, server side left open) rather than killed.
   */
  freezeChance?: () => boolean;
  /** Sees every chunk forwarded; `toServer` tells the direction. */
  tap?: (toServer: boolean, chunk: Buffer) => void;
  /**
   * Asked once per new connection: how many ms to hold what the client
   * sends before it reaches the server (a congested or dying path). A
   * WebSocket upgrade request goes through at once, so that what is late
   * is the first message, as on TCP.
   */
  delayToServer?: () => number;
  /**
   * ms before one side's end reaches the other, for connections accepted
   * while set. A FIN is relayed as a FIN, so an orderly close completes end
   * to end; a reset is relayed as a reset. Unset: either side's end ends both.
   */
  closeDelay?: () => number;
}

const UPGRADE = Buffer.from('GET ');

export class Proxy {
  readonly server: net.Server;
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket; frozen: boolean; stalled: boolean }>();
  #options: ProxyOptions = {};
  readonly #frozen: net.Socket[] = [];
  kills = 0;
  connections = 0;

  /** Where new connections go; change it to move clients to another server (a load balancer). */
  constructor(public targetPort: number) {
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  set options(options: ProxyOptions) {
    this.#options = options;
  }

  /** Destroys every live connection, both sides. */
  killAll(): number {
    let count = 0;
    for (const pair of this.#pairs) {
      if (pair.frozen) continue;
      pair.client.destroy();
      pair.upstream.destroy();
      count++;
    }
    this.kills += count;
    return count;
  }

  /**
   * Stops forwarding on every live connection and cuts the client side only:
   * the server keeps an open, silent socket.
   */
  freezeAll(): void {
    for (const pair of this.#pairs) {
      pair.frozen = true;
      this.#frozen.push(pair.upstream);
      pair.client.destroy();
    }
  }

  /** Stops forwarding on every live connection, leaving both sides open and silent. */
  stallAll(): void {
    for (const pair of this.#pairs) pair.stalled = true;
  }

  async close(): Promise<void> {
    for (const socket of this.#frozen) socket.destroy();
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect({ port: this.targetPort, host: '127.0.0.1', allowHalfOpen: true });
    const pair = { client, upstream, frozen: false, stalled: false };
    this.#pairs.add(pair);
    let budget = this.#options.killAfterBytes?.() ?? Infinity;
    const lag = this.#options.delayToServer?.() ?? 0;
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (lag > 0 && from === client && !chunk.subarray(0, 4).equals(UPGRADE)) {
          // Equal delays keep their order: timers of one delay fire first in, first out.
          setTimeout(() => to.write(chunk), lag);
          return;
        }
        if (pair.frozen || pair.stalled) return;
        this.#options.tap?.(from === client, chunk);
        if (chunk.length >= budget) {
          to.write(chunk.subarray(0, budget));
          budget = 0;
          this.kills++;
          if (this.#options.freezeChance?.()) {
            pair.frozen = true;
            this.#frozen.push(pair.upstream);
            pair.client.destroy();
            return;
          }
          pair.client.destroy();
          pair.upstream.destroy();
          return;
        }
        budget -= chunk.length;
        to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const closeDelay = this.#options.closeDelay;
    const drop = (): void => {
      this.#pairs.delete(pair);
      if (pair.frozen) return;
      client.destroy();
      // Bytes still on a slow path reach the server after the client gave up on it.
      if (lag > 0) setTimeout(() => upstream.destroy(), lag + 100);
      else upstream.destroy();
    };
    if (!closeDelay) {
      client.on('error', () => {}).on('end', drop).on('close', drop);
      upstream.on('error', () => {}).on('end', drop).on('close', drop);
      return;
    }
    const relay = (from: net.Socket, to: net.Socket): void => {
      let ended = false;
      from.on('error', () => {});
      from.on('end', () => {
        ended = true;
        setTimeout(() => to.end(), closeDelay());
      });
      from.on('close', (hadError) => {
        this.#pairs.delete(pair);
        // After an orderly end the other side closes by itself, once its peer answers.
        if (ended && !hadError) return;
        setTimeout(() => {
          if (!pair.frozen) to.destroy();
        }, closeDelay());
      });
    };
    relay(client, upstream);
    relay(upstream, client);
  }
}
