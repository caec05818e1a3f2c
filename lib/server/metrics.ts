/**
 * Prometheus metrics of a server, with `prom-client`: a subscriber of the
 * diagnostics channels (`diagnostics.ts`) that counts calls, resumes,
 * refusals, malformed input and connections as they happen, plus gauges
 * (sessions, outbox bytes, the memory budget) read from the server when
 * scraped, not updated per message.
 *
 * Every label value comes from a bounded set: application names and
 * versions the server loaded, interface and method names the application
 * defines (anything else is `unknown`), tjstp's own error codes (any
 * other code an application answers with is `app`), loss reasons, limit
 * names, transport kinds. No session id or label, no address, nothing a
 * client typed becomes a series.
 *
 * `prom-client` is loaded by {@link serverMetrics} on first use, so code
 * that never asks for metrics never loads it.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as Prom from 'prom-client';
import { defaultMessages } from '../protocol/errors.js';
import {
  DiagnosticsChannel,
  type CallContext,
  type ConnectionMessage,
  type MalformedMessage,
  type RefusedMessage,
  type ResumeMessage,
  type SessionEndMessage,
  type SessionMessage,
} from './diagnostics.js';
import type { Server } from './server.js';
import { CallSeries } from './call-metrics.js';

export interface MetricsOptions {
  /** Where the metrics are registered. Default: a new Registry of their own (not prom-client's global one). */
  registry?: Prom.Registry;
  /** Prefix of every metric name. Default `tjstp_`. */
  prefix?: string;
}

/** Seconds: a call answered from memory takes tens of µs, a slow one seconds. */
const CALL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RESUME_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REPLAYED_MESSAGE_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const REPLAYED_BYTE_BUCKETS = [0, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];

/** `unknown` for what the application does not define: the label set stays bounded whatever clients send. */
const UNKNOWN = 'unknown';

/** A result code as a label: tjstp's own codes as they are, an application's own as `app`. */
export const codeLabel = (code: number): string => (code === 0 ? '0' : Object.hasOwn(defaultMessages, code) ? String(code) : 'app');

interface Subscription {
  readonly name: string;
  readonly listener: (message: unknown) => void;
}

/** The metrics of one server; see {@link serverMetrics}. */
export class ServerMetrics {
  readonly registry: Prom.Registry;
  readonly #server: Server;
  readonly #subscriptions: Subscription[] = [];
  readonly #names: string[] = [];
  readonly #callChannel = diagnostics.tracingChannel<unknown, CallContext>(DiagnosticsChannel.CALL);
  readonly #recordCall: (context: CallContext) => void;
  #closed = false;

