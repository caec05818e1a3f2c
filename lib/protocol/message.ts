/**
 * JSTP messages: validation of what arrives and encoding of what leaves.
 *
 * A message is an object whose first key is its kind, holding the header
 * array `[id, ...target]`, and whose second key (the verb) depends on the
 * kind. Incoming values are checked here once, so the engine works with a
 * typed union and never touches an unchecked field. Outgoing messages are
 * built as strings directly: the header key must come first, and building
 * the text avoids allocating an envelope object per message on the hot path.
 */
import { ProtocolError } from './errors.js';
import { parseRecord, RecordSyntaxError } from './record.js';

export interface HandshakeRequest {
  kind: 'hello';
  app: string;
  /** Version or semver range asked for (`header[2]`), if any. */
  version: string | undefined;
  /** `anonymous` when the second key is absent. */
  strategy: string;
  credentials: unknown;
  /**
   * tjstp's extension key: a tjstp client says so, and gets a session key
   * in the welcome. Absent from the reference and other legacy clients.
   */
  tjstp: Record<string, unknown> | undefined;
}

export interface HandshakeResponse {
  kind: 'welcome';
  ok: unknown;
  error: unknown[] | undefined;
  /** tjstp's extension key; absent when the peer is the reference. */
  tjstp: Record<string, unknown> | undefined;
}

export interface CallMessage {
  kind: 'call';
  id: number;
  iface: string;
  method: string;
  args: unknown[];
}

export interface CallbackMessage {
  kind: 'callback';
  /** The id of the call (or inspect) answered. */
  id: number;
  /** tjstp: the reply's own sequence number; absent from legacy peers. */
  seq: number | undefined;
  ok: unknown[] | undefined;
  error: unknown[] | undefined;
}

export interface EventMessage {
  kind: 'event';
  id: number;
  iface: string;
  name: string;
  args: unknown[];
}

export interface InspectMessage {
  kind: 'inspect';
  id: number;
  iface: string;
}

export interface ControlMessage {
  kind: 'ping' | 'pong' | 'ack';
  id: number;
}

export interface CloseMessage {
  kind: 'close';
  /** Why the sender is closing; absent for an orderly goodbye. */
  error: unknown[] | undefined;
}

export interface HeartbeatMessage {
  kind: 'heartbeat';
}

export type Message =
  | HandshakeRequest
  | HandshakeResponse
  | CallMessage
  | CallbackMessage
  | EventMessage
  | InspectMessage
  | ControlMessage
  | CloseMessage
  | HeartbeatMessage;

/** Messages that carry a sequence number and are buffered until acknowledged. */
export type SequencedMessage = CallMessage | EventMessage | InspectMessage;

const fail = (message: string): never => {
  throw new ProtocolError(message);
};

const isInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value);

/** A message count or sequence number as the handshakes carry them: a whole number ≥ 0. */
export const isCount = (value: unknown): value is number => isInteger(value) && value >= 0;

const isName = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;

/** The first two keys without allocating `Object.keys`. */
const firstKeys = (object: object): [string | undefined, string | undefined] => {
  let first: string | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    if (first === undefined) first = key;
    else return [first, key];
  }
  return [first, undefined];
};

const header = (value: unknown, kind: string): unknown[] => {
  if (!Array.isArray(value)) return fail(`"${kind}" header is not an array`);
  if (!isInteger(value[0])) return fail(`"${kind}" header has no integer id`);
  return value;
};

const target = (head: unknown[], kind: string): string =>
  isName(head[1]) ? head[1] : fail(`"${kind}" header has no interface name`);

const argsOf = (value: unknown, kind: string, verb: string): unknown[] =>
  Array.isArray(value)
    ? value
    : fail(`"${kind}" arguments of "${verb}" are not an array`);

const extensionOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const readHandshake = (
  object: Record<string, unknown>,
  head: unknown[],
  verb: string | undefined,
): HandshakeRequest | HandshakeResponse => {
  const { tjstp } = object;
  if (isName(head[1])) {
    const version = head[2];
    if (version !== undefined && version !== null && typeof version !== 'string') {
      return fail('"handshake" version is not a string');
    }
    // The extension right after the header, with no strategy key, is an anonymous tjstp hello.
    const strategy = verb === undefined || verb === 'tjstp' ? undefined : verb;
    return {
      kind: 'hello',
      app: head[1],
      version: version ?? undefined,
      strategy: strategy ?? 'anonymous',
      credentials: strategy === undefined ? undefined : object[strategy],
      tjstp: extensionOf(tjstp),
    };
  }
  const { ok, error } = object;
  if (ok === undefined && error === undefined) {
    return fail('"handshake" reply has neither "ok" nor "error"');
  }
  if (error !== undefined && !Array.isArray(error) && !isInteger(error)) {
    return fail('"handshake" error is not an array');
  }
  return {
    kind: 'welcome',
    ok,
    error: error === undefined ? undefined : ([] as unknown[]).concat(error),
    tjstp: extensionOf(tjstp),
  };
};

const readCallback = (
  object: Record<string, unknown>,
  head: unknown[],
): CallbackMessage => {
  const seq = head[1];
  if (seq !== undefined && !isInteger(seq)) {
    return fail('"callback" sequence number is not an integer');
  }
  const { ok, error } = object;
  if (ok !== undefined) {
    if (!Array.isArray(ok)) return fail('"callback" ok is not an array');
    return { kind: 'callback', id: head[0] as number, seq, ok, error: undefined };
  }
  if (Array.isArray(error)) {
    return { kind: 'callback', id: head[0] as number, seq, ok: undefined, error };
  }
  // The reference passes a bare number for some local errors; accept it.
  if (isInteger(error)) {
    return { kind: 'callback', id: head[0] as number, seq, ok: undefined, error: [error] };
  }
  return fail('"callback" has neither an "ok" nor an "error" array');
};

/**
 * Checks a parsed value and returns the typed message.
 * @throws ProtocolError when the value is not a well-formed JSTP message.
 */
export const toMessage = (value: unknown): Message => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('Message is not an object');
  }
  const object = value as Record<string, unknown>;
  const [kind, verb] = firstKeys(object);
  if (kind === undefined) return { kind: 'heartbeat' };
  const head = header(object[kind], kind);
  const id = head[0] as number;
  switch (kind) {
    case 'call':
    case 'event': {
      const iface = target(head, kind);
      if (verb === undefined) return fail(`"${kind}" has no ${kind === 'call' ? 'method' : 'event'} name`);
      const args = argsOf(object[verb], kind, verb);
      return kind === 'call'
        ? { kind, id, iface, method: verb, args }
        : { kind, id, iface, name: verb, args };
    }
    case 'callback':
      return readCallback(object, head);
    case 'inspect':
      return { kind, id, iface: target(head, kind) };
    case 'ping':
    case 'pong':
    case 'ack':
      return { kind, id };
    case 'handshake':
      return readHandshake(object, head, verb);
    case 'close': {
      const error = object.error;
      if (error !== undefined && !Array.isArray(error)) return fail('"close" error is not an array');
      return { kind, error };
    }
    default:
      return fail(`Unknown message kind "${kind.slice(0, 40)}"`);
  }
};

/**
 * Parses one message's text. JSON is the fast path; text in the reference's
 * record syntax (single quotes, bare keys, holes) takes the tolerant parser.
 * @throws ProtocolError on malformed text or an invalid message.
 */
