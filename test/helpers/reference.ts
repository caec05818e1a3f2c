/**
 * The reference implementation, @metarhia/jstp 2.3.0, for interop tests:
 * loaded quietly (its mdsf loader prints to the console when the native
 * addon is absent, which it always is offline) and given the few types the
 * tests use. It runs in this process: its sockets are as real as ours.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the reference ships no types */

export type Callback = (error: any, ...results: any[]) => void;

export interface ReferenceConnection {
  callMethod(iface: string, method: string, args: unknown[], callback: Callback): void;
  emitRemoteEvent(iface: string, name: string, args: unknown[]): void;
  inspectInterface(iface: string, callback: (error: any, proxy: any) => void): void;
  on(event: string, listener: (...args: any[]) => void): void;
  once(event: string, listener: (...args: any[]) => void): void;
  close(): void;
  session: { id: string; receivedCount: number; get(key: string): unknown; set(key: string, value: unknown): void };
  closedIntentionally: boolean;
}

export interface ReferenceServer {
  listen(port: number, callback: () => void): void;
  address(): { port: number };
  close(callback?: () => void): void;
  getClientsArray(): ReferenceConnection[];
  broadcast(iface: string, name: string, ...args: unknown[]): void;
  on(event: string, listener: (...args: any[]) => void): void;
}

export interface Jstp {
  Application: new (name: string, api: object, eventHandlers?: object, version?: string) => unknown;
  RemoteError: new (code: number, message?: string, info?: unknown[]) => Error & { code: number; info: unknown };
  SimpleConnectPolicy: new (login?: string, password?: string) => unknown;
  net: {
    createServer(options: object): ReferenceServer;
    connect(app: string, client: object | null, port: number, host: string, callback: (error: any, connection: ReferenceConnection, session: unknown) => void): void;
  };
  ws: {
    createServer(options: object): ReferenceServer;
    connect(app: string, client: object | null, config: object | null, url: string, callback: (error: any, connection: ReferenceConnection, session: unknown) => void): void;
  };
}

const load = (): Jstp => {
  const { error, warn, log } = console;
  console.error = console.warn = console.log = () => {};
  try {
    return require('@metarhia/jstp') as Jstp;
  } finally {
    Object.assign(console, { error, warn, log });
  }
};

export const jstp: Jstp = load();

/** Errors reference connections emitted (socket resets from killed connections). */
export const referenceErrors: unknown[] = [];

/** Reconnects after 20 ms instead of the reference's 1–2 s, until closed. */
export const fastReconnector = (connection: ReferenceConnection, reconnect: (callback: (error?: unknown) => void) => void): void => {
  setTimeout(() => {
    if (!connection.closedIntentionally) reconnect(() => {});
  }, 20);
};

export interface ReferenceClientOptions {
  login?: string;
  password?: string;
  heartbeatInterval?: number;
  /** Custom reconnector; the fast one by default, `null` for none. */
  reconnector?: typeof fastReconnector | null;
}

/** Connects a reference client; resolves with the connection or rejects with its error. */
export const connectReference = (
  kind: 'tcp' | 'ws',
  app: string,
  port: number,
  options: ReferenceClientOptions = {},
): Promise<ReferenceConnection> =>
  new Promise((resolve, reject) => {
    const client: Record<string, unknown> = {
      connectPolicy: new jstp.SimpleConnectPolicy(options.login, options.password),
      reconnector: options.reconnector === null ? () => {} : options.reconnector ?? fastReconnector,
    };
    if (options.heartbeatInterval) client.heartbeatInterval = options.heartbeatInterval;
    const done = (error: any, connection: ReferenceConnection): void => {
      // A reference Connection re-emits socket errors (ECONNRESET when a test
      // kills its connection) as 'error'; unheard, that would be an uncaught
      // exception. Its own tests listen the same way.
      connection?.on('error', (socketError: unknown) => referenceErrors.push(socketError));
      if (error) reject(error instanceof Error ? error : Object.assign(new Error(`reference error ${String(error.code ?? error)}`), { code: error.code ?? error }));
      else resolve(connection);
    };
    if (kind === 'tcp') jstp.net.connect(app, client, port, '127.0.0.1', done);
    else jstp.ws.connect(app, client, null, `ws://127.0.0.1:${port}`, done);
  });

/** Promisified `callMethod`: resolves with the results array, rejects with the reference's error. */
export const referenceCall = (connection: ReferenceConnection, iface: string, method: string, args: unknown[]): Promise<unknown[]> =>
  new Promise((resolve, reject) => {
    connection.callMethod(iface, method, args, (error, ...results) => {
      if (error !== null && error !== undefined) reject(error);
      else resolve(results);
    });
  });

/** A reference server listening on a free port, its connections' socket resets ignored. */
export const listenReference = async (kind: 'tcp' | 'ws', options: object): Promise<ReferenceServer> => {
  const server = kind === 'tcp' ? jstp.net.createServer(options) : jstp.ws.createServer(options);
  // Its connections re-emit socket resets (from killed connections) as 'error'.
  const quiet = (connection: ReferenceConnection): void => connection.on('error', () => {});
  server.on('connect', quiet);
  server.on('reconnect', quiet);
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return server;
};

export const closeReference = (server: ReferenceServer): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()));
