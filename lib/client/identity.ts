/**
 * Who the client's session is: its id, the key a tjstp server gave it (the
 * client proves it on every restore), the last restore nonce and the user
 * the server says is logged in. It changes on a new session, a rotation
 * and a loss; the ticket (`client.session`) is made from it and the
 * session's counters.
 */
import { isHexKey } from '../protocol/restore.js';
import type { SessionState } from '../session/state.js';
import { nextNonce } from './proof.js';
import type { SessionTicket } from './types.js';

/** What a restore hello needs of the identity (see `helloFor`). */
export interface RestoreIdentity {
  id: string;
  state: SessionState;
  legacyPeer: boolean;
  key: string | undefined;
  nonce: number;
}

export class SessionIdentity {
  #id: string | null = null;
  #key: string | undefined;
  /** Kept across sessions: it only has to grow. */
  #nonce = 0;
  #user: string | null | undefined;

  /** Takes a persisted ticket's identity. */
  constructor(ticket?: SessionTicket) {
    if (!ticket) return;
    this.#id = ticket.id;
    this.#key = ticket.key;
    this.#nonce = ticket.nonce ?? 0;
    this.#user = ticket.user;
  }

  /** The session id, or null before the first handshake (and after a loss). */
  get id(): string | null {
    return this.#id;
  }

  /** The session has a key, so it can rotate. */
  get bound(): boolean {
    return this.#key !== undefined;
  }

  get user(): string | null | undefined {
    return this.#user;
  }

  /**
   * For a restore hello, with a fresh nonce: a hello that arrives late is
   * then told from the latest. Undefined when there is no session yet.
   */
  restore(state: SessionState, legacyPeer: boolean): RestoreIdentity | undefined {
    if (this.#id === null) return undefined;
    this.#nonce = nextNonce(this.#nonce);
    return { id: this.#id, state, legacyPeer, key: this.#key, nonce: this.#nonce };
  }

  /** A new session: its id, and the key and user when the server gave them. */
  started(id: string, binding: { key: string; user: string | null } | undefined): void {
    this.#id = id;
    this.#key = binding?.key;
    this.#user = binding?.user;
  }

  /**
   * The server's `$tjstp.rotate(id, key, user)`: from now on the session is
   * this id with this key. False when the arguments are not a rotation.
   */
  rotated(args: readonly unknown[]): boolean {
    const [id, key, user] = args;
    if (typeof id !== 'string' || id.length === 0 || !isHexKey(key)) return false;
    this.#id = id;
    this.#key = key;
    if (user === null || typeof user === 'string') this.#user = user;
    return true;
  }

  /** The session was lost: none until the next one starts. */
  lost(): void {
    this.#id = null;
    this.#key = undefined;
    this.#user = undefined;
  }

  /** The persisted form, with the session's counters and outbox. */
  ticket(app: string, legacy: boolean, state: SessionState): SessionTicket | null {
    if (this.#id === null) return null;
    const ticket: SessionTicket = { id: this.#id, app, legacy, ...state.snapshot() };
    if (this.#key !== undefined) Object.assign(ticket, { key: this.#key, nonce: this.#nonce });
    if (this.#user !== undefined) ticket.user = this.#user;
    return ticket;
  }
}
