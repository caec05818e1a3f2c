/**
 * `client.api.rooms.say(room, text)`: a proxy that turns property access
 * into `client.call('rooms', 'say', room, text)`, and `client.onEvent`'s
 * filter. Types come from ./contract.ts; at run time every name is sent as
 * it is, and the server answers unknown ones with its usual errors.
 */
import type { RemoteEvent } from './types.js';

type Call = (iface: string, method: string, args: unknown[]) => Promise<unknown>;
type RemoteFunction = (...args: unknown[]) => Promise<unknown>;

/**
 * `then` is never an interface or a method here: `await client.api` (or
 * returning it from an async function) would otherwise call the server.
 * Such a name remains reachable through `client.call`.
 */
const isName = (key: string | symbol): key is string => typeof key === 'string' && key !== 'then';

/** A read-only object whose properties `make` creates on first access and keeps, so they compare equal. */
const lazyRecord = <T>(make: (name: string) => T): Record<string, T> => {
  const made = new Map<string, T>();
  return new Proxy(Object.create(null) as Record<string, T>, {
    get: (_target, key) => {
      if (!isName(key)) return undefined;
      let value = made.get(key);
      if (value === undefined) {
        value = make(key);
        made.set(key, value);
      }
      return value;
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
};

/**
 * Every interface and method a client may call, as properties. `T` is
 * what the caller's contract says they are (./contract.ts `RemoteApi`).
 */
export const remoteApi = <T>(call: Call): T =>
  lazyRecord((iface) => lazyRecord((method): RemoteFunction => (...args) => call(iface, method, args))) as T;

interface EventSource {
  on(event: 'event', listener: (event: RemoteEvent) => void): unknown;
  off(event: 'event', listener: (event: RemoteEvent) => void): unknown;
}

/**
 * Passes the arguments of the events named `name` (`'rooms.message'`) to
 * `listener`, through an `event` listener (which, as any, releases the
 * events held until one is attached); returns what removes it.
 */
export const subscribe = <A extends unknown[]>(client: EventSource, name: string, listener: (...args: A) => void): (() => void) => {
  const filter = (event: RemoteEvent): void => {
    // The contract says what the arguments are; the server is trusted for it, as for results.
    if (`${event.iface}.${event.name}` === name) listener(...(event.args as A));
  };
  client.on('event', filter);
  return () => {
    client.off('event', filter);
  };
};
