/**
 * One of the fuzzer's parallel connections. It takes the next input, sends
 * it and records what came of it:
 *
 * - `before` inputs go on a fresh connection in place of the hello; the
 *   outcome is the server's handshake reply (`welcome`, `resumed`,
 *   `refused <code> <reason>`), or how the connection closed;
 * - `after` inputs go on a session opened with a valid hello (legacy or
 *   with the key marker); a ping follows each, and the outcome is
 *   `answered` (its pong came back: the connection survived) or how the
 *   connection closed (`close 20`, `ws 1002`, … as the server said).
 *
 * Neither within `answerMs` is `no answer`: the server left a connection
 * hanging, which the run reports with the input. A closed connection is
 * replaced by the next input's. Sessions it dropped are offered to later
 * restore inputs (`known` ids).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { restoreProofInput } from '../../lib/protocol/restore';
import type { FuzzInput, InputStream, RestoreSpec } from './fuzz-inputs';
import { tally } from './shared';
import { errorOf, openWire, parseHead, WIRE_KINDS, type Endpoint, type Wire, type WireKind } from './wire';

/** A session a slot dropped: restore inputs may name it. */
export interface DroppedSession {
  id: string;
  key: string | undefined;
}

/** An input whose outcome is worth reading, kept with what is needed to send it again. */
export interface NotedInput {
  index: number;
  kind: WireKind;
  stage: string;
  family: string;
  delivery: string;
  outcome: string;
  text: string;
}

/** What all slots share: the input stream, the tallies, the sessions dropped. */
export interface FuzzContext {
  endpoint: Endpoint;
  stream: InputStream;
  total: number;
  answerMs: number;
  stopped: boolean;
  sent: number;
  connections: number;
  /** `<stage> <outcome>` → count. */
  outcomes: Record<string, number>;
  /** Inputs per family, and how many of them left their connection open (answered, welcome, resumed). */
  families: Record<string, number>;
  survived: Record<string, number>;
  /** Hellos of the fuzzer's own sessions that failed (not inputs: the harness's own). */
  setupFailures: Record<string, number>;
  dropped: DroppedSession[];
  /** Inputs the server left unanswered and open (`no answer`), and refusals it did not close after. */
  problems: NotedInput[];
  /** The latest inputs sent, for a crash. */
  recent: NotedInput[];
}

const BOUND_HELLO = '{"handshake":[0,"testApp"],"anonymous":null,"tjstp":{"version":1}}';
const LEGACY_HELLO = '{"handshake":[0,"testApp"]}';
const isHandshake = (head: string): boolean => head.startsWith('{"handshake"');

const note = (list: NotedInput[], item: NotedInput, max: number): void => {
  list.push(item);
  if (list.length > max) list.shift();
};

/** How a connection ended, from what the server said last: `close 20`, `handshake 22`, `ws 1002`. */
const howClosed = (wire: Wire): string => {
  const parts: string[] = [];
  for (const head of wire.recent) {
    if (!head.startsWith('{"close"') && !(isHandshake(head) && head.includes('"error"'))) continue;
    const error = errorOf(head);
    parts.push(`${head.startsWith('{"close"') ? 'close' : 'handshake'} ${error === undefined ? '-' : String(error[0])}`);
  }
  if (wire.end.code !== undefined) parts.push(`ws ${wire.end.code}`);
  return parts.length === 0 ? 'closed (no reason)' : `closed (${parts.join(', ')})`;
};

export class FuzzSlot {
  readonly #context: FuzzContext;
  readonly #index: number;
  #wire: Wire | undefined;
  #session: DroppedSession | undefined;
  #opened = 0;
  #ping = 0;
  /** The dropped session the current restore input names, if any. */
  #restoring: DroppedSession | undefined;

  constructor(context: FuzzContext, index: number) {
    this.#context = context;
    this.#index = index;
  }