export const decodeMessage = (text: string): Message => {
  // `{"` starts every JSON message we and most peers send; anything else is
  // record syntax or garbage, which JSON.parse would only reject slowly.
  if (text.charCodeAt(1) === 34) {
    try {
      return toMessage(JSON.parse(text));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  try {
    return toMessage(parseRecord(text));
  } catch (error) {
    if (error instanceof RecordSyntaxError) {
      throw new ProtocolError(`Malformed message: ${error.message}`);
    }
    throw error;
  }
};

// Encoders. `JSON.stringify` of names is required: they may hold quotes.

const str = JSON.stringify;

export const encodeCall = (id: number, iface: string, method: string, args: readonly unknown[]): string =>
  callText(id, iface, method, str(args));

/**
 * A call whose arguments are serialized already. The engine serializes
 * them first: it measures what the message will cost from that flat JSON
 * (the message itself is a rope, which a scan would flatten).
 */
export const callText = (id: number, iface: string, method: string, argsJson: string): string =>
  `{"call":[${id},${str(iface)}],${str(method)}:${argsJson}}`;

/**
 * An event without its id: everything after `{"event":[<id>`. The id is all
 * that differs between the copies of one event sent to many sessions, so a
 * broadcast serializes the rest once.
 */
export const encodeEventBody = (iface: string, name: string, args: readonly unknown[]): string =>
  eventBodyText(iface, name, str(args));

/** An event body whose arguments are serialized already (see {@link callText}). */
export const eventBodyText = (iface: string, name: string, argsJson: string): string =>
  `,${str(iface)}],${str(name)}:${argsJson}}`;

export const withEventId = (id: number, body: string): string => `{"event":[${id}${body}`;

export const encodeEvent = (id: number, iface: string, name: string, args: readonly unknown[]): string =>
  withEventId(id, encodeEventBody(iface, name, args));

export const encodeInspect = (id: number, iface: string): string =>
  `{"inspect":[${id},${str(iface)}]}`;

const callbackHeader = (id: number, seq: number | undefined): string =>
  seq === undefined ? `{"callback":[${id}]` : `{"callback":[${id},${seq}]`;

export const encodeCallbackOk = (id: number, seq: number | undefined, results: readonly unknown[]): string =>
  callbackOkText(id, seq, str(results));

/** A reply whose results are serialized already (see {@link callText}). */
export const callbackOkText = (id: number, seq: number | undefined, resultsJson: string): string =>
  `${callbackHeader(id, seq)},"ok":${resultsJson}}`;

export const encodeCallbackError = (id: number, seq: number | undefined, error: readonly unknown[]): string =>
  `${callbackHeader(id, seq)},"error":${str(error)}}`;

export const encodeControl = (kind: 'ping' | 'pong' | 'ack', id: number): string =>
  `{"${kind}":[${id}]}`;

/** The sender's last message: why it closes, or nothing for a goodbye. */
export const encodeClose = (error?: readonly unknown[]): string =>
  error === undefined ? '{"close":[0]}' : `{"close":[0],"error":${str(error)}}`;

export interface HelloOptions {
  app: string;
  version?: string | undefined;
  strategy?: string | undefined;
  credentials?: unknown;
  /**
   * tjstp's extension key, after the strategy. With it an anonymous hello
   * names its strategy (`"anonymous":null`): the reference reads the second
   * key as the strategy, and must not read this one.
   */
  tjstp?: Record<string, unknown> | undefined;
}

export const encodeHello = ({ app, version, strategy, credentials, tjstp }: HelloOptions): string => {
  const head = version === undefined ? [0, app] : [0, app, version];
  const anonymous = strategy === undefined || strategy === 'anonymous';
  let verb = '';
  if (!anonymous) verb = `,${str(strategy)}:${str(credentials ?? null)}`;
  else if (tjstp !== undefined) verb = ',"anonymous":null';
  const extension = tjstp === undefined ? '' : `,"tjstp":${str(tjstp)}`;
  return `{"handshake":${str(head)}${verb}${extension}}`;
};

export const encodeWelcome = (ok: unknown, extension?: Record<string, unknown>): string =>
  extension === undefined
    ? `{"handshake":[0],"ok":${str(ok)}}`
    : `{"handshake":[0],"ok":${str(ok)},"tjstp":${str(extension)}}`;

export const encodeHandshakeError = (error: readonly unknown[]): string =>
  `{"handshake":[0],"error":${str(error)}}`;
