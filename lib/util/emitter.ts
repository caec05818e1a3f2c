/**
 * A small typed event emitter with no Node built-ins, for the client core
 * (browsers and React Native have no `node:events`). A throwing listener
 * never breaks the emitter: its error is reported to `error` listeners, or
 * rethrown asynchronously when there are none, as Node does.
 */

type Listener<A extends unknown[]> = (...args: A) => void;
type StoredListener = (...args: unknown[]) => void;

export type EventMap = { [event: string]: unknown[] };

export class TypedEmitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, StoredListener[]>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    const stored = listener as unknown as StoredListener;
    if (list) list.push(stored);
    else this.#listeners.set(event, [stored]);
    return this;
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper = (...args: Events[K]): void => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.indexOf(listener as unknown as StoredListener);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls the listeners in order; returns whether there were any. */
  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const listener of list.slice()) {
      try {
        listener(...(args as unknown[]));
      } catch (error) {
        this.reportListenerError(error);
      }
    }
    return true;
  }

  private reportListenerError(error: unknown): void {
    const errorListeners = this.#listeners.get('error' as keyof Events);
    if (errorListeners && errorListeners.length > 0) {
      for (const listener of errorListeners.slice()) {
        try {
          listener(error);
        } catch {
          // An error listener that throws has nowhere left to report to.
        }
      }
      return;
    }
    setTimeout(() => {
      throw error;
    }, 0);
  }
}
