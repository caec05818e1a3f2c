/**
 * The context a session's methods and event handlers receive. One small
 * object per session whose behaviour lives on the prototype: a server holds
 * tens of thousands of idle sessions, and a literal with closures cost each
 * of them about a kilobyte. So its methods need their object: call
 * `context.emit(…)`; a destructured `emit(…)` gets a clear TypeError.
 */
import type { MethodContext } from './application.js';
import type { ServerSession, ServerSessionHooks } from './session.js';

export class ServerSessionContext implements MethodContext {
  readonly #session: ServerSession;
  readonly #hooks: ServerSessionHooks;

  constructor(session: ServerSession, hooks: ServerSessionHooks) {
    this.#session = session;
    this.#hooks = hooks;
  }

  get sessionLabel(): string {
    return this.#session.label;
  }

  get user(): string | null {
    return this.#session.user;
  }

  get state(): Record<string, unknown> {
    return this.#session.state;
  }

  /** Read on every access, so a reloaded application.json reaches live sessions. */
  get config(): Readonly<Record<string, unknown>> {
    return this.#session.app.config;
  }

  get channels(): readonly string[] {
    return [...this.#session.channels];
  }

  emit(iface: string, name: string, ...args: unknown[]): void {
    own(this, 'emit').#session.emit(iface, name, args);
  }

  broadcast(iface: string, name: string, ...args: unknown[]): void {
    const context = own(this, 'broadcast');
    context.#hooks.broadcast(context.#session, iface, name, args);
  }

  join(channel: string): void {
    const context = own(this, 'join');
    context.#hooks.join(context.#session, channel);
  }

  leave(channel: string): void {
    const context = own(this, 'leave');
    context.#hooks.leave(context.#session, channel);
  }

  publish(channel: string, iface: string, name: string, ...args: unknown[]): number {
    const context = own(this, 'publish');
    return context.#hooks.publish(context.#session, channel, iface, name, args);
  }

  login(user: string | null): void {
    if (user !== null && (typeof user !== 'string' || user.length === 0)) {
      throw new TypeError('context.login(user): user must be a non-empty string, or null to log out');
    }
    const context = own(this, 'login');
    context.#hooks.login?.(context.#session, user);
  }

  rotateSession(): boolean {
    return own(this, 'rotateSession').#session.rotate();
  }

  static isContext(value: unknown): value is ServerSessionContext {
    return typeof value === 'object' && value !== null && #session in value;
  }
}

const own = (self: unknown, method: string): ServerSessionContext => {
  if (ServerSessionContext.isContext(self)) return self;
  throw new TypeError(`context.${method} must be called on the context (context.${method}(…)), not detached from it`);
};
