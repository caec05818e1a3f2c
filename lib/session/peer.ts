/**
 * The session engine shared by client and server: it numbers what this side
 * sends, keeps it until the peer acknowledges it, drops what arrives twice,
 * runs incoming calls and matches replies to pending calls. A Peer outlives
 * its transports: the owner attaches a transport after each successful
 * handshake and detaches it when it dies; in between, everything sent is
 * only buffered and goes out, in order, on the next attach.
 *
 * Replies are sequenced like calls and events (`callback:[callId, seq]`), so
 * a reply lost with a connection is retransmitted rather than the call run
 * again: with a tjstp peer every call runs once and is answered once. A
 * legacy peer (the reference) ignores the extra header element.
 */
import {
  ErrorCode,
  RemoteError,
  TjstpError,
  toWireError,
} from '../protocol/errors.js';
import {
  callText,
  callbackOkText,
  encodeCallbackError,
  encodeControl,
  encodeInspect,
  withEventId,
  type CallbackMessage,
  type CallMessage,
  type Message,
} from '../protocol/message.js';
import type { Transport } from '../transport/transport.js';
import { LegacyDedup } from './legacy-dedup.js';
import { isWide, messageBytes, sizedBytes, textBytes, type MemoryMeter } from './memory.js';
import { PendingCalls } from './pending-calls.js';
import { notSerializable, prepareEvent, type PreparedEvent } from './prepared-event.js';
import { RunningCalls } from './running-calls.js';
import { SessionState, type Role, type SessionSnapshot } from './state.js';

export { prepareEvent, type PreparedEvent };

/** What the owner of a Peer provides: the local API and a few reports. */
export interface PeerHandlers {
  /** Runs an incoming call; returns (or resolves to) the results array. */
  call(iface: string, method: string, args: unknown[]): unknown[] | PromiseLike<unknown[]>;
  /** Method names of an interface, or undefined when there is none. */
  inspect(iface: string): readonly string[] | undefined;
  /** An incoming event, delivered once and in order. */
  event(iface: string, name: string, args: unknown[]): void;
  /** The outbox passed `maxBufferedBytes`. */
  overflow(): void;
  /** An error that was handled but should be logged (a method threw). */
  error(error: unknown): void;
}

/**
 * A Peer's limits. A server passes one object to all its sessions, so a
 * session costs no copy of them.
 */
export interface PeerLimits {
  /** Outbox limit, in bytes as held in memory (see `messageBytes`). */
  readonly maxBufferedBytes: number;
  /** Acknowledge at most this long after the first unacknowledged message. */
  readonly ackDelay: number;
  /** …or as soon as this many messages are unacknowledged. */
  readonly ackEvery: number;
  /** Fail a call not answered within this many ms; 0 or absent waits for ever. */
  readonly callTimeout?: number;
}

export interface PeerOptions {
  role: Role;
  handlers: PeerHandlers;
  limits: PeerLimits;
  /** The peer is the reference implementation (no sequenced replies, ids reused). */
  legacyPeer?: boolean;
  snapshot?: SessionSnapshot;
  /**
   * Hears of every change of what the session holds: its outbox, and the
   * messages of calls whose methods are still running.
   */
  meter?: MemoryMeter;
}

/** How every reply this side sends begins; the call id follows. */
const CALLBACK_PREFIX = '{"callback":[';

const isThenable = (value: unknown): value is PromiseLike<unknown[]> =>
  typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';

export class Peer {
  readonly state: SessionState;
  legacyPeer: boolean;
  readonly #limits: PeerLimits;
  readonly #handlers: PeerHandlers;
  /** Our calls awaiting replies; created with the first (idle sessions are many). */
  #pending: PendingCalls | undefined;
  #transport: Transport | null = null;
  #unacknowledged = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  /** Incoming calls whose (asynchronous) methods are still running. */
  #running: RunningCalls | undefined;
  readonly #meter: MemoryMeter | undefined;
  /** A ping is out to solicit an acknowledgement; cleared by its pong. */
  #soliciting = false;
  /** Whether anything arrived since the heartbeat last looked. */
  heard = false;
  /**
   * The last sequence number handed to a transport. Above `acked` it marks
   * messages in doubt: sent, but perhaps lost with the connection.
   */
  #writtenThrough = 0;
  /** A legacy peer's events, to tell its resends (see legacy-dedup.ts). */
  #resent: LegacyDedup | undefined;

  constructor(options: PeerOptions) {
    this.#limits = options.limits;
    this.#handlers = options.handlers;
    this.legacyPeer = options.legacyPeer ?? false;
    this.#meter = options.meter;
    this.state = new SessionState(options.role, options.snapshot, options.meter);
    // A session taken from a snapshot may have sent anything it holds.
    this.#writtenThrough = this.state.lastSeq;
  }