  async run(): Promise<void> {
    const context = this.#context;
    while (!context.stopped) {
      const { index, input } = context.stream.next();
      if (index >= context.total) break;
      // The fuzzer's own connection or hello can fail (it is the server's to refuse): the input waits for the next one.
      let tries = 0;
      while (!(await this.#feed(index, input)) && !context.stopped) {
        if (++tries === 5) {
          tally(context.setupFailures, 'input given up after 5 failed connections');
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    this.#drop();
  }

  #kind(): WireKind {
    return WIRE_KINDS[(this.#index + this.#opened++) % WIRE_KINDS.length]!;
  }

  /** Closes the current connection; its session joins those restore inputs may name. */
  #drop(): void {
    this.#wire?.destroy();
    this.#wire = undefined;
    if (this.#session !== undefined) {
      this.#context.dropped.push(this.#session);
      if (this.#context.dropped.length > 500) this.#context.dropped.shift();
    }
    this.#session = undefined;
  }

  async #open(kind: WireKind): Promise<Wire | undefined> {
    try {
      const wire = await openWire(kind, this.#context.endpoint, undefined, this.#context.answerMs);
      this.#context.connections++;
      return wire;
    } catch (error) {
      tally(this.#context.setupFailures, `connect: ${(error as Error).message.slice(0, 60)}`);
      return undefined;
    }
  }

  /** A session to send `after` inputs on: the current one, or a new one. */
  async #live(): Promise<Wire | undefined> {
    if (this.#wire !== undefined && !this.#wire.closed) return this.#wire;
    this.#drop();
    const wire = await this.#open(this.#kind());
    if (wire === undefined) return undefined;
    const bound = this.#opened % 2 === 0;
    wire.send(bound ? BOUND_HELLO : LEGACY_HELLO);
    const reply = await wire.waitFor(isHandshake, this.#context.answerMs);
    const welcome = reply === undefined ? undefined : parseHead(reply);
    if (typeof welcome?.ok !== 'string') {
      tally(this.#context.setupFailures, `hello: ${reply === undefined ? howClosed(wire) : reply.slice(0, 80)}`);
      wire.destroy();
      return undefined;
    }
    this.#wire = wire;
    this.#session = { id: welcome.ok, key: (welcome.tjstp as { key?: string } | undefined)?.key };
    return wire;
  }

  #restoreText(spec: RestoreSpec): string {
    const { dropped } = this.#context;
    const known = spec.id === 'known' && dropped.length > 0 ? dropped[(spec.sent + spec.received + spec.nonce) % dropped.length] : undefined;
    this.#restoring = known;
    const id = known?.id ?? (spec.id === 'garbage' ? ['', 'x'.repeat(300), '../../etc', '\u0000', '%%%'][spec.sent % 5]! : randomBytes(24).toString('base64url'));
    const proof = spec.proof === 'valid' && known?.key !== undefined
      ? createHmac('sha256', Buffer.from(known.key, 'hex')).update(restoreProofInput(id, spec.sent, spec.received, spec.nonce)).digest('hex')
      : spec.proof === 'garbage' ? 'not-hex' : randomBytes(32).toString('hex');
    const session = spec.form === 'reference' ? [id, spec.received] : spec.form === 'tjstp' ? [id, spec.sent, spec.received] : [id, spec.sent, spec.received, spec.nonce, proof];
    return JSON.stringify({ handshake: [0, 'testApp'], session });
  }

  async #deliver(wire: Wire, input: FuzzInput, text: string): Promise<void> {
    switch (input.delivery) {
      case 'whole':
        wire.send(text);
        return;
      case 'raw':
        wire.sendRaw(text);
        return;
      case 'binary':
        wire.sendRaw(Buffer.from(text, 'utf8'), true);
        return;
      case 'split':
        await wire.sendPieces(text, input.cuts, input.pauseMs);
    }
  }

  /** Sends one input and records its outcome; false when no connection could carry it. */
  async #feed(index: number, input: FuzzInput): Promise<boolean> {
    const context = this.#context;
    let wire: Wire | undefined;
    if (input.stage === 'before') {
      this.#drop();
      wire = await this.#open(this.#kind());
    } else {
      wire = await this.#live();
    }
    if (wire === undefined) return false;
    this.#restoring = undefined;
    const text = input.restore === undefined ? input.text : this.#restoreText(input.restore);
    const noted: NotedInput = { index, kind: wire.kind, stage: input.stage, family: input.family, delivery: input.delivery, outcome: '', text: text.slice(0, 400) };
    note(context.recent, noted, 100);
    context.sent++;
    tally(context.families, input.family);
    const outcome = input.stage === 'before' ? await this.#afterHello(wire, input, text) : await this.#afterMessage(wire, input, text);
    noted.outcome = outcome;
    tally(context.outcomes, `${input.stage}: ${outcome}`);
    if (outcome === 'answered' || outcome === 'welcome' || outcome === 'resumed') tally(context.survived, input.family);
    if (outcome === 'no answer' || outcome.endsWith('left open')) note(context.problems, noted, 50);
    return true;
  }

  /** A hello (or what stands in for one) on a fresh connection. */
  async #afterHello(wire: Wire, input: FuzzInput, text: string): Promise<string> {
    const replied = wire.waitFor(isHandshake, this.#context.answerMs);
    await this.#deliver(wire, input, text);
    const reply = await replied;
    if (reply === undefined) {
      if (!wire.closed) {
        wire.destroy();
        return 'no answer';
      }
      return howClosed(wire);
    }
    const message = parseHead(reply);
    if (message?.error === undefined) {
      // A session of its own now: later inputs may use it.
      this.#wire = wire;
      if (typeof message?.ok === 'string') {
        this.#session = { id: message.ok, key: (message.tjstp as { key?: string } | undefined)?.key };
        return 'welcome';
      }
      // Its own now: no later input may take it over from this connection.
      if (this.#restoring !== undefined) {
        const at = this.#context.dropped.indexOf(this.#restoring);
        if (at !== -1) this.#context.dropped.splice(at, 1);
        this.#session = this.#restoring;
      }
      return 'resumed';
    }
    const error = errorOf(reply) ?? [];
    const outcome = `refused ${String(error[0])}${typeof error[2] === 'string' ? ` ${error[2]}` : ''}`;
    if (!(await wire.waitClose(this.#context.answerMs))) {
      wire.destroy();
      return `${outcome}, left open`;
    }
    return outcome;
  }

  /** A message on a session, then a ping: answered if its pong comes back. */
  async #afterMessage(wire: Wire, input: FuzzInput, text: string): Promise<string> {
    await this.#deliver(wire, input, text);
    // Far from any id an input pings with, so its pong is not taken for ours.
    const ping = 7_000_000_000 + ++this.#ping;
    const pong = `{"pong":[${ping}]}`;
    const answered = wire.waitFor((head) => head === pong, this.#context.answerMs);
    wire.send(`{"ping":[${ping}]}`);
    if ((await answered) !== undefined) return 'answered';
    if (!wire.closed) {
      this.#drop();
      return 'no answer';
    }
    const outcome = howClosed(wire);
    this.#drop();
    return outcome;
  }
}
