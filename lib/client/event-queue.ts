/**
 * Server events that arrive while the client has no `event` listener. The
 * handshake reply and what the server replays behind it usually come in one
 * chunk, handled before `connect()` hands the client back; a brand-new
 * session can get events in the same tick as its welcome. Emitted to nobody,
 * they would be acknowledged and lost, so they are held and delivered, in
 * order, once a listener is attached. What is acknowledged does not change:
 * holding happens after the session engine accepted the event.
 */
import { ErrorCode, TjstpError } from '../protocol/errors.js';
import type { RemoteEvent } from './types.js';

/** Default of `maxHeldEvents`. */
export const DEFAULT_MAX_HELD_EVENTS = 10_000;

/**
 * More events arrived with no `event` listener than the client holds
 * (`maxHeldEvents`): the later ones were dropped. Code `BUFFER_FULL`.
 */
export class EventsDroppedError extends TjstpError {
  /** The cap that was reached. */
  readonly limit: number;

  constructor(limit: number) {
    super(
      ErrorCode.BUFFER_FULL,
      `More than ${limit} events arrived with no 'event' listener attached; the later ones were dropped ` +
        '(attach a listener sooner, pass onEvent, or raise maxHeldEvents)',
    );
    this.limit = limit;
  }
}

/** How the queue reaches the client's listeners. */
export interface EventSink {
  /** Emits to the `event` listeners; false when there are none. */
  deliver(event: RemoteEvent): boolean;
  /** Emits `error`; false when nobody listens to it. */
  report(error: Error): boolean;
}

export class EventQueue {
  readonly #limit: number;
  readonly #sink: EventSink;
  #held: RemoteEvent[] = [];
  #head = 0;
  #flushScheduled = false;
  /** Events were dropped since the queue was last emptied. */
  #overflowed = false;
  /** The drop is not reported yet: nobody listened to `error` then. */
  #unreported: EventsDroppedError | undefined;

  /** `limit`: how many events are held at most; 0 holds none. */
  constructor(limit: number, sink: EventSink) {
    this.#limit = limit;
    this.#sink = sink;
  }

  /** How many events wait for a listener. */
  get size(): number {
    return this.#held.length - this.#head;
  }

  /** An event the session accepted: delivered now, or held. */
  push(event: RemoteEvent): void {
    // Behind held events it must wait its turn, or the order would break.
    if (this.size === 0 && this.#sink.deliver(event)) return;
    if (this.size < this.#limit) {
      this.#held.push(event);
      return;
    }
    if (this.#overflowed || this.#limit === 0) return;
    this.#overflowed = true;
    const error = new EventsDroppedError(this.#limit);
    if (!this.#sink.report(error)) this.#unreported = error;
  }

  /**
   * A listener was attached. Delivery waits for a microtask, so that every
   * listener attached in the same synchronous run gets the held events.
   */
  listenerAdded(event: string): void {
    if (event === 'event' && this.size > 0) this.#schedule();
    if (event === 'error' && this.#unreported) this.#schedule();
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    while (this.size > 0) {
      const event = this.#held[this.#head] as RemoteEvent;
      // A listener that removed itself (`once`) leaves the rest for the next.
      if (!this.#sink.deliver(event)) break;
      this.#head++;
    }
    if (this.size === 0) {
      this.#held = [];
      this.#head = 0;
      this.#overflowed = false;
    }
    const error = this.#unreported;
    if (error && this.#sink.report(error)) this.#unreported = undefined;
  }
}
