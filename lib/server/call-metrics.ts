/**
 * The call counter and duration histogram, counted without prom-client on
 * the hot path: prom-client hashes and validates the labels on every
 * `inc` and `observe` (about 2 µs a call for the two, more than the rest
 * of a call's server work), so calls are added up here in plain numbers,
 * one map lookup each, and handed to the registry as two metrics in
 * prom-client's own form (`get()`) when it is scraped.
 */
import type * as Prom from 'prom-client';

/** One label set's figures. */
interface Series {
  readonly labels: Readonly<Record<'app' | 'iface' | 'method' | 'code', string>>;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last is +Inf. */
  readonly buckets: number[];
}

type MetricValue = { labels: Record<string, string>; value: number; metricName?: string };

/** What a prom-client Registry reads of a metric (`registerMetric`, `metrics()`, `getMetricsAsJSON()`, `resetMetrics()`). */
interface RegistryMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
  reset(): void;
}

export class CallSeries {
  readonly #bounds: readonly number[];
  /** app → iface → method → code → its series: lookups of the strings as they come, none built per call. */
  readonly #tree = new Map<string, Map<string, Map<string, Map<string, Series>>>>();
  /** Every series, for a scrape. */
  readonly #series: Series[] = [];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  /** One call answered: its labels (bounded by the caller) and how long it took. */
  record(app: string, iface: string, method: string, code: string, seconds: number): void {
    let series = this.#tree.get(app)?.get(iface)?.get(method)?.get(code);
    if (series === undefined) series = this.#add(app, iface, method, code);
    series.count++;
    series.sum += seconds;
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
    (series.buckets[bucket] as number)++;
  }

  #add(app: string, iface: string, method: string, code: string): Series {
    const series: Series = { labels: { app, iface, method, code }, count: 0, sum: 0, buckets: new Array<number>(this.#bounds.length + 1).fill(0) };
    const child = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
      let value = map.get(key);
      if (value === undefined) map.set(key, (value = make()));
      return value;
    };
    const methods = child(child(this.#tree, app, () => new Map()), iface, () => new Map<string, Map<string, Series>>());
    child(methods, method, () => new Map<string, Series>()).set(code, series);
    this.#series.push(series);
    return series;
  }

  #clear(): void {
    this.#tree.clear();
    this.#series.length = 0;
  }

  /** Registers the counter `name` and the histogram `durationName` in `registry`. */
  register(registry: Prom.Registry, name: string, help: string, durationName: string, durationHelp: string): void {
    const counter: RegistryMetric = {
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name,
        help,
        type: 'counter',
        aggregator: 'sum',
        values: this.#series.map((series) => ({ labels: { ...series.labels }, value: series.count })),
      }),
      reset: () => this.#clear(),
    };
    const histogram: RegistryMetric = {
      name: durationName,
      help: durationHelp,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name: durationName, help: durationHelp, type: 'histogram', aggregator: 'sum', values: this.#histogramValues(durationName) }),
      reset: () => this.#clear(),
    };
    // The Registry's types name its own classes; it reads only what RegistryMetric has.
    registry.registerMetric(counter as unknown as Prom.Metric);
    registry.registerMetric(histogram as unknown as Prom.Metric);
  }

  #histogramValues(name: string): MetricValue[] {
    const values: MetricValue[] = [];
    const les = [...this.#bounds.map(String), '+Inf'];
    for (const series of this.#series) {
      let cumulative = 0;
      series.buckets.forEach((count, index) => {
        cumulative += count;
        values.push({ labels: { ...series.labels, le: les[index] as string }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${name}_count` });
    }
    return values;
  }
}
