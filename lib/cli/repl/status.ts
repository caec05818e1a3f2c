/**
 * The session's story as it happens (disconnected, reconnecting, resumed
 * with how much each side replayed, lost and replaced), told through
 * `notify`, and its current state for `.session`.
 */
import type { Client } from '../../client/client.js';
import type { ClientState, ReadyInfo } from '../../client/types.js';
import type { SessionLostError } from '../../protocol/errors.js';
import { formatBytes, formatDuration, maskId, paint, type PrintOptions } from './printer.js';
import type { WireCounters, WireTap } from './wire-tap.js';

export type Tone = 'good' | 'warn' | 'bad' | 'info';

/** One line of the story. */
export interface StatusLine {
  tone: Tone;
  text: string;
}

/** How the last reconnection went. */
export interface ResumeReport {
  /** False: the old session was gone and a new one started. */
  resumed: boolean;
  /** Messages this side sent again. */
  replayed: number;
  /** Messages the server sent again; null when it does not say (reference server). */
  serverReplayed: number | null;
  /** How long the session had no connection, ms. */
  offlineMs: number;
  /** Why the old session was lost, when `resumed` is false. */
  lost?: string;
}

/** The `.session` view; plain JSON, which script mode prints as is. */
export interface SessionView {
  url: string;
  app: string;
  state: ClientState;
  /** Masked: the id is a bearer secret. */
  id: string | null;
  lastSeq: number;
  received: number;
  acked: number;
  outbox: number;
  legacyServer: boolean;
  /** The session has a key its restores prove (a leaked id alone restores nothing). */
  bound: boolean;
  /** Who the server says is logged in; absent when it did not say. */
  user?: string | null;
  /** ms connected (state ready) or offline (any other state). */
  since: number;
  eventsReceived: number;
  resumes: number;
  lastResume: ResumeReport | null;
  sessionsLost: number;
  wire: { connections: number; connection: WireCounters | null; total: WireCounters };
  serverLimits: { maxBufferedBytes: number; holdTime: number } | null;
}

export class SessionStatus {
  readonly #client: Client;
  readonly #tap: WireTap;
  #target: { url: string; app: string };
  #notify: (line: StatusLine) => void;
  #since = Date.now();
  #offlineSince: number | undefined;
  #droppedFor: number | undefined;
  #lostReason: string | undefined;
  #resumes = 0;
  #sessionsLost = 0;
  #events = 0;
  #lastResume: ResumeReport | null = null;
  #waiters: { resolve(report: ResumeReport): void; reject(error: Error): void }[] = [];
  #closing = false;
  /** The first handshake succeeded: a close after it is news, before it the caller reports. */
  #opened = false;

