/** The samples of scripts/drift-fixtures.py, regenerated bit for bit, and its committed SciPy values. */
import { readFileSync } from 'node:fs';

export interface SampleSpec {
  seed: number;
  n: number;
  shape: 'uniform' | 'bell';
  scale: number;
  shift: number;
  round?: number;
}

export const FIXTURE_PATH = new URL('../fixtures/drift.json', import.meta.url);
export const fixtures = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8'));

function lcg(seed: number, n: number): Float64Array {
  const out = new Float64Array(n);
  let s = BigInt(seed);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245n + 12345n) % 2147483648n;
    out[i] = Number(s) / 2147483648;
  }
  return out;
}

/** numpy.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function sample(spec: SampleSpec): Float64Array {
  const u = lcg(spec.seed, spec.n * (spec.shape === 'bell' ? 4 : 1));
  const x = new Float64Array(spec.n);
  for (let i = 0; i < spec.n; i++) {
    const v = spec.shape === 'bell' ? u[4 * i] + u[4 * i + 1] + (u[4 * i + 2] + u[4 * i + 3]) - 2.0 : u[i];
    x[i] = v * spec.scale + spec.shift;
    if (spec.round) x[i] = roundHalfEven(x[i] * spec.round) / spec.round;
  }
  return x;
}

/** |a − b| <= rel·|b| (both infinite or both NaN count as equal). */
export function close(a: number, b: number, rel = 1e-9): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  return Math.abs(a - b) <= rel * Math.abs(b);
}

/** Captured `dataframe_split` requests of one row each, one second ago, as a gateway writes them: row i's features and outputs. */
export function capturedRows(endpointId: number, columns: string[], rows: Array<Array<number | string>>, outputs: (i: number) => Record<string, number[][]>) {
  const at = Date.now() - 1000;
  return rows.map((row, i) => ({
    endpointId,
    deployment: 'blue',
    model: { name: 'm', version: 1 },
    requestId: `r${i}`,
    at,
    latencyMs: 1,
    status: 200,
    format: 'dataframe_split',
    features: { columns, rows: [row] },
    inputs: null,
    outputs: outputs(i),
  }));
}
