/**
 * This side's calls (and inspects) awaiting the peer's reply, by id. A Peer
 * creates the table with its first call: idle sessions are many, and most
 * servers never call their clients.
 */
import { ErrorCode, RemoteError, TjstpError } from '../protocol/errors.js';
import type { CallbackMessage } from '../protocol/message.js';

interface Pending {
  /** Takes the results array, or only its first element (see `first`). */
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The caller wants the first result only (`callFirst`). */
  first: boolean;
}

export class PendingCalls {
  readonly #calls = new Map<number, Pending>();

  get size(): number {
    return this.#calls.size;
  }

  /**
   * Registers call `id`, then `send`s it, and resolves with its reply.
   * Registered first, so a failure that comes while the call is being sent
   * (an overflow ending the session) finds it; if `send` throws, the
   * promise rejects with that. With `timeout` > 0 the promise fails with
   * CALL_TIMEOUT after that many ms; a reply after it is ignored.
   */
  add(id: number, first: boolean, timeout: number, send: () => void): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const timer = timeout > 0
        ? setTimeout(() => {
          if (this.#calls.delete(id)) reject(new TjstpError(ErrorCode.CALL_TIMEOUT));
        }, timeout)
        : undefined;
      this.#calls.set(id, { resolve, reject, timer, first });
      send();
    });
  }

  /** Settles the call a reply answers; a reply to nothing pending is ignored. */
  settle(message: CallbackMessage): void {
    const pending = this.#take(message.id);
    if (pending === undefined) return;
    if (message.ok !== undefined) pending.resolve(pending.first ? message.ok[0] : message.ok);
    else pending.reject(RemoteError.fromJstp(message.error));
  }

  /** Fails every call `errorFor` gives an error for (all of them when it always does). */
  fail(errorFor: (id: number) => Error | undefined): void {
    for (const id of [...this.#calls.keys()]) {
      const error = errorFor(id);
      if (error === undefined) continue;
      this.#take(id)?.reject(error);
    }
  }

  #take(id: number): Pending | undefined {
    const pending = this.#calls.get(id);
    if (pending === undefined) return undefined;
    this.#calls.delete(id);
    if (pending.timer) clearTimeout(pending.timer);
    return pending;
  }
}
