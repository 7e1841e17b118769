/**
 * The output file of a batch run: the input's columns followed by the
 * prediction columns, one line per scored row, in input order. CSV inputs
 * give CSV; JSONL and Parquet inputs give JSONL (types kept, no writer of
 * Parquet needed).
 */
export type OutputFormat = 'csv' | 'jsonl';

export const outputFormatOf = (inputFormat: string): OutputFormat => (inputFormat === 'csv' ? 'csv' : 'jsonl');

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

const jsonSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

export function encodeLine(format: OutputFormat, columns: string[], cells: unknown[]): string {
  if (format === 'csv') return cells.map(csvCell).join(',') + '\n';
  const o: Record<string, unknown> = {};
  columns.forEach((c, i) => (o[c] = cells[i] ?? null));
  return JSON.stringify(o, jsonSafe) + '\n';
}

/** The first line of the file (CSV only). */
export const header = (format: OutputFormat, columns: string[]): string => (format === 'csv' ? columns.map(csvCell).join(',') + '\n' : '');

export const stageRows = (rows: unknown[][]): string => JSON.stringify(rows, jsonSafe);
