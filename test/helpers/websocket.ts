/**
 * WebSocket transport test scaffolding: a JSTP WebSocket server on port 0
 * that records the transports it accepts, and a bare `ws` client.
 */
import type * as http from 'node:http';
import type * as net from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';

import WebSocket from 'ws';

import type { Transport } from '../../lib/transport/transport';
import { createWebSocketServer, type WebSocketServerOptions } from '../../lib/transport/websocket-server';
import { Recorder, poll } from './recorder';

export interface Started {
  server: http.Server;
  url: string;
  port: number;
  accepted: Transport[];
  /** The next accepted transport, bound to an echo handler. */
  nextEcho(): Promise<Recorder>;
  next(): Promise<Transport>;
  stop(): Promise<void>;
}

export const start = async (
  maxMessageSize?: number,
  options: Partial<WebSocketServerOptions> = {},
): Promise<Started> => {
  const accepted: Transport[] = [];
  const { server, wss } = createWebSocketServer({
    ...options,
    maxMessageSize,
    onTransport: (transport) => accepted.push(transport),
  });
  const httpServer = server as http.Server;
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const { port } = httpServer.address() as net.AddressInfo;
  let seen = 0;
  const next = async (): Promise<Transport> => {
    await poll(() => accepted.length > seen);
    return accepted[seen++];
  };
  return {
    server: httpServer,
    url: `ws://127.0.0.1:${port}/`,
    port,
    accepted,
    next,
    nextEcho: async () => {
      const transport = await next();
      const recorder = new Recorder();
      transport.bind({
        message: (text) => {
          recorder.message(text);
          transport.send(text);
        },
        close: (error) => recorder.close(error),
      });
      return recorder;
    },
    stop: async () => {
      for (const transport of accepted) transport.destroy();
      wss.close();
      httpServer.closeAllConnections();
      httpServer.close();
      await once(httpServer, 'close');
    },
  };
};

/** A `ws` client that never throws unhandled errors; closed on test end. */
export const rawClient = (
  t: TestContext,
  url: string,
  protocols?: string[],
): WebSocket => {
  const ws = new WebSocket(url, protocols);
  ws.on('error', () => {});
  t.after(() => ws.terminate());
  return ws;
};

