/**
 * The fuzz part's inputs, generated with fast-check from a seed: chunk `c`
 * of the run is `fc.sample(input, { seed: seed + c, numRuns })`, so the
 * sequence of inputs replays from the printed seed (which connection
 * carries which input depends on timing, and does not).
 *
 * An input is sent on a fresh connection in place of the hello (`before`)
 * or on a session after a valid handshake (`after`), delivered as one
 * message, as bytes without a terminator, in pieces with pauses between
 * them, or as a binary frame. What it is:
 *
 * - malformed text, random JSON, valid messages with random edits, valid
 *   kinds with random headers and bodies (`test/helpers/arbitraries.ts`,
 *   as the malformed-fuzz test);
 * - valid but hostile messages: calls that replay ids already used, huge,
 *   negative and fractional ids and counters, acks and replies for things
 *   never sent, unknown and inherited names, a second hello, the goodbye;
 * - hellos: every strategy and odd headers, and restores (filled in when
 *   sent, see {@link RestoreSpec}) of unknown ids and of real sessions the
 *   fuzzer dropped, with wrong counters, proofs and nonces;
 * - messages larger than the server's limit, whole or never terminated.
 */
import fc from 'fast-check';
import { editedFrom, malformedText as malformed, randomJson, reshaped } from '../../test/helpers/arbitraries';

export type Delivery = 'whole' | 'raw' | 'split' | 'binary';

/** A restore hello, made when sent: `known` ids are real sessions the fuzzer dropped. */
export interface RestoreSpec {
  id: 'known' | 'unknown' | 'garbage';
  form: 'reference' | 'tjstp' | 'bound';
  sent: number;
  received: number;
  nonce: number;
  /** `valid`: signed with the session's real key (counters may still be wrong). */
  proof: 'valid' | 'random' | 'garbage';
}

export interface FuzzInput {
  stage: 'before' | 'after';
  /** The family it came from, for the report. */
  family: string;
  text: string;
  delivery: Delivery;
  /** Pieces for `split`: cut points as fractions of the bytes, and the pause before each, ms. */
  cuts: number[];
  pauseMs: number;
  restore?: RestoreSpec;
}

const valid: readonly string[] = [
  '{"call":[1,"calc"],"add":[1,2]}',
  "{call:[1,'calc'],echo:['x',[1,2,{a:null}]]}",
  '{"call":[1,"counter"],"increment":[]}',
  '{"call":[1,"ledger"],"record":["t",0]}',
  '{"call":[1,"calc"],"slowEcho":["x",5]}',
  '{"inspect":[1,"calc"]}',
  '{"event":[1,"calc"],"tick":[1]}',
  '{"ping":[1]}',
  '{"pong":[1]}',
  '{"ack":[-1]}',
  '{"callback":[-1,1],"ok":[1]}',
  '{"handshake":[0,"testApp"]}',
  '{}',
];

const edited = editedFrom(valid);

/** Ids and counters a peer should never send. */
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e21, 1e308, -1e308, 0.5, 1e-9),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const names = fc.constantFrom('calc', 'counter', 'ledger', 'fail', 'events', '$tjstp', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x', '');
const methods = fc.constantFrom('add', 'echo', 'slowEcho', 'increment', 'record', 'throws', 'rejects', 'remote', 'bigint', 'nothing', 'interfaces', 'describe', 'constructor', '__proto__', 'valueOf', 'x');
const smallArgs = fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 });

/** Valid shapes with values a well-behaved peer never sends. */
const hostile = fc.oneof(
  // Replayed ids: a session's first ids are used again and again.
  fc.tuple(fc.integer({ min: 1, max: 4 }), names, methods, smallArgs).map(([id, iface, method, args]) => JSON.stringify({ call: [id, iface], [method]: args })),
  fc.tuple(hostileNumber, names, methods, smallArgs).map(([id, iface, method, args]) => JSON.stringify({ call: [id, iface], [method]: args })),
  fc.tuple(hostileNumber).map(([n]) => JSON.stringify({ ack: [n] })),
  fc.tuple(hostileNumber, hostileNumber, fc.jsonValue({ maxDepth: 2 })).map(([id, seq, value]) => JSON.stringify({ callback: [id, seq], ok: [value] })),
  fc.tuple(hostileNumber, fc.jsonValue({ maxDepth: 1 })).map(([id, error]) => JSON.stringify({ callback: [id], error })),
  fc.tuple(hostileNumber, names, fc.string({ maxLength: 10 }), smallArgs).map(([id, iface, name, args]) => JSON.stringify({ event: [id, iface], [name]: args })),
  fc.tuple(hostileNumber, names).map(([id, iface]) => JSON.stringify({ inspect: [id, iface] })),
  fc.tuple(fc.constantFrom('ping', 'pong'), hostileNumber).map(([kind, n]) => JSON.stringify({ [kind]: [n] })),
  fc.constantFrom('{"close":[0]}', '{"close":[0],"error":[20,"bye"]}', '{"handshake":[0,"testApp"]}', '{"handshake":[0,"testApp"],"session":["x",0,0]}'),
);

