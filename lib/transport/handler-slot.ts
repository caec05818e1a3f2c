/**
 * Handler bookkeeping shared by every transport: queue messages until a
 * handler is bound, report the close exactly once, and stop reporting after
 * `unbind`. No Node built-ins: the W3C transport uses it.
 */
import type { TransportHandler } from './transport.js';

/** Hooks a {@link HandlerSlot} uses to apply backpressure while unbound. */
export interface HandlerSlotHooks {
  /** Messages are queued for a handler that is not bound yet. */
  pause?(): void;
  /** A handler was bound (or unbound): reading may go on. */
  resume?(): void;
}

/**
 * The handler bookkeeping every transport needs: queue messages until
 * `bind`, drop everything after `unbind`, report the end exactly once, after
 * all queued messages, with the first error seen.
 */
export class HandlerSlot {
  readonly #hooks: HandlerSlotHooks;
  #handler: TransportHandler | null = null;
  #detached = false;
  #queue: string[] = [];
  #head = 0;
  #draining = false;
  #paused = false;
  #error: Error | undefined;
  #ended = false;
  #reported = false;

  constructor(hooks: HandlerSlotHooks = {}) {
    this.#hooks = hooks;
  }

  /** True once {@link end} was called. */
  get ended(): boolean {
    return this.#ended;
  }

  bind(handler: TransportHandler): void {
    this.#handler = handler;
    this.#detached = false;
    // Rebinding from inside a handler: the outer `bind` is still feeding
    // queued messages and reports the end after them.
    if (this.#draining) return;
    this.#drain();
    if (!this.#handler) return;
    this.#resume();
    if (this.#ended) this.#report();
  }

  unbind(): void {
    this.#handler = null;
    this.#detached = true;
    this.#queue = [];
    this.#head = 0;
    this.#resume();
  }

  /** One received message. */
  message(text: string): void {
    if (this.#ended) return;
    if (this.#handler) {
      // The usual case, per message: nothing queued, hand it straight over.
      if (!this.#draining && this.#head === this.#queue.length) {
        this.#handler.message(text);
        return;
      }
      this.#queue.push(text);
      this.#drain();
    } else if (!this.#detached) {
      this.#queue.push(text);
      if (!this.#paused) {
        this.#paused = true;
        this.#hooks.pause?.();
      }
    }
  }

  /**
   * Offers the bound handler a refused input (see `TransportHandler.violation`);
   * returns false when nobody is bound to take it.
   */
  violation(error: Error): boolean {
    const handler = this.#handler;
    if (!handler?.violation) return false;
    handler.violation(error);
    return true;
  }

  /** Remembers an error to report with the end; the first one wins. */
  fail(error: Error): void {
    this.#error ??= error;
  }

  /** The transport is gone. Reported now if bound, else on `bind`. */
  end(error?: Error): void {
    if (error) this.fail(error);
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#handler || this.#draining) return;
    this.#drain();
    this.#report();
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#handler && this.#head < this.#queue.length) {
        const text = this.#queue[this.#head];
        this.#head += 1;
        this.#handler.message(text);
      }
    } finally {
      this.#draining = false;
      if (this.#head >= this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
    }
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#hooks.resume?.();
  }

  #report(): void {
    if (this.#reported || !this.#handler) return;
    this.#reported = true;
    this.#handler.close(this.#error);
  }
}