  get transport(): Transport | null {
    return this.#transport;
  }

  get pendingCount(): number {
    return this.#pending?.size ?? 0;
  }

  /** Incoming calls whose asynchronous methods have not finished yet. */
  get runningCount(): number {
    return this.#running?.size ?? 0;
  }

  /** What this side holds for the session: its outbox and the calls still running. */
  get memoryBytes(): number {
    return this.state.outbox.bytes + (this.#running?.bytes ?? 0);
  }

  /**
   * Binds a transport after a successful handshake. `peerReceived` is what
   * the peer reported receiving; everything after it is retransmitted, in
   * order, with its original id, except what {@link replayEarly} already
   * sent on this transport (up to `sentThrough`). Returns how many messages
   * the peer gets again, early or now.
   *
   * Sends no ack: a restore's hello and reply already told each side what
   * the other has, and a new session has received nothing.
   */
  attach(transport: Transport, peerReceived: number, sentThrough = 0): number {
    this.#transport = transport;
    if (this.legacyPeer) this.#failLostReplies(peerReceived);
    if (this.legacyPeer) (this.#resent ??= new LegacyDedup()).attached();
    this.state.acknowledge(peerReceived);
    this.#unacknowledged = 0;
    let replayed = 0;
    for (const [seq, text] of this.state.outbox.entries()) {
      if (seq > sentThrough) transport.send(text);
      replayed++;
    }
    this.#writtenThrough = this.state.lastSeq;
    return replayed;
  }

  /**
   * Sends, right behind a restore hello and before the reply, the messages
   * made since the connection was lost, within a budget: they arrive a
   * round trip sooner. Only when nothing sent before is in doubt (everything
   * ever written was acknowledged), so these are exactly the messages the
   * peer cannot have: none is wasted, and they follow what the peer has
   * without a gap. Otherwise, and always with a legacy peer (which reuses
   * ids), it sends nothing and {@link attach} replays after the reply.
   * Returns the sequence number of the last one sent (0 for none).
   */
  replayEarly(transport: Transport, maxMessages: number, maxBytes: number): number {
    if (this.legacyPeer || this.#writtenThrough > this.state.acked) return 0;
    let through = 0;
    let count = 0;
    let bytes = 0;
    for (const [seq, text] of this.state.outbox.entries()) {
      const size = textBytes(text);
      if (count >= maxMessages || bytes + size > maxBytes) break;
      transport.send(text);
      through = seq;
      count++;
      bytes += size;
    }
    if (through > 0) this.#writtenThrough = through;
    return through;
  }

  /**
   * The hello that {@link replayEarly} followed was refused: a server drops
   * what came behind a refused hello unread, so none of it is in doubt.
   */
  earlyReplayRefused(): void {
    // An early replay only starts from a state where everything written was acknowledged.
    this.#writtenThrough = Math.min(this.#writtenThrough, this.state.acked);
  }

  /** Forgets the transport; sends are buffered until the next attach. */
  detach(): void {
    this.#transport = null;
    this.#soliciting = false;
    this.#clearAckTimer();
  }

  /**
   * Dispatches one message that arrived after the handshake. `size` is what
   * its text costs in memory: a call whose method runs asynchronously holds
   * its arguments that long, and the meter hears of it.
   */
  receive(message: Message, size = 0): void {
    this.heard = true;
    switch (message.kind) {
      case 'call':
        if (this.#accept(message.id)) this.#runCall(message, size);
        return;
      case 'callback':
        this.#onCallback(message);
        return;
      case 'event':
        if (this.#accept(message.id) && !this.#resent?.isResent(message.id, message.iface, message.name, message.args)) {
          this.#handlers.event(message.iface, message.name, message.args);
        }
        return;
      case 'inspect':
        if (this.#accept(message.id)) this.#answerInspect(message.id, message.iface);
        return;
      case 'ping':
        // A reference peer's ping consumes an id; ours repeats our last one.
        if (Math.abs(message.id) > this.state.received) this.state.received = Math.abs(message.id);
        this.#write(encodeControl('pong', message.id));
        return;
      case 'pong':
        this.#soliciting = false;
        this.#acknowledge(message.id);
        return;
      case 'ack':
        this.#acknowledge(message.id);
        return;
      default:
        return;
    }
  }

  /** Calls a remote method; resolves to the results array. */
  call(iface: string, method: string, args: readonly unknown[]): Promise<unknown[]> {
    return this.#call(iface, method, args, false) as Promise<unknown[]>;
  }

  /**
   * Calls a remote method; resolves to its first result. The same promise
   * the reply settles, not one derived from it: a round trip at one call
   * in flight is short enough for each promise hop to show.
   */
  callFirst(iface: string, method: string, args: readonly unknown[]): Promise<unknown> {
    return this.#call(iface, method, args, true);
  }

  /** Asks the peer for an interface's method names. */
  inspect(iface: string): Promise<unknown[]> {
    return this.#request((id) => encodeInspect(id, iface), false) as Promise<unknown[]>;
  }

  /** Sends an event; it is delivered once, in order, across reconnects. */
  emitEvent(iface: string, name: string, args: readonly unknown[]): void {
    this.emitPrepared(prepareEvent(iface, name, args));
  }

  /** Sends an event serialized by {@link prepareEvent} (once for many peers). */
  emitPrepared(event: PreparedEvent): void {
    const text = withEventId(this.#peekId(), event.body);
    // Measured from the body, measured once for every recipient: the text is
    // a rope of the id and that body, and scanning it would flatten it.
    const bytes = sizedBytes(text.length, event.wide);
    // A client can push back; on the server an overflow ends the session.
    if (this.state.role === 'client' && this.#wouldOverflow(bytes)) throw new TjstpError(ErrorCode.BUFFER_FULL);
    this.#record(text, bytes);
  }

  /** Sends a heartbeat ping; its pong acknowledges everything sent so far. */
  ping(): void {
    this.#write(encodeControl('ping', this.state.sign * this.state.lastSeq));
  }

  /**
   * The lowest id (unsigned) of the peer's calls that it may not have had
   * an answer to: still running here, or answered by a reply with a
   * sequence number above `afterSeq`. Undefined when there is none.
   */
  oldestUnansweredCall(afterSeq: number): number | undefined {
    let oldest = Infinity;
    for (const id of this.runningCalls()) oldest = Math.min(oldest, Math.abs(id));
    for (const [seq, text] of this.state.outbox.entries()) {
      if (seq <= afterSeq || !text.startsWith(CALLBACK_PREFIX)) continue;
      oldest = Math.min(oldest, Math.abs(Number.parseInt(text.slice(CALLBACK_PREFIX.length), 10)));
    }
    return oldest === Infinity ? undefined : oldest;
  }

  /** Acknowledges at once what has arrived (e.g. before a planned close). */
  flushAck(): void {
    if (this.#unacknowledged > 0 && !this.legacyPeer) this.#sendAck();
  }

  /**
   * Ends the session locally: every pending call fails with `error`, the
   * outbox is dropped, nothing more is sent. With `sentError`, a call that
   * was handed to a transport fails with that instead: the peer may have
   * run it, whereas one never sent surely did not run.
   */
  end(error: Error, sentError?: Error): void {
    this.#ended = true;
    this.detach();
    this.state.outbox.clear();
    this.failPending(error, sentError);
  }

  /** Fails every pending call with `error` (or `sentError`, see {@link end}), keeping the session. */
  failPending(error: Error, sentError = error): void {
    this.#pending?.fail((id) => (Math.abs(id) <= this.#writtenThrough ? sentError : error));
  }

  /** Ids of the peer's calls whose methods are running now (their outcome is in doubt if the process stops). */
  runningCalls(): number[] {
    return this.#running?.ids() ?? [];
  }

  /**
   * Answers calls that ran in a process that stopped before they finished
   * (see {@link runningCalls}): their outcome is unknown, and they must not
   * run again. Each gets error 29, sequenced like any reply.
   */
  answerInDoubt(callIds: readonly number[]): void {
    for (const id of callIds) this.#replyError(id, new RemoteError(ErrorCode.OUTCOME_UNKNOWN));
  }

  /** A pong or ack: the peer has everything of ours up to `id`. */
  #acknowledge(id: number): void {
    if (this.state.isOwnId(id) || id === 0) this.state.acknowledge(Math.abs(id));
  }

  #peekId(): number {
    return this.state.sign * (this.state.lastSeq + 1);
  }

  #call(iface: string, method: string, args: readonly unknown[], first: boolean): Promise<unknown> {
    let json: string;
    try {
      json = JSON.stringify(args);
    } catch (error) {
      return Promise.reject(notSerializable(error));
    }
    // Measured on the flat pieces: the message is a rope, which a scan would flatten.
    const wide = isWide(json) || isWide(iface) || isWide(method);
    return this.#request((id) => callText(id, iface, method, json), first, wide);
  }

  /** `wide`, when known, saves measuring the message (see `#call`). */
  #request(encode: (id: number) => string, first: boolean, wide?: boolean): Promise<unknown> {
    if (this.#ended) return Promise.reject(new TjstpError(ErrorCode.CLIENT_CLOSED));
    const id = this.#peekId();
    let text: string;
    try {
      text = encode(id);
    } catch (error) {
      return Promise.reject(notSerializable(error));
    }
    const bytes = wide === undefined ? messageBytes(text) : sizedBytes(text.length, wide);
    if (this.state.role === 'client' && this.#wouldOverflow(bytes)) {
      return Promise.reject(new TjstpError(ErrorCode.BUFFER_FULL));
    }
    const timeout = this.#limits.callTimeout ?? 0;
    return (this.#pending ??= new PendingCalls()).add(id, first, timeout, () => this.#record(text, bytes));
  }

  #wouldOverflow(bytes: number): boolean {
    return this.state.outbox.bytes + bytes > this.#limits.maxBufferedBytes;
  }

  /** Takes the next id for a sequenced message, keeps it, sends it if attached. */
  #record(text: string, bytes = messageBytes(text)): void {
    const overflow = this.#wouldOverflow(bytes);
    const seq = Math.abs(this.state.nextId());
    const { outbox } = this.state;
    outbox.push(seq, text, bytes);
    if (this.#write(text)) this.#writtenThrough = seq;
    if (overflow) {
      this.#handlers.overflow();
    } else if (outbox.bytes * 2 > this.#limits.maxBufferedBytes && !this.#soliciting && this.#transport !== null) {
      // A reference peer acknowledges only by answering pings: ask before
      // the outbox fills. A tjstp peer acknowledges long before this.
      this.#soliciting = true;
      this.ping();
    }
  }

  /** Hands a message to the transport, if there is an open one; says whether. */
  #write(text: string): boolean {
    const transport = this.#transport;
    if (transport === null || !transport.open) return false;
    transport.send(text);
    return true;
  }

  #accept(id: number): boolean {
    if (!this.state.accept(Math.abs(id), this.legacyPeer)) return false;
    if (!this.legacyPeer) this.#scheduleAck();
    return true;
  }

  #scheduleAck(): void {
    this.#unacknowledged++;
    if (this.#unacknowledged >= this.#limits.ackEvery) {
      this.#sendAck();
    } else if (this.#ackTimer === undefined) {
      this.#ackTimer = setTimeout(() => this.#sendAck(), this.#limits.ackDelay);
    }
  }

  #sendAck(): void {
    this.#clearAckTimer();
    this.#unacknowledged = 0;
    this.#write(encodeControl('ack', -this.state.sign * this.state.received));
  }

  #clearAckTimer(): void {
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  #onCallback(message: CallbackMessage): void {
    // A reply to our call N proves the peer has everything up to N.
    if (this.state.isOwnId(message.id)) this.state.acknowledge(Math.abs(message.id));
    if (message.seq !== undefined && !this.#accept(message.seq)) return;
    this.#pending?.settle(message);
  }

  #runCall(message: CallMessage, size: number): void {
    let result: unknown[] | PromiseLike<unknown[]>;
    try {
      result = this.#handlers.call(message.iface, message.method, message.args);
    } catch (error) {
      this.#replyError(message.id, error);
      return;
    }
    const { id } = message;
    if (!isThenable(result)) {
      this.#reply(id, result);
      return;
    }
    const running = (this.#running ??= new RunningCalls(this.#meter));
    running.start(id, size);
    result.then(
      (results) => {
        running.finish(id, size);
        this.#reply(id, results);
      },
      (error: unknown) => {
        running.finish(id, size);
        this.#replyError(id, error);
      },
    );
  }

  #answerInspect(id: number, iface: string): void {
    const methods = this.#handlers.inspect(iface);
    if (methods === undefined) this.#replyError(id, new RemoteError(ErrorCode.INTERFACE_NOT_FOUND));
    else this.#reply(id, [...methods]);
  }

