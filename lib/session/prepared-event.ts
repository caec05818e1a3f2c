/**
 * Events serialized once for many recipients (broadcasts, channels): all
 * but the id, which is what differs between the copies, with what the
 * memory budget needs to know of the body measured once too.
 */
import { ErrorCode, TjstpError } from '../protocol/errors.js';
import { eventBodyText } from '../protocol/message.js';
import { isWide } from './memory.js';

export const notSerializable = (error: unknown): TjstpError =>
  new TjstpError(ErrorCode.NOT_SERIALIZABLE, `Value is not serializable: ${(error as Error).message}`, { cause: error });

/** An event serialized but for its id; see {@link prepareEvent}. */
export interface PreparedEvent {
  readonly body: string;
  /** The body holds characters outside Latin-1 (the whole message is then two bytes a character). */
  readonly wide: boolean;
}

/**
 * Serializes an event once, for `emitPrepared` on any number of peers.
 * @throws TjstpError NOT_SERIALIZABLE (BigInt, cycles).
 */
export const prepareEvent = (iface: string, name: string, args: readonly unknown[]): PreparedEvent => {
  try {
    const json = JSON.stringify(args);
    // Measured on the flat pieces: the body is a rope, which a scan would flatten.
    return { body: eventBodyText(iface, name, json), wide: isWide(json) || isWide(iface) || isWide(name) };
  } catch (error) {
    throw notSerializable(error);
  }
};