  constructor(client: Client, tap: WireTap, target: { url: string; app: string }, notify: (line: StatusLine) => void) {
    this.#client = client;
    this.#tap = tap;
    this.#target = target;
    this.#notify = notify;
    client.on('disconnect', (error) => this.#onDisconnect(error));
    client.on('reconnecting', (attempt, delay) => this.#tell('info', `reconnecting in ${formatDuration(delay)} (attempt ${attempt})`));
    client.on('sessionLost', (error) => this.#onSessionLost(error));
    client.on('ready', (info) => this.#onReady(info));
    client.on('event', () => {
      this.#events += 1;
    });
    client.on('error', (error) => this.#tell('bad', `error: ${error instanceof Error ? error.message : String(error)}`));
    client.on('state', (state) => {
      if (state !== 'closed') return;
      if (!this.#closing && this.#opened) this.#tell('bad', 'the session is closed');
      for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('The session is closed'));
    });
  }

  /** Where the story goes from now on (the interactive loop replaces the start-up printer). */
  set notify(notify: (line: StatusLine) => void) {
    this.#notify = notify;
  }

  /** `.drop`: the coming disconnect is on purpose. */
  markDrop(ms: number): void {
    this.#droppedFor = ms;
    if (this.#client.state !== 'ready') this.#tell('warn', `offline on purpose for ${formatDuration(ms)}`);
  }

  /** `.reconnect`: the client drops and restores at once, without a disconnect event. */
  markReconnect(url?: string): void {
    this.#offlineSince ??= Date.now();
    if (url !== undefined) this.#target = { ...this.#target, url };
    this.#tell('info', url === undefined ? 'reconnecting now' : `reconnecting now, to ${url}`);
  }

  /** `.exit`: the coming close is wanted. */
  markClosing(): void {
    this.#closing = true;
  }

  /** Resolves at the next successful handshake; rejects if the session closes first. */
  nextReady(): Promise<ResumeReport> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  view(): SessionView {
    const ticket = this.#client.session;
    const limits = this.#client.serverLimits;
    const connection = this.#tap.connection;
    return {
      url: this.#target.url,
      app: this.#target.app,
      state: this.#client.state,
      id: ticket ? maskId(ticket.id) : null,
      lastSeq: ticket?.lastSeq ?? 0,
      received: ticket?.received ?? 0,
      acked: ticket?.acked ?? 0,
      outbox: ticket?.outbox.length ?? 0,
      legacyServer: ticket?.legacy ?? false,
      bound: ticket?.key !== undefined,
      ...(ticket?.user !== undefined && { user: ticket.user }),
      since: Date.now() - (this.#offlineSince ?? this.#since),
      eventsReceived: this.#events,
      resumes: this.#resumes,
      lastResume: this.#lastResume,
      sessionsLost: this.#sessionsLost,
      wire: { connections: this.#tap.connections, connection: connection ?? null, total: { ...this.#tap.total } },
      serverLimits: limits ? { ...limits } : null,
    };
  }

  #tell(tone: Tone, text: string): void {
    this.#notify({ tone, text });
  }

  #onDisconnect(error: Error | undefined): void {
    this.#offlineSince = Date.now();
    const dropped = this.#droppedFor;
    if (dropped !== undefined) {
      const outage = dropped > 0 ? `; the network stays down for ${formatDuration(dropped)}` : '';
      this.#tell('warn', `dropped the connection on purpose${outage}`);
    } else {
      this.#tell('warn', `disconnected: ${error?.message ?? 'the connection closed'}`);
    }
  }

  #onSessionLost(error: SessionLostError): void {
    this.#sessionsLost += 1;
    this.#lostReason = error.reason;
    this.#tell('bad', `session lost (${error.reason}): ${error.message}. Calls in flight failed; starting a new session`);
  }

  #onReady(info: ReadyInfo): void {
    this.#opened = true;
    const now = Date.now();
    const offlineMs = this.#offlineSince === undefined ? 0 : now - this.#offlineSince;
    const reconnection = this.#offlineSince !== undefined || this.#lostReason !== undefined;
    this.#offlineSince = undefined;
    this.#droppedFor = undefined;
    this.#since = now;
    const id = this.#client.session?.id;
    const masked = id === undefined ? '' : ` ${maskId(id)}`;
    const report: ResumeReport = { resumed: info.resumed, replayed: info.replayed, serverReplayed: null, offlineMs };
    if (info.resumed) {
      this.#resumes += 1;
      const server = this.#tap.lastHandshake?.serverReplayed;
      report.serverReplayed = server ?? null;
      this.#lastResume = report;
      this.#tell('good', `resumed session${masked} after ${formatDuration(offlineMs)} offline: replayed ${info.replayed} by us, ${server ?? 'unknown'} by the server`);
    } else if (reconnection) {
      report.lost = this.#lostReason;
      this.#tell('good', `new session${masked}${this.#lostReason ? ` (the old one was lost: ${this.#lostReason})` : ''}`);
    }
    this.#lostReason = undefined;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(report);
  }
}

const STATE_WORDS: Readonly<Record<ClientState, string>> = {
  idle: 'not connected',
  connecting: 'connecting',
  handshaking: 'handshaking',
  ready: 'connected',
  waiting: 'waiting to reconnect',
  closed: 'closed',
};

const counters = (c: WireCounters): string => `${c.sent} out (${formatBytes(c.sentBytes)}), ${c.received} in (${formatBytes(c.receivedBytes)})`;

/** `.session` for people. */
export const formatSessionView = (view: SessionView, options: PrintOptions): string => {
  const label = (text: string): string => paint(options, 'dim', text.padEnd(10));
  const stateTone = view.state === 'ready' ? 'green' : view.state === 'closed' ? 'red' : 'yellow';
  const lines = [
    `${label('session')}${view.id ?? '(none yet)'}  ${view.app} at ${view.url}${view.legacyServer ? ' (reference server)' : ''}` +
      `${view.bound ? ', restores prove its key' : ''}${view.user ? `, logged in as ${view.user}` : ''}`,
    `${label('state')}${paint(options, stateTone, STATE_WORDS[view.state])} for ${formatDuration(view.since)}`,
    `${label('sent')}${view.lastSeq} messages, ${view.acked} acknowledged, ${view.outbox} in the outbox`,
    `${label('received')}${view.received} messages, ${view.eventsReceived} of them events`,
  ];
  const last = view.lastResume;
  const resume = last
    ? `; last after ${formatDuration(last.offlineMs)} offline: replayed ${last.replayed} by us, ${last.serverReplayed ?? 'unknown'} by the server`
    : '';
  lines.push(`${label('resumes')}${view.resumes}${resume}${view.sessionsLost > 0 ? `; ${view.sessionsLost} session(s) lost` : ''}`);
  const connection = view.wire.connection ? `this connection ${counters(view.wire.connection)}; ` : '';
  lines.push(`${label('wire')}${connection}${view.wire.connections} connection(s), ${counters(view.wire.total)} in all`);
  if (view.serverLimits) {
    const { maxBufferedBytes, holdTime } = view.serverLimits;
    lines.push(`${label('server')}holds ${formatBytes(maxBufferedBytes)} for ${formatDuration(holdTime)} after a disconnect`);
  }
  return lines.join('\n');
};
