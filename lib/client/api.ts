/**
 * Interfaces a client exposes to its server (the server may call methods
 * on the client, as in the reference). Methods get their arguments and may
 * return a value or a promise.
 */
import { ErrorCode, RemoteError } from '../protocol/errors.js';

export type ClientMethod = (...args: never[]) => unknown;
export type ClientInterfaces = Readonly<Record<string, Readonly<Record<string, ClientMethod>>>>;

export class ClientApi {
  readonly #interfaces: ClientInterfaces;

  constructor(interfaces: ClientInterfaces) {
    this.#interfaces = interfaces;
  }

  methods(iface: string): readonly string[] | undefined {
    const methods = Object.hasOwn(this.#interfaces, iface) ? this.#interfaces[iface] : undefined;
    return methods ? Object.keys(methods) : undefined;
  }

  invoke(iface: string, method: string, args: unknown[]): unknown[] | Promise<unknown[]> {
    const methods = Object.hasOwn(this.#interfaces, iface) ? this.#interfaces[iface] : undefined;
    if (!methods) throw new RemoteError(ErrorCode.INTERFACE_NOT_FOUND);
    const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (typeof fn !== 'function') throw new RemoteError(ErrorCode.METHOD_NOT_FOUND);
    const result = (fn as (...args: unknown[]) => unknown)(...args);
    if (result instanceof Promise) return result.then((value: unknown) => (value === undefined ? [] : [value]));
    return result === undefined ? [] : [result];
  }
}