  constructor(prom: typeof Prom, server: Server, options: MetricsOptions = {}) {
    const registry = options.registry ?? new prom.Registry();
    const prefix = options.prefix ?? 'tjstp_';
    this.registry = registry;
    this.#server = server;
    const name = (suffix: string): string => {
      this.#names.push(prefix + suffix);
      return prefix + suffix;
    };
    const registers = [registry];
    const counter = <L extends string>(suffix: string, help: string, labelNames: readonly L[]): Prom.Counter<L> =>
      new prom.Counter({ name: name(suffix), help, labelNames, registers });
    const histogram = <L extends string>(suffix: string, help: string, labelNames: readonly L[], buckets: number[]): Prom.Histogram<L> =>
      new prom.Histogram({ name: name(suffix), help, labelNames, buckets, registers });

    const apps = (): { app: string; version: string }[] => server.applications.all().map((app) => ({ app: app.name, version: app.version }));
    /**
     * Per application and version, the sessions attached and detached and
     * their outbox bytes, in one pass: a scrape then costs one `set` a
     * series (prom-client hashes the labels on each), not one a session.
     * Applications without sessions are there, with zeros.
     */
    const tally = (): { labels: { app: string; version: string }; attached: number; detached: number; bytes: number }[] => {
      const byApp = new Map<string, { labels: { app: string; version: string }; attached: number; detached: number; bytes: number }>();
      const entry = (app: string, version: string) => {
        const key = `${app}@${version}`;
        let found = byApp.get(key);
        if (!found) byApp.set(key, (found = { labels: { app, version }, attached: 0, detached: 0, bytes: 0 }));
        return found;
      };
      for (const { app, version } of apps()) entry(app, version);
      for (const session of server.sessions.values()) {
        if (session.ended) continue;
        const counts = entry(session.app.name, session.app.version);
        if (session.attached) counts.attached++;
        else counts.detached++;
        counts.bytes += session.peer.state.outbox.bytes;
      }
      return [...byApp.values()];
    };
    new prom.Gauge({
      name: name('sessions'),
      help: 'Sessions in this process, attached to a connection or detached and held for a restore',
      labelNames: ['app', 'version', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { labels, attached, detached } of tally()) {
          this.set({ ...labels, state: 'attached' }, attached);
          this.set({ ...labels, state: 'detached' }, detached);
        }
      },
    });
    new prom.Gauge({
      name: name('outbox_bytes'),
      help: 'Bytes held in sessions\' outboxes (sent or waiting to be, not yet acknowledged), as charged to the memory budget',
      labelNames: ['app', 'version'],
      registers,
      collect() {
        this.reset();
        for (const { labels, bytes } of tally()) this.set(labels, bytes);
      },
    });
    new prom.Gauge({
      name: name('memory_used_bytes'),
      help: 'Bytes charged to the sessions\' memory budget (maxSessionMemory)',
      registers,
      collect() {
        this.set(server.meter.used);
      },
    });
    new prom.Gauge({
      name: name('memory_limit_bytes'),
      help: 'The sessions\' memory budget (maxSessionMemory); 0 when there is none',
      registers,
      collect() {
        // "No budget" is a limit too large to mean anything: 0 says it and keeps used/limit ratios out of the way.
        this.set(server.meter.limit >= Number.MAX_SAFE_INTEGER ? 0 : server.meter.limit);
      },
    });
    const connectionsOpen = new prom.Gauge({ name: name('connections_open'), help: 'Connections open now, by transport', labelNames: ['transport'], registers });
    const connections = counter('connections_total', 'Connections accepted, by transport', ['transport']);
    const opened = counter('sessions_opened_total', 'Sessions opened by a handshake', ['app', 'version']);
    const detached = counter('session_detaches_total', 'Times a session lost its connection and was held for a restore', ['app', 'version']);
    const ended = counter('sessions_ended_total', 'Sessions ended, by reason (closed, expired, overflow, evicted, protocol, …)', ['app', 'version', 'reason']);
    const resumes = counter('resumes_total', 'Restore handshakes by outcome (resumed, refused) and reason (none when resumed)', ['app', 'outcome', 'reason']);
    const replayedMessages = histogram('resume_replayed_messages', 'Messages replayed to a client per resume', ['app'], REPLAYED_MESSAGE_BUCKETS);
    const replayedBytes = histogram('resume_replayed_bytes', 'Bytes replayed to a client per resume, as the memory budget counts them', ['app'], REPLAYED_BYTE_BUCKETS);
    const resumeSeconds = histogram('resume_duration_seconds', 'From the connection being accepted to the session resumed', ['app'], RESUME_BUCKETS);
    const calls = new CallSeries(CALL_BUCKETS);
    calls.register(
      registry,
      name('calls_total'),
      'Calls answered, by result code (0 ok, tjstp error codes, app for an application\'s own)',
      name('call_duration_seconds'),
      'From a call being handed to the server to its answer',
    );
    const refusals = counter('refusals_total', 'Handshakes and calls refused by an admission limit or the memory budget (memory)', ['limit']);
    const malformed = counter('malformed_total', 'Connections closed for input the protocol does not allow, by kind', ['kind']);
    for (const transport of ['tcp', 'tls', 'ipc', 'ws', 'wss']) {
      connections.inc({ transport }, 0);
      connectionsOpen.set({ transport }, 0);
    }

