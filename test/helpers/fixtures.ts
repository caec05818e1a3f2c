/**
 * Servers and clients for tests: real sockets on 127.0.0.1, port 0, quiet
 * logs, fast reconnects. Everything started is closed by `closeAll`.
 */
import {
  Server,
  connect,
  silentLogger,
  type Client,
  type ConnectOptions,
  type ServerOptions,
} from '../../lib/index';
import { createTestApp, type TestApp } from './app';

export type Kind = 'tcp' | 'ws';
export const kinds: readonly Kind[] = ['tcp', 'ws'];

export interface Fixture {
  server: Server;
  app: TestApp;
  url: Record<Kind, string>;
  port: Record<Kind, number>;
  clients: Client[];
  connect(kind: Kind, options?: Partial<ConnectOptions>): Promise<Client>;
  close(): Promise<void>;
}

export const fastReconnect = { initialDelay: 5, maxDelay: 50, factor: 2, jitter: 0.5 };

/**
 * A test suite opens sessions from one address faster than any client
 * should: the per-address rates are off here, and tested on their own
 * (test/server/admission.test.ts).
 */
export const unlimitedAddress: Partial<ServerOptions> = {
  newSessionsPerSecond: 0,
  restoresPerMinute: 0,
  maxSessionsPerAddress: 0,
  outputBytesPerSecond: 0,
};

export const startServer = async (options: Partial<ServerOptions> = {}): Promise<Fixture> => {
  const app = createTestApp();
  const server = new Server({ applications: [app.definition], logger: silentLogger, ...unlimitedAddress, ...options });
  const listeners = await server.listen({ tcp: 0, ws: 0 });
  const url = {} as Record<Kind, string>;
  const port = {} as Record<Kind, number>;
  for (const listener of listeners) {
    url[listener.kind as Kind] = listener.url;
    port[listener.kind as Kind] = listener.port as number;
  }
  const clients: Client[] = [];
  return {
    server,
    app,
    url,
    port,
    clients,
    async connect(kind, clientOptions = {}) {
      const client = await connect(clientOptions.app ? url[kind] : url[kind], {
        app: 'testApp',
        reconnect: fastReconnect,
        ...clientOptions,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await server.close();
    },
  };
};

/** Resolves when `emitter` emits `event` (or rejects after `ms`). */
export const once = <T extends unknown[] = unknown[]>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any typed emitter
  emitter: { once(event: string, listener: (...args: any[]) => void): unknown },
  event: string,
  ms = 5000,
): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), ms);
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until true; fails after `ms`. */
export const waitFor = async (predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> => {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
};

/**
 * Servers and raw connections a test file starts as it goes, all closed by
 * `closeAll` (call it in `after`).
 */
export class Started {
  readonly #fixtures: Fixture[] = [];
  readonly #raws: { destroy(): void }[] = [];

  async server(options: Partial<ServerOptions> = {}): Promise<Fixture> {
    const fixture = await startServer(options);
    this.#fixtures.push(fixture);
    return fixture;
  }

  /** Destroyed by `closeAll`. */
  track<T extends { destroy(): void }>(raw: T): T {
    this.#raws.push(raw);
    return raw;
  }

  async closeAll(): Promise<void> {
    for (const raw of this.#raws) raw.destroy();
    await Promise.all(this.#fixtures.map((fixture) => fixture.close()));
  }
}
