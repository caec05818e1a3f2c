/**
 * Channels (rooms): named groups of sessions within one application. A
 * session stays a member while detached, so what is published to the
 * channel is buffered for it and delivered when it resumes; it leaves
 * when it leaves on purpose or when the session ends.
 */
import { prepareEvent } from '../session/peer.js';
import type { ServerSession } from './session.js';

export class Channels {
  /** `app\0channel` → members. */
  readonly #members = new Map<string, Set<ServerSession>>();
  /** Hears what is published here, for other processes' members (a shared store). */
  relay: ((app: string, channel: string, iface: string, name: string, args: readonly unknown[]) => void) | undefined;

  join(session: ServerSession, channel: string): void {
    const key = `${session.app.name}\0${channel}`;
    let members = this.#members.get(key);
    if (!members) this.#members.set(key, (members = new Set()));
    members.add(session);
    session.addChannel(channel);
  }

  leave(session: ServerSession, channel: string): void {
    const key = `${session.app.name}\0${channel}`;
    const members = this.#members.get(key);
    session.removeChannel(channel);
    if (!members) return;
    members.delete(session);
    if (members.size === 0) this.#members.delete(key);
  }

  /**
   * Sends an event to every member; returns how many sessions of this
   * process it reached (members elsewhere get it through the relay).
   */
  publish(app: string, channel: string, iface: string, name: string, args: readonly unknown[]): number {
    if (this.relay === undefined) return this.deliver(app, channel, iface, name, args);
    // Shared: delivered here too as it comes back from the store, in the store's order.
    this.relay(app, channel, iface, name, args);
    return this.#members.get(`${app}\0${channel}`)?.size ?? 0;
  }

  /** Sends an event to this process's members only, but those `skip` says have it. */
  deliver(app: string, channel: string, iface: string, name: string, args: readonly unknown[], skip?: (session: ServerSession) => boolean): number {
    const members = this.#members.get(`${app}\0${channel}`);
    if (!members) return 0;
    const event = prepareEvent(iface, name, args);
    let count = 0;
    for (const session of [...members]) {
      if (session.ended || skip?.(session)) continue;
      session.emitPrepared(event);
      count++;
    }
    return count;
  }

  /** Removes a session from every channel (it ended). */
  drop(session: ServerSession): void {
    for (const channel of [...session.channels]) this.leave(session, channel);
  }
}
