/**
 * Reads the Prometheus text format (what `/metrics` answers) into samples,
 * so tests compare numbers rather than grep lines.
 */
import http from 'node:http';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  contentType: string;
}

const unescape = (value: string): string => value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Parses one exposition; throws on a line that is not a comment, a blank or a sample. */
export const parseMetrics = (text: string): { samples: Sample[]; types: Map<string, string> } => {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1] as string, type[2] as string);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = unescape(value as string);
    const raw = match[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`not a number: ${line}`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return { samples, types };
};

/** GETs `url` and parses it. */
export const scrape = (url: string): Promise<Scrape> =>
  new Promise((resolve, reject) => {
    http.get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`${url}: ${response.statusCode} ${body}`));
          return;
        }
        try {
          resolve({ ...parseMetrics(body), contentType: String(response.headers['content-type']) });
        } catch (error) {
          reject(error);
        }
      });
    }).on('error', reject);
  });

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export const valueOf = (scraped: Scrape, name: string, labels: Record<string, string> = {}): number =>
  scraped.samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);

/** How much each matching sample moved between two scrapes. */
export const delta = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number =>
  valueOf(after, name, labels) - valueOf(before, name, labels);

/** The distinct label sets of `name`. */
export const series = (scraped: Scrape, name: string): Record<string, string>[] =>
  scraped.samples.filter((sample) => sample.name === name).map((sample) => sample.labels);