    this.#subscribe(DiagnosticsChannel.CONNECTION_OPEN, (message: ConnectionMessage) => {
      connections.inc({ transport: message.transport });
      connectionsOpen.inc({ transport: message.transport });
    });
    this.#subscribe(DiagnosticsChannel.CONNECTION_CLOSE, (message: ConnectionMessage) => connectionsOpen.dec({ transport: message.transport }));
    this.#subscribe(DiagnosticsChannel.SESSION_OPEN, (message: SessionMessage) => opened.inc({ app: message.app, version: message.version }));
    this.#subscribe(DiagnosticsChannel.SESSION_DETACH, (message: SessionMessage) => detached.inc({ app: message.app, version: message.version }));
    this.#subscribe(DiagnosticsChannel.SESSION_END, (message: SessionEndMessage) => {
      ended.inc({ app: message.app, version: message.version, reason: message.reason });
    });
    this.#subscribe(DiagnosticsChannel.SESSION_RESUME, (message: ResumeMessage) => {
      resumes.inc({ app: message.app, outcome: message.outcome, reason: message.reason ?? 'none' });
      if (message.outcome !== 'resumed') return;
      replayedMessages.observe({ app: message.app }, message.replayedMessages);
      replayedBytes.observe({ app: message.app }, message.replayedBytes);
      resumeSeconds.observe({ app: message.app }, message.seconds);
    });
    this.#subscribe(DiagnosticsChannel.REFUSED, (message: RefusedMessage) => refusals.inc({ limit: message.limit }));
    this.#subscribe(DiagnosticsChannel.MALFORMED, (message: MalformedMessage) => malformed.inc({ kind: message.kind }));

    this.#recordCall = (context) => {
      // At `end` of a call whose method returned a promise: not finished yet.
      const { code } = context;
      if (code === undefined || context.server !== server) return;
      const { known } = context;
      const seconds = (performance.now() - context.startTime) / 1000;
      calls.record(context.app, known ? context.iface : UNKNOWN, known ? context.method : UNKNOWN, codeLabel(code), seconds);
    };
    this.#callChannel.end.subscribe(this.#recordCall as (message: unknown) => void);
    this.#callChannel.asyncEnd.subscribe(this.#recordCall as (message: unknown) => void);
  }

  /** The Content-Type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * A `node:http` request listener: `GET /metrics` answers the metrics,
   * anything else 404. Mount it on a server of its own (`tjstp serve
   * --metrics PORT` does) or call it from yours for that path.
   */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => metricsHandler(() => this.text(), this.contentType)(request, response);

  /** Stops counting and removes the metrics from the registry. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { name, listener } of this.#subscriptions) diagnostics.unsubscribe(name, listener);
    this.#callChannel.end.unsubscribe(this.#recordCall as (message: unknown) => void);
    this.#callChannel.asyncEnd.unsubscribe(this.#recordCall as (message: unknown) => void);
    for (const name of this.#names) this.registry.removeSingleMetric(name);
  }

  get server(): Server {
    return this.#server;
  }

  /** Listens to one of this server's channels (they are process-wide: other servers' messages are skipped). */
  #subscribe<T extends { server: object }>(name: string, listener: (message: T) => void): void {
    const server = this.#server;
    const filtered = (message: unknown): void => {
      if ((message as T).server === server) listener(message as T);
    };
    diagnostics.subscribe(name, filtered);
    this.#subscriptions.push({ name, listener: filtered });
  }
}

/**
 * A `node:http` request listener answering `GET /metrics` (and HEAD) with
 * `text()`, anything else 404.
 */
export const metricsHandler = (text: () => Promise<string>, contentType: string) => (request: IncomingMessage, response: ServerResponse): void => {
  const path = (request.url ?? '').split('?')[0];
  if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at GET /metrics\n');
    return;
  }
  text().then(
    (body) => response.writeHead(200, { 'content-type': contentType }).end(request.method === 'HEAD' ? undefined : body),
    // The scraper learns that it failed, not why: the reason may name internals.
    () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
  );
};

/** `prom-client`, loaded on first use (the only place tjstp loads it). */
export const loadPromClient = async (): Promise<typeof Prom> => {
  const loaded = (await import('prom-client')) as typeof Prom & { default?: typeof Prom };
  // As an ES module importing CommonJS, the named exports may sit on `default` only.
  return typeof loaded.Registry === 'function' ? loaded : (loaded.default as typeof Prom);
};

/**
 * Metrics for `server` in a `prom-client` Registry (a new one unless
 * `options.registry` is given). Loads `prom-client` the first time.
 * Call it before `server.listen()`: counters start from what happens
 * after, and the open-connections gauge counts opens and closes it saw.
 * Call {@link ServerMetrics.close} to stop counting.
 */
export const serverMetrics = async (server: Server, options: MetricsOptions = {}): Promise<ServerMetrics> => {
  return new ServerMetrics(await loadPromClient(), server, options);
};
