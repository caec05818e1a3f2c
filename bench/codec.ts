/**
 * Micro-benchmark: the cost of the record-syntax parse path. Measures
 * `JSON.parse` against `parseRecord` on typical JSTP messages, and the
 * whole receive path, `decodeMessage` (parse and validate), on the same
 * message as JSON (the fast path) and in the reference's record syntax
 * (JSON.parse is skipped: the text does not start with `{"`).
 *
 * Run after building: `node dist/bench/codec.js [--trials N] [--ms MS] [--json]`.
 * The suite (`run.ts`) runs it in its own process with `--json`.
 * Figures are operations per second, median of the trials.
 */
import { decodeMessage } from '../lib/protocol/message';
import { parseRecord } from '../lib/protocol/record';

const BATCH = 1000;

const messages: Array<[name: string, text: string]> = [
  ['call (JSON)', '{"call":[1,"calc"],"add":[1,2]}'],
  ['call (record)', "{call:[1,'calc'],add:[1,2]}"],
  [
    'reply (record, nested)',
    String.raw`{callback:[3],ok:[{nested:[1,'two',null,true],s:'it\'s \"q\"',clients:1,listed:true}]}`,
  ],
];

/** decodeMessage on the same messages: JSON text against record text. */
const decodeRows: Array<[name: string, json: string, record: string]> = [
  ['call', '{"call":[1,"calc"],"add":[1,2]}', "{call:[1,'calc'],add:[1,2]}"],
  ['reply', '{"callback":[1,-2],"ok":[3]}', '{callback:[1,-2],ok:[3]}'],
  ['event', '{"event":[-5,"iface"],"tick":[5]}', "{event:[-5,'iface'],tick:[5]}"],
];

// Results are kept observable so the optimizer cannot drop the parse.
let sink: unknown;

/** Operations per second: median of `trials` runs of about `ms` each. */
const measure = (parse: (text: string) => unknown, text: string, trials: number, ms: number): number => {
  const rates: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    let ops = 0;
    const started = process.hrtime.bigint();
    let elapsed = 0;
    do {
      for (let i = 0; i < BATCH; i++) sink = parse(text);
      ops += BATCH;
      elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    } while (elapsed < ms);
    rates.push((ops * 1000) / elapsed);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(trials / 2)]!;
};

export interface CodecRow {
  /** What was parsed. */
  name: string;
  /** The fast path: JSON.parse, or decodeMessage of JSON text. */
  jsonPerSecond: number;
  /** The record path: parseRecord, or decodeMessage of record text. */
  recordPerSecond: number;
  /** How many times slower the record path is. */
  ratio: number;
}

export interface CodecResult {
  parse: CodecRow[];
  decode: CodecRow[];
}

const warm = (fn: () => unknown): void => {
  for (let i = 0; i < 200_000; i++) sink = fn();
};

export const runCodec = (trials: number, ms: number): CodecResult => {
  const parse = messages.map(([name, text]): CodecRow => {
    // JSON.parse cannot read record syntax; it gets the same value as JSON.
    const json = JSON.stringify(parseRecord(text));
    warm(() => [JSON.parse(json), parseRecord(text)]);
    const native = measure(JSON.parse, json, trials, ms);
    const record = measure(parseRecord, text, trials, ms);
    return { name, jsonPerSecond: native, recordPerSecond: record, ratio: native / record };
  });
  const decode = decodeRows.map(([name, json, record]): CodecRow => {
    warm(() => [decodeMessage(json), decodeMessage(record)]);
    const fast = measure(decodeMessage, json, trials, ms);
    const slow = measure(decodeMessage, record, trials, ms);
    return { name: `decodeMessage ${name}`, jsonPerSecond: fast, recordPerSecond: slow, ratio: fast / slow };
  });
  return { parse, decode };
};

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

if (require.main === module) {
  const argv = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const at = argv.indexOf(name);
    return at === -1 ? fallback : Number(argv[at + 1]);
  };
  const trials = option('--trials', 5);
  const ms = option('--ms', 500);
  const result = runCodec(trials, ms);
  if (argv.includes('--json')) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`node ${process.version}, median of ${trials} × ${ms} ms`);
    console.log('message                          JSON/s     record/s   ratio');
    for (const row of [...result.parse, ...result.decode]) {
      console.log(
        row.name.padEnd(26),
        format(row.jsonPerSecond).padStart(12),
        format(row.recordPerSecond).padStart(12),
        `${row.ratio.toFixed(2)}x`.padStart(7),
      );
    }
  }
  if (sink === Symbol.for('never')) console.log(sink);
}