  #reply(callId: number, results: unknown[]): void {
    if (this.#ended) return;
    const seq = this.legacyPeer ? undefined : this.#peekId();
    let json: string;
    try {
      json = JSON.stringify(results);
    } catch (error) {
      this.#handlers.error(error);
      this.#replyError(callId, new RemoteError(ErrorCode.NOT_SERIALIZABLE, 'Result is not serializable'));
      return;
    }
    const text = callbackOkText(callId, seq, json);
    this.#sendReply(text, seq, sizedBytes(text.length, isWide(json)));
  }

  #replyError(callId: number, error: unknown): void {
    if (this.#ended) return;
    if (!RemoteError.is(error)) this.#handlers.error(error);
    const seq = this.legacyPeer ? undefined : this.#peekId();
    this.#sendReply(encodeCallbackError(callId, seq, toWireError(error)), seq);
  }

  #sendReply(text: string, seq: number | undefined, bytes?: number): void {
    if (seq === undefined) this.#write(text);
    else this.#record(text, bytes);
  }

  /**
   * A legacy peer does not buffer replies: a call it reports as received
   * whose reply has not come will never be answered. Fail it, never hang.
   */
  #failLostReplies(peerReceived: number): void {
    this.#pending?.fail((id) => (Math.abs(id) > peerReceived ? undefined : new TjstpError(ErrorCode.CALLBACK_LOST)));
  }
}
