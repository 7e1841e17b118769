/**
 * A strict parser of the Prometheus text exposition format 0.0.4, as
 * Prometheus' own parser reads it: `# HELP` / `# TYPE` lines, metric and
 * label names, label values with `\\`, `\"` and `\n` escapes, float values
 * (`NaN`, `+Inf`, `-Inf`), optional integer timestamps. A malformed line, a
 * family declared twice or split up, a duplicate series, a negative counter
 * or a histogram whose buckets are not cumulative throws, naming the line.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
  /** The family it belongs to (`x` for `x_bucket`, `x_sum`, `x_count` of a histogram). */
  family: string;
  type: MetricType;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
}

export interface Exposition {
  families: Map<string, Family>;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

class ParseError extends Error {
  constructor(lineNo: number, line: string, why: string) {
    super(`Prometheus text, line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
  }
}

/** A float as Go's ParseFloat reads it in the format: NaN and ±Inf case-insensitively. */
function parseValue(s: string): number | null {
  if (/^[+-]?inf$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Reads `{a="x",b="y"}` from the start of `s`; answers the labels and the rest of the line. */
function parseLabels(s: string, fail: (why: string) => never): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const name = LABEL_NAME.exec(s.slice(i))?.[0];
    if (!name) fail('expected a label name');
    i += name.length;
    if (s[i] !== '=' || s[i + 1] !== '"') fail(`expected ="…" after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) fail(`label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e === '\\' || e === '"') value += e;
        else if (e === 'n') value += '\n';
        else fail(`label ${name}: bad escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      if (c === '\n') fail(`label ${name}: raw newline in value`);
      value += c;
      i++;
    }
    i++;
    if (name in labels) fail(`label ${name} given twice`);
    labels[name] = value;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') fail(`expected , or } after label ${name}`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const f = families.get(base);
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return base;
  }
  return name;
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const typed = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n');
  if (text !== '' && lines.at(-1) !== '') throw new ParseError(lines.length, lines.at(-1)!, 'the last line must end with a newline');
  lines.forEach((line, idx) => {
    const fail: (why: string) => never = (why) => {
      throw new ParseError(idx + 1, line, why);
    };
    if (line === '') return;
    /** Samples of a family are contiguous: a family seen, left, and seen again is an error. */
    const enter = (family: string) => {
      if (current === family) return;
      if (finished.has(family)) fail(`metric family ${family} continues after other families`);
      if (current !== null) finished.add(current);
      current = family;
    };
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) fail('bad metric name');
      enter(name);
      const f = families.get(name) ?? { name, type: 'untyped' as MetricType };
      if (kind === 'HELP') {
        if (f.help !== undefined) fail(`second HELP for ${name}`);
        f.help = unescapeHelp(rest);
      } else {
        if (!TYPES.has(rest as MetricType)) fail(`unknown type '${rest}'`);
        if (typed.has(name)) fail(`second TYPE for ${name}`);
        if (samples.some((s) => s.family === name)) fail(`TYPE for ${name} after its samples`);
        f.type = rest as MetricType;
        typed.add(name);
      }
      families.set(name, f);
      return;
    }
    if (line.startsWith('#')) return; // a plain comment
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) fail('expected a metric name');
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, fail));
    const parts = rest.split(/[ \t]+/);
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) fail('expected a value and an optional timestamp after the name and labels');
    const value = parseValue(parts[1]);
    if (value === null) fail(`bad value '${parts[1]}'`);
    let timestamp: number | undefined;
    if (parts[2] !== undefined) {
      if (!/^-?\d+$/.test(parts[2])) fail(`bad timestamp '${parts[2]}'`);
      timestamp = Number(parts[2]);
    }
    const family = familyOf(name, families);
    enter(family);
    const type = families.get(family)?.type ?? 'untyped';
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) fail('duplicate series');
    seen.add(id);
    if (type === 'counter' && !(value! >= 0)) fail('a counter must be a non-negative number');
    if (type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) fail('a histogram bucket needs an le label');
    samples.push({ name, labels, value: value!, timestamp, family, type });
  });
  checkHistograms(samples);
  return { families, samples };
}

/** Buckets cumulative (non-decreasing in le), +Inf present and equal to _count. */
function checkHistograms(samples: Sample[]): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  const keyOf = (s: Sample) => {
    const { le: _le, ...rest } = s.labels;
    return `${s.family}${JSON.stringify(Object.entries(rest).sort())}`;
  };
  for (const s of samples) {
    if (s.type !== 'histogram') continue;
    const h = series.get(keyOf(s)) ?? { buckets: [] };
    series.set(keyOf(s), h);
    if (s.name.endsWith('_bucket')) h.buckets.push([parseValue(s.labels.le) ?? NaN, s.value]);
    else if (s.name.endsWith('_count')) h.count = s.value;
  }
  for (const [key, h] of series) {
    const sorted = [...h.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`histogram ${key}: bucket le=${sorted[i][0]} is below le=${sorted[i - 1][0]}`);
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity) throw new Error(`histogram ${key}: no le="+Inf" bucket`);
    if (h.count !== undefined && h.count !== inf[1]) throw new Error(`histogram ${key}: _count ${h.count} differs from the +Inf bucket ${inf[1]}`);
  }
}

/** Every sample, parsed strictly (see parseExposition). */
export function parsePrometheus(text: string): Sample[] {
  return parseExposition(text).samples;
}

/** The value of the one series with exactly these labels; 0 when absent (a counter not yet incremented). */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels);
  const hit = samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
  return hit?.value ?? 0;
}