const hello = fc
  .tuple(
    fc.oneof(fc.constant([0, 'testApp']), fc.constant([0, 'testApp', '^1.0.0']), fc.constant([0, 'nope']), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
    fc.constantFrom(undefined, 'login', 'anonymous', 'custom', 'tjstp', 'session'),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([handshake, strategy, credentials]) => JSON.stringify(strategy === undefined ? { handshake } : { handshake, [strategy]: credentials }));

const restore: fc.Arbitrary<RestoreSpec> = fc.record({
  id: fc.constantFrom('known', 'known', 'unknown', 'garbage'),
  form: fc.constantFrom('reference', 'tjstp', 'bound'),
  sent: fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(2 ** 31, Number.MAX_SAFE_INTEGER)),
  received: fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(2 ** 31, Number.MAX_SAFE_INTEGER)),
  nonce: fc.oneof(fc.nat({ max: 3 }), fc.constantFrom(2 ** 40, Number.MAX_SAFE_INTEGER)),
  proof: fc.constantFrom('valid', 'random', 'garbage'),
});

/** Built once: a megabyte of text costs time to make. */
const oversized = `{"call":[1,"calc"],"echo":["${'x'.repeat(1024 * 1024 + 16)}"]}`;

const delivery = fc.oneof(
  { weight: 90, arbitrary: fc.constant<Delivery>('whole') },
  { weight: 5, arbitrary: fc.constant<Delivery>('split') },
  { weight: 4, arbitrary: fc.constant<Delivery>('raw') },
  { weight: 1, arbitrary: fc.constant<Delivery>('binary') },
);
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }).map((list) => list.sort((a, b) => a - b));

const family = (name: string, text: fc.Arbitrary<string>): fc.Arbitrary<[string, string]> => text.map((value) => [name, value] as [string, string]);

// Oversized inputs are rare (about 1 in 10,000): each is a megabyte on the wire, and one is enough to try the path.
const afterText = fc.oneof(
  { weight: 1500, arbitrary: family('malformed', malformed) },
  { weight: 1000, arbitrary: family('random JSON', randomJson) },
  { weight: 2000, arbitrary: family('edited valid', edited) },
  { weight: 1000, arbitrary: family('reshaped', reshaped) },
  { weight: 2500, arbitrary: family('hostile', hostile) },
  { weight: 1, arbitrary: fc.constant<[string, string]>(['oversized', oversized]) },
);

const beforeText = fc.oneof(
  { weight: 10, arbitrary: family('malformed', malformed) },
  { weight: 5, arbitrary: family('random JSON', randomJson) },
  { weight: 10, arbitrary: family('edited valid', edited) },
  { weight: 15, arbitrary: family('hello', hello) },
);

export const fuzzInput: fc.Arbitrary<FuzzInput> = fc.oneof(
  {
    weight: 75,
    arbitrary: fc.record({ text: afterText, delivery, cuts, pauseMs: fc.integer({ min: 1, max: 40 }) })
      .map(({ text: [name, text], ...rest }) => ({ stage: 'after' as const, family: name, text, ...rest })),
  },
  {
    weight: 15,
    arbitrary: fc.record({ text: beforeText, delivery, cuts, pauseMs: fc.integer({ min: 1, max: 40 }) })
      .map(({ text: [name, text], ...rest }) => ({ stage: 'before' as const, family: name, text, ...rest })),
  },
  {
    weight: 10,
    arbitrary: fc.record({ restore, delivery, cuts, pauseMs: fc.integer({ min: 1, max: 40 }) })
      .map((input) => ({ stage: 'before' as const, family: `restore (${input.restore.id} id)`, text: '', ...input })),
  },
);

/** Inputs [from, from + count) of the run seeded `seed`, `chunk` per sample. */
export class InputStream {
  readonly #seed: number;
  readonly #chunk: number;
  #buffer: FuzzInput[] = [];
  #chunkIndex = -1;
  #next = 0;

  constructor(seed: number, chunk = 2000) {
    this.#seed = seed;
    this.#chunk = chunk;
  }

  /** The next input and its index in the run. */
  next(): { index: number; input: FuzzInput } {
    const index = this.#next++;
    const chunk = Math.floor(index / this.#chunk);
    if (chunk !== this.#chunkIndex) {
      this.#chunkIndex = chunk;
      this.#buffer = fc.sample(fuzzInput, { seed: this.#seed + chunk, numRuns: this.#chunk });
    }
    return { index, input: this.#buffer[index % this.#chunk]! };
  }
}
