/**
 * Micro-benchmark: JSON.parse against parseRecord on typical JSTP messages.
 * Run after building: `node dist/bench/codec.js`.
 */
import { parseRecord } from '../lib/protocol/record';

const TRIALS = 5;
const TRIAL_MS = 500;
const BATCH = 1000;

const messages: Array<[name: string, text: string]> = [
  ['call (JSON)', '{"call":[1,"calc"],"add":[1,2]}'],
  ['call (record)', "{call:[1,'calc'],add:[1,2]}"],
  [
    'reply (record, nested)',
    String.raw`{callback:[3],ok:[{nested:[1,'two',null,true],s:'it\'s \"q\"',clients:1,listed:true}]}`,
  ],
];

// Results are kept observable so the optimizer cannot drop the parse.
let sink: unknown;

/** Operations per second: median of TRIALS runs of about TRIAL_MS each. */
const measure = (parse: (text: string) => unknown, text: string): number => {
  const rates: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    let ops = 0;
    const started = process.hrtime.bigint();
    let elapsed = 0;
    do {
      for (let i = 0; i < BATCH; i++) sink = parse(text);
      ops += BATCH;
      elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    } while (elapsed < TRIAL_MS);
    rates.push((ops * 1000) / elapsed);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(TRIALS / 2)]!;
};

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`node ${process.version}, median of ${TRIALS} × ${TRIAL_MS} ms`);
console.log('message                   JSON.parse/s   parseRecord/s   ratio');
for (const [name, text] of messages) {
  // JSON.parse cannot read record syntax; it gets the same value as JSON.
  const json = JSON.stringify(parseRecord(text));
  for (let i = 0; i < 200_000; i++) sink = [JSON.parse(json), parseRecord(text)];
  const native = measure(JSON.parse, json);
  const record = measure(parseRecord, text);
  console.log(
    name.padEnd(24),
    format(native).padStart(14),
    format(record).padStart(15),
    `${(native / record).toFixed(2)}x`.padStart(7),
  );
}
if (sink === Symbol.for('never')) console.log(sink);
