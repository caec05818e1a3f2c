/**
 * A session ticket kept in Web Storage (`sessionStorage` by default), so
 * that a page reload reclaims the session. Storage can refuse at any time
 * (quota, private mode, a sandboxed frame): then the ticket is simply not
 * kept and the page works on without it, so nothing here throws.
 */
import type { SessionTicket } from './types.js';

/** The part of the Web Storage API the store uses. */
export interface TicketStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Where `connectBrowser({ persist })` keeps the ticket. */
export interface PersistOptions {
  /** Default `globalThis.sessionStorage`: one tab's, surviving its reloads. */
  storage?: TicketStorage;
  /** Default `tjstp-session:<app>:<url>`. */
  key?: string;
}

const isTicket = (value: unknown): value is SessionTicket => {
  if (typeof value !== 'object' || value === null) return false;
  const ticket = value as Partial<SessionTicket>;
  return typeof ticket.id === 'string' && typeof ticket.app === 'string' && typeof ticket.legacy === 'boolean' &&
    Number.isSafeInteger(ticket.lastSeq) && Number.isSafeInteger(ticket.received) &&
    Number.isSafeInteger(ticket.acked) && Array.isArray(ticket.outbox);
};

const globalStorage = (): TicketStorage | undefined => {
  try {
    // Reading the property itself throws where storage is denied.
    const storage = (globalThis as { sessionStorage?: TicketStorage }).sessionStorage;
    return storage && typeof storage.getItem === 'function' ? storage : undefined;
  } catch {
    return undefined;
  }
};

export class TicketStore {
  readonly key: string;
  readonly #storage: TicketStorage;

  private constructor(storage: TicketStorage, key: string) {
    this.#storage = storage;
    this.key = key;
  }

  /** The store `persist` asks for, or undefined when there is no storage here. */
  static open(persist: true | PersistOptions, url: string, app: string): TicketStore | undefined {
    const options = persist === true ? {} : persist;
    const storage = options.storage ?? globalStorage();
    return storage ? new TicketStore(storage, options.key ?? `tjstp-session:${app}:${url}`) : undefined;
  }

  /** The stored ticket for `app`; a malformed or foreign one is removed. */
  load(app: string): SessionTicket | undefined {
    let text: string | null;
    try {
      text = this.#storage.getItem(this.key);
    } catch {
      return undefined;
    }
    if (text === null) return undefined;
    let ticket: unknown;
    try {
      ticket = JSON.parse(text);
    } catch {
      ticket = undefined;
    }
    if (isTicket(ticket) && ticket.app === app) return ticket;
    this.clear();
    return undefined;
  }

  /**
   * Keeps `ticket` (null: none). False when the storage refused; then the
   * older ticket goes too, since reclaiming with it would not match.
   */
  save(ticket: SessionTicket | null): boolean {
    if (ticket === null) return this.clear();
    try {
      this.#storage.setItem(this.key, JSON.stringify(ticket));
      return true;
    } catch {
      this.clear();
      return false;
    }
  }

  clear(): boolean {
    try {
      this.#storage.removeItem(this.key);
      return true;
    } catch {
      return false;
    }
  }
}
