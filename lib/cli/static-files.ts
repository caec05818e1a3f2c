/**
 * A minimal static file server: a fixed table of URL paths, each a file
 * (read per request, so a rebuild shows at once) or generated text. Nothing
 * outside the table is reachable: no path is ever joined from the request,
 * so there is no traversal and no directory listing.
 */
import fs from 'node:fs';
import http from 'node:http';

export interface StaticEntry {
  /** The `content-type` header. */
  type: string;
  /** A file to send… */
  file?: string;
  /** …or text made per request. */
  body?: (req: http.IncomingMessage) => string;
  /** Said with a 404 when `file` is missing (e.g. how to build it). */
  missing?: string;
}

export type StaticTable = ReadonlyMap<string, StaticEntry>;

const baseHeaders = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
  'referrer-policy': 'no-referrer',
};

const plain = (res: http.ServerResponse, status: number, text: string, extra: http.OutgoingHttpHeaders = {}): void => {
  res.writeHead(status, { ...baseHeaders, 'content-type': 'text/plain; charset=utf-8', ...extra });
  res.end(`${text}\n`);
};

/** A request handler serving `table` for GET and HEAD. */
export const staticHandler = (table: StaticTable, headers: http.OutgoingHttpHeaders = {}) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      plain(res, 400, 'Bad request');
      return;
    }
    const entry = table.get(pathname);
    if (!entry) {
      plain(res, 404, 'Not found');
      return;
    }
    const send = (body: string | Buffer): void => {
      res.writeHead(200, { ...baseHeaders, ...headers, 'content-type': entry.type, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (entry.body) {
      send(entry.body(req));
      return;
    }
    fs.readFile(entry.file as string, (error, data) => {
      if (error) plain(res, 404, entry.missing ?? 'Not found');
      else send(data);
    });
  };
