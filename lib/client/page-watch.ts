/**
 * What a page tells a browser client about its network and its life:
 * `online`/`offline` and `navigator.onLine`, a tab becoming visible, the
 * page going away (`pagehide`, `freeze`, a tab hidden). No Node built-ins
 * and no DOM types: the page's objects are feature-detected on
 * `globalThis`, and where they are absent (React Native, Node) nothing is
 * watched and the client behaves as the core does.
 */
import { ErrorCode, TjstpError } from '../protocol/errors.js';
import type { TransportFactory } from './types.js';

type Listener = () => void;

/** The part of a DOM `EventTarget` the watch uses. */
export interface PageEventTarget {
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
}

/**
 * The page objects a browser client watches; each defaults to the global
 * of that name when it is an event target (`navigator` when it exists).
 * Pass them to test, or `null` to watch none of that kind.
 */
export interface PageEnvironment {
  /** Fires `online`, `pagehide` and `freeze`. */
  window?: PageEventTarget | null;
  /** Fires `visibilitychange`; `visibilityState` is read then. */
  document?: (PageEventTarget & { readonly visibilityState?: string }) | null;
  /** `onLine === false` means offline; anything else, online. */
  navigator?: { readonly onLine?: boolean } | null;
}

/** What the watch needs of the client. */
export interface WatchedClient {
  readonly state: string;
  reconnectNow(): boolean;
}

const isTarget = (value: unknown): value is PageEventTarget =>
  typeof value === 'object' && value !== null &&
  typeof (value as PageEventTarget).addEventListener === 'function' &&
  typeof (value as PageEventTarget).removeEventListener === 'function';

/** Each page object, or null when there is none to watch. */
export type ResolvedEnvironment = { [K in keyof PageEnvironment]-?: NonNullable<PageEnvironment[K]> | null };

/** The environment given, the rest found on `globalThis`. */
export const pageEnvironment = (given: PageEnvironment = {}): ResolvedEnvironment => {
  const found = globalThis as { window?: unknown; document?: unknown; navigator?: unknown };
  const pick = <K extends keyof PageEnvironment>(key: K, detected: NonNullable<PageEnvironment[K]> | null): NonNullable<PageEnvironment[K]> | null =>
    key in given ? (given[key] ?? null) : detected;
  const navigator = typeof found.navigator === 'object' && found.navigator !== null ? found.navigator as { onLine?: boolean } : null;
  return {
    window: pick('window', isTarget(found.window) ? found.window : null),
    document: pick('document', isTarget(found.document) ? found.document as NonNullable<PageEnvironment['document']> : null),
    navigator: pick('navigator', navigator),
  };
};

const timers = globalThis as unknown as {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

export interface PageWatchOptions {
  /** Called when the page may be going away: save what must survive it. */
  onLeave?: () => void;
  /**
   * ms between connection attempts while `navigator.onLine` is false. The
   * flag can be wrong (a server on the same machine or network is still
   * reachable), so attempts go on, rarely. Default 30,000.
   */
  offlineRetryDelay?: number;
}

export class PageWatch {
  readonly #env: ResolvedEnvironment;
  readonly #options: PageWatchOptions;
  readonly #listeners: [PageEventTarget, string, Listener][] = [];
  #client: WatchedClient | undefined;
  /** Connection attempts held until the page is back online. */
  readonly #parked = new Set<{ release(): void; cancel(error: Error): void }>();
  #stopped = false;

  constructor(environment: PageEnvironment | undefined, options: PageWatchOptions = {}) {
    this.#env = pageEnvironment(environment);
    this.#options = options;
    const { window, document } = this.#env;
    if (window) {
      this.#listen(window, 'online', () => this.#wake());
      this.#listen(window, 'pagehide', () => this.#options.onLeave?.());
      // A frozen page may be discarded without a pagehide.
      this.#listen(window, 'freeze', () => this.#options.onLeave?.());
    }
    if (document) {
      this.#listen(document, 'visibilitychange', () => {
        // A hidden tab may be discarded unannounced (mobile), so it saves too.
        if (document.visibilityState === 'hidden') this.#options.onLeave?.();
        else if (document.visibilityState === 'visible' && this.online) this.#wake();
      });
    }
  }

  /** False only when the page says it is offline. */
  get online(): boolean {
    return this.#env.navigator?.onLine !== false;
  }

  /** The client to wake; the watch stops when it closes. */
  attach(client: WatchedClient & { on(event: 'state', listener: (state: string) => void): unknown }): void {
    this.#client = client;
    client.on('state', (state) => {
      if (state === 'closed') this.stop();
    });
  }

  /**
   * `factory` held while the page is offline: an attempt starts when the
   * page comes back online or becomes visible online, or after
   * `offlineRetryDelay`, whichever is first.
   */
  gate(factory: TransportFactory): TransportFactory {
    return async () => {
      if (!this.online) await this.#park();
      return factory();
    };
  }

  /** Removes every listener and fails held attempts. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const [target, type, listener] of this.#listeners) target.removeEventListener(type, listener);
    this.#listeners.length = 0;
    for (const parked of [...this.#parked]) parked.cancel(new TjstpError(ErrorCode.CLIENT_CLOSED));
  }

  #listen(target: PageEventTarget, type: string, listener: Listener): void {
    target.addEventListener(type, listener);
    this.#listeners.push([target, type, listener]);
  }

  /** Back online or in sight: attempts held or waiting on a backoff go now. */
  #wake(): void {
    for (const parked of [...this.#parked]) parked.release();
    this.#client?.reconnectNow();
  }

  #park(): Promise<void> {
    if (this.#stopped) return Promise.reject(new TjstpError(ErrorCode.CLIENT_CLOSED));
    return new Promise<void>((resolve, reject) => {
      const timer = timers.setTimeout(() => entry.release(), this.#options.offlineRetryDelay ?? 30_000);
      const settle = (): void => {
        timers.clearTimeout(timer);
        this.#parked.delete(entry);
      };
      const entry = {
        release: () => {
          settle();
          resolve();
        },
        cancel: (error: Error) => {
          settle();
          reject(error);
        },
      };
      this.#parked.add(entry);
    });
  }
}
