/**
 * `tjstp serve --http PORT`: a page where two tabs chat through the
 * bundled `chat` application over the browser client, with a button that
 * drops the connection and the resume shown as it happens. The page and
 * its script ship in `demo/`, the client bundle in `dist/browser/`; the
 * page learns where the WebSocket listener is from `/config.json`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { staticHandler, type StaticEntry } from './static-files.js';

/** The package's root, from dist/lib/cli. */
const root = path.join(__dirname, '..', '..', '..');

const unbuilt = 'The browser client is not built: run npm run build';

/** What the page is served, by URL path; nothing else is. */
const demoFiles = (config: (req: http.IncomingMessage) => string): Map<string, StaticEntry> => new Map<string, StaticEntry>([
  ['/', { type: 'text/html; charset=utf-8', file: path.join(root, 'demo', 'index.html') }],
  ['/demo.js', { type: 'text/javascript; charset=utf-8', file: path.join(root, 'demo', 'demo.js') }],
  ['/demo.css', { type: 'text/css; charset=utf-8', file: path.join(root, 'demo', 'demo.css') }],
  ['/tjstp-client.js', { type: 'text/javascript; charset=utf-8', file: path.join(root, 'dist', 'browser', 'tjstp-client.js'), missing: unbuilt }],
  ['/tjstp-client.js.map', { type: 'application/json; charset=utf-8', file: path.join(root, 'dist', 'browser', 'tjstp-client.js.map'), missing: unbuilt }],
  ['/config.json', { type: 'application/json; charset=utf-8', body: config }],
]);

/** The application the page talks to. */
export const DEMO_APP = 'chat';

const wildcard = new Set(['0.0.0.0', '::', '']);

/**
 * The WebSocket URL the page should use: the listener's, except that a
 * listener on every interface is reached by the name the page was loaded
 * from (a phone on the LAN does not know 0.0.0.0).
 */
export const pageWebSocketUrl = (listenerUrl: string, host: string, requestHost: string | undefined): string => {
  const url = new URL(listenerUrl);
  if (!wildcard.has(host) || !requestHost) return url.href;
  try {
    url.hostname = new URL(`http://${requestHost}`).hostname;
  } catch {
    // A Host header that is no host: the listener's own URL will do.
  }
  return url.href;
};

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the demo on `host:port` for the WebSocket listener at `wsUrl()`,
 * asked per request: the page's server may start before that listener,
 * so that a taken port fails the start before any session is served.
 */
export const startDemo = async (options: { host: string; port: number; wsUrl: () => string | undefined; app?: string }): Promise<DemoServer> => {
  const { host, port, wsUrl, app = DEMO_APP } = options;
  const config = (req: http.IncomingMessage): string => {
    const listener = wsUrl();
    return JSON.stringify({ app, url: listener === undefined ? null : pageWebSocketUrl(listener, host, req.headers.host) });
  };
  const server = http.createServer(staticHandler(demoFiles(config), {
    // The page runs only its own scripts and talks only to the WebSocket listener.
    'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; base-uri 'none'; frame-ancestors 'none'",
  }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${wildcard.has(host) ? '127.0.0.1' : shown}:${bound}/`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
};
