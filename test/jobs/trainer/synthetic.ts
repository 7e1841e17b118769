import { seededRandom } from '../../../src/jobs/trainer/data.js';
import type { Table } from '../../../src/jobs/trainer/data.js';

/**
 * Small deterministic tabular data sets: 4 features in [-2, 2] with three
 * decimals (as a CSV would hold them), a label made from them plus noise.
 */
export const FEATURES = ['a', 'b', 'c', 'd'];

export type Kind = 'binary' | 'multiclass' | 'regression';

export function syntheticRows(kind: Kind, n = 300, seed = 7): Array<Record<string, number>> {
  const random = seededRandom(seed);
  const u = () => Math.round((random() * 4 - 2) * 1000) / 1000;
  return Array.from({ length: n }, () => {
    const [a, b, c, d] = [u(), u(), u(), u()];
    const noise = (random() - 0.5) * 0.8;
    let y: number;
    if (kind === 'binary') y = Number(a + 0.5 * b - c + noise > 0);
    else if (kind === 'multiclass') y = [a + noise, b - 0.5, -a - b + c].reduce((best, v, i, all) => (v > all[best] ? i : best), 0);
    else y = Math.round((3 * a - 2 * b + c * d + noise) * 1000) / 1000;
    return { a, b, c, d, y };
  });
}

/** The same rows as the trainer's table (features float32, classes 0..C-1). */
export function syntheticTable(kind: Kind, n?: number, seed?: number): Table {
  const rows = syntheticRows(kind, n, seed);
  const x = rows.map((r) => FEATURES.map((f) => Math.fround(r[f])));
  const y = rows.map((r) => r.y);
  if (kind === 'regression') return { x, y };
  return { x, y, classes: [...new Set(y)].sort((p, q) => p - q) };
}

export function toCsv(rows: Array<Record<string, number | string>>): string {
  const cols = Object.keys(rows[0]);
  return [cols.join(','), ...rows.map((r) => cols.map((c) => String(r[c])).join(','))].join('\n') + '\n';
}
