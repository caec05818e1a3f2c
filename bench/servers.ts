/**
 * The server side of every system measured, behind one small interface:
 * a `calc.add(a, b)` method answering `a + b`, a count of connections, and
 * a broadcast of `iface.tick(n)` through the system's own fan-out.
 *
 * - raw-tcp: `net`, NUL-delimited JSON, `JSON.parse`/`JSON.stringify` per
 *   message, writes corked for a tick (cork, uncork on the next tick).
 * - raw-ws: `ws`, one JSON message per text frame, no deflate.
 * - jstp-tcp / jstp-ws: @metarhia/jstp 2.3.0 (`jstp.net` / `jstp.ws`).
 * - socketio: socket.io 4, an acknowledgement answers each `add`.
 * - tjstp-tcp / tjstp-ws: this project's `Server`, heartbeat off;
 * - tjstp-metrics-tcp: tjstp-tcp with its Prometheus metrics on (`serverMetrics`),
 *   scraped once a second as Prometheus would, only more often;
 * - tjstp-redis-tcp: the same over TCP with its sessions shared through Redis.
 */
import net from 'node:net';
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { Server as SocketIoServer } from 'socket.io';
import { RedisSessionStore, Server, serverMetrics, silentLogger, type SessionStore } from '../lib/index';
import { HOST, loadJstp, type System } from './common';

export interface BenchServer {
  port: number;
  /** Open connections (tjstp: sessions). */
  connections(): number;
  /** Sends event `iface.tick(n)` to every connection; returns how many. */
  broadcast(n: number): number;
  /** The tjstp server, for the resume storm's counters. */
  tjstp?: Server;
}

/** The raw systems' event text: one stringify per round, as a raw server would. */
const eventText = (n: number): string => JSON.stringify({ event: [-n, 'iface'], tick: [n] });

const replyText = (text: string): string | undefined => {
  const message = JSON.parse(text) as { call?: [number, string]; add?: [number, number] };
  if (!message.call || !message.add) return undefined;
  return JSON.stringify({ callback: [message.call[0]], ok: [message.add[0] + message.add[1]] });
};

/**
 * A NUL-delimited JSON stream with writes corked per tick; used by the raw
 * TCP server and client alike.
 */
export class CorkedStream {
  readonly socket: net.Socket;
  #rest = '';
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
  };

  constructor(socket: net.Socket, onMessage: (text: string) => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (data: string) => {
      const text = this.#rest === '' ? data : this.#rest + data;
      let start = 0;
      let end: number;
      while ((end = text.indexOf('\0', start)) !== -1) {
        onMessage(text.slice(start, end));
        start = end + 1;
      }
      this.#rest = start === text.length ? '' : text.slice(start);
    });
  }

  send(text: string): void {
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(this.#uncork);
    }
    this.socket.write(text + '\0');
  }
}

/**
 * The accept queue every system gets: tjstp's default. With Node's 511 a
 * burst of thousands of connects overflows it and the dropped ones retry a
 * second later, which would measure the kernel, not the system.
 */
export const BACKLOG = 4096;

const listen = (server: net.Server | http.Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, backlog: BACKLOG }, () => resolve((server.address() as net.AddressInfo).port));
  });

const rawTcp = async (): Promise<BenchServer> => {
  const streams = new Set<CorkedStream>();
  const server = net.createServer((socket) => {
    const stream = new CorkedStream(socket, (text) => {
      const reply = replyText(text);
      if (reply !== undefined) stream.send(reply);
    });
    streams.add(stream);
    socket.on('close', () => streams.delete(stream));
  });
  return {
    port: await listen(server),
    connections: () => streams.size,
    broadcast: (n) => {
      const text = eventText(n);
      for (const stream of streams) stream.send(text);
      return streams.size;
    },
  };
};

const rawWs = async (): Promise<BenchServer> => {
  const http1 = http.createServer();
  const wss = new WebSocketServer({ server: http1, perMessageDeflate: false });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const reply = replyText(data.toString());
      if (reply !== undefined) ws.send(reply);
    });
  });
  return {
    port: await listen(http1),
    connections: () => wss.clients.size,
    broadcast: (n) => {
      const text = eventText(n);
      for (const ws of wss.clients) ws.send(text);
      return wss.clients.size;
    },
  };
};

const jstpServer = async (transport: 'net' | 'ws'): Promise<BenchServer> => {
  const jstp = loadJstp();
  const application = new jstp.Application('testApp', {
    calc: {
      add(_connection: unknown, a: number, b: number, callback: (error: null, sum: number) => void) {
        callback(null, a + b);
      },
    },
  });
  const server = jstp[transport].createServer({ applications: [application] });
  const quiet = (connection: { on(event: string, listener: () => void): void }): void => connection.on('error', () => {});
  server.on('connect', quiet);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    port: server.address().port as number,
    connections: () => server.clients.size as number,
    broadcast: (n) => {
      server.broadcast('iface', 'tick', n);
      return server.clients.size as number;
    },
  };
};

const socketIo = async (): Promise<BenchServer> => {
  const http1 = http.createServer();
  const io = new SocketIoServer(http1, { serveClient: false, perMessageDeflate: false });
  io.on('connection', (socket) => {
    socket.on('add', (a: number, b: number, ack: (sum: number) => void) => ack(a + b));
  });
  return {
    port: await listen(http1),
    connections: () => io.engine.clientsCount,
    broadcast: (n) => {
      io.emit('tick', n);
      return io.engine.clientsCount;
    },
  };
};

const tjstp = async (transport: 'tcp' | 'ws', store?: SessionStore, metrics = false): Promise<BenchServer> => {
  const app = {
    name: 'testApp',
    api: { calc: { add: (_context: unknown, a: number, b: number) => a + b } },
  };
  // Every bench client comes from 127.0.0.1, thousands at once: per-address limits off.
  const server = new Server({
    applications: [app],
    logger: silentLogger,
    heartbeatInterval: 0,
    newSessionsPerSecond: 0,
    restoresPerMinute: 0,
    maxSessionsPerAddress: 0,
    outputBytesPerSecond: 0,
    store,
  });
  if (metrics) {
    const counted = await serverMetrics(server);
    const scrape = setInterval(() => {
      counted.text().catch((error: unknown) => console.error('metrics scrape failed', error));
    }, 1000);
    scrape.unref();
  }
  const [listener] = await server.listen(transport === 'tcp' ? { tcp: 0 } : { ws: 0 });
  return {
    port: listener!.port!,
    connections: () => server.sessions.size,
    broadcast: (n) => server.broadcast('testApp', 'iface', 'tick', [n]),
    tjstp: server,
  };
};

export const startServer = (system: System): Promise<BenchServer> => {
  switch (system) {
    case 'raw-tcp':
      return rawTcp();
    case 'raw-ws':
      return rawWs();
    case 'jstp-tcp':
      return jstpServer('net');
    case 'jstp-ws':
      return jstpServer('ws');
    case 'socketio':
      return socketIo();
    case 'tjstp-redis-tcp':
      // Sessions shared through the Redis the orchestrator started (run.ts).
      return tjstp('tcp', new RedisSessionStore({ url: process.env.TJSTP_BENCH_REDIS, prefix: process.env.TJSTP_BENCH_REDIS_PREFIX ?? `bench${process.pid}:` }));
    case 'tjstp-tcp':
      return tjstp('tcp');
    case 'tjstp-metrics-tcp':
      return tjstp('tcp', undefined, true);
    case 'tjstp-ws':
      return tjstp('ws');
  }
};
