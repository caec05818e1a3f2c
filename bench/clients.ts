/**
 * The client side of every system measured, behind one callback interface:
 * `call(done)` runs `calc.add(1, 2)` and hands `done` the result; `onTick`
 * gets the `n` of each `iface.tick(n)` event. Callbacks, not promises, so
 * the harness adds nothing beyond what each library itself does (tjstp's
 * API is promise-based: it pays for its own promise).
 */
import net from 'node:net';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { Client, transportFor, type TransportFactory } from '../lib/index';
import { CorkedStream } from './servers';
import { HOST, loadJstp, type System } from './common';

export interface BenchClient {
  call(done: (result: unknown) => void): void;
  close(): void;
  /** The tjstp client, for the resume storm. */
  tjstp?: Client;
}

export type OnTick = (n: number) => void;

interface RawReply {
  callback?: [number];
  ok?: [number];
  event?: [number, string];
  tick?: [number];
}

/** Request ids and their callbacks, for the raw systems. */
class RawCalls {
  #nextId = 0;
  readonly #pending = new Map<number, (result: unknown) => void>();

  /** Registers a call; returns its text. */
  call(done: (result: unknown) => void): string {
    const id = ++this.#nextId;
    this.#pending.set(id, done);
    return JSON.stringify({ call: [id, 'calc'], add: [1, 2] });
  }

  receive(text: string, onTick: OnTick): void {
    const message = JSON.parse(text) as RawReply;
    if (message.callback) {
      const id = message.callback[0];
      const done = this.#pending.get(id);
      this.#pending.delete(id);
      done?.(message.ok?.[0]);
    } else if (message.tick) {
      onTick(message.tick[0]);
    }
  }
}

const rawTcp = (port: number, onTick: OnTick): Promise<BenchClient> =>
  new Promise((resolve, reject) => {
    const calls = new RawCalls();
    const socket = net.connect(port, HOST);
    const stream = new CorkedStream(socket, (text) => calls.receive(text, onTick));
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        call: (done) => stream.send(calls.call(done)),
        close: () => socket.destroy(),
      }),
    );
  });

const rawWs = (port: number, onTick: OnTick): Promise<BenchClient> =>
  new Promise((resolve, reject) => {
    const calls = new RawCalls();
    const ws = new WebSocket(`ws://${HOST}:${port}`, { perMessageDeflate: false });
    ws.on('message', (data) => calls.receive(data.toString(), onTick));
    ws.once('error', reject);
    ws.once('open', () => {
      ws.on('error', () => {});
      resolve({
        call: (done) => ws.send(calls.call(done)),
        close: () => ws.terminate(),
      });
    });
  });

/* eslint-disable @typescript-eslint/no-explicit-any -- the reference ships no types */
let jstpModule: any;

const jstpClient = (transport: 'net' | 'ws', port: number, onTick: OnTick): Promise<BenchClient> =>
  new Promise((resolve, reject) => {
    jstpModule ??= loadJstp();
    const jstp = jstpModule;
    // The reference mutates the client object: one per connection.
    const client = {
      application: new jstp.Application('jstp', {}, { iface: { tick: (_connection: unknown, n: number) => onTick(n) } }),
      reconnector: () => {},
    };
    const done = (error: unknown, connection: any): void => {
      connection?.on('error', () => {});
      if (error) {
        reject(error instanceof Error ? error : new Error(`jstp error ${String(error)}`));
        return;
      }
      resolve({
        call: (callback) =>
          connection.callMethod('calc', 'add', [1, 2], (_error: unknown, result: unknown) => callback(result)),
        close: () => connection.close(),
      });
    };
    if (transport === 'net') jstp.net.connect('testApp', client, port, HOST, done);
    else jstp.ws.connect('testApp', client, null, `ws://${HOST}:${port}`, done);
  });
/* eslint-enable @typescript-eslint/no-explicit-any */

const socketIo = (port: number, onTick: OnTick): Promise<BenchClient> =>
  new Promise((resolve, reject) => {
    // WebSocket from the start, as the other WS systems: no polling phase.
    const socket = io(`http://${HOST}:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
    socket.on('tick', (n: number) => onTick(n));
    socket.once('connect_error', reject);
    socket.once('connect', () =>
      resolve({
        call: (done) => socket.emit('add', 1, 2, done),
        close: () => socket.disconnect(),
      }),
    );
  });

/**
 * Where tjstp clients reconnect to, when not where they first connected:
 * the cluster phase moves them to another node (`retarget`), as a load
 * balancer would.
 */
export const tjstpTarget: { port: number | undefined } = { port: undefined };

const tjstp = async (transport: 'tcp' | 'ws', port: number, onTick: OnTick): Promise<BenchClient> => {
  const factories = new Map<number, TransportFactory>();
  const factory = (): TransportFactory => {
    const target = tjstpTarget.port ?? port;
    let made = factories.get(target);
    if (made === undefined) factories.set(target, (made = transportFor(`${transport}://${HOST}:${target}`)));
    return made;
  };
  const client = new Client({ app: 'testApp', heartbeatInterval: 0, transport: () => factory()() });
  await client.open();
  client.on('event', ({ args }) => onTick(args[0] as number));
  client.on('error', () => {});
  return {
    call: (done) => {
      client.call('calc', 'add', 1, 2).then(done, () => done(undefined));
    },
    close: () => client.close(),
    tjstp: client,
  };
};

export const openClient = (system: System, port: number, onTick: OnTick = () => {}): Promise<BenchClient> => {
  switch (system) {
    case 'raw-tcp':
      return rawTcp(port, onTick);
    case 'raw-ws':
      return rawWs(port, onTick);
    case 'jstp-tcp':
      return jstpClient('net', port, onTick);
    case 'jstp-ws':
      return jstpClient('ws', port, onTick);
    case 'socketio':
      return socketIo(port, onTick);
    case 'tjstp-tcp':
    case 'tjstp-metrics-tcp':
    case 'tjstp-redis-tcp':
      return tjstp('tcp', port, onTick);
    case 'tjstp-ws':
      return tjstp('ws', port, onTick);
  }
};
