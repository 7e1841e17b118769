import Table from 'cli-table3';
import { Option, type Command } from 'commander';

export type OutputFormat = 'json' | 'table';

export const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table');

/** Prints rows as a table for people or as JSON for scripts. */
export function printRows(format: OutputFormat, rows: Array<Record<string, unknown>>, columns?: string[], raw?: unknown) {
  if (format === 'json') {
    process.stdout.write(JSON.stringify(raw ?? rows, null, 2) + '\n');
    return;
  }
  if (!rows.length) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]);
  const table = new Table({ head: cols, style: { head: [], border: [] } });
  for (const r of rows) table.push(cols.map((c) => cell(r[c])));
  process.stdout.write(table.toString() + '\n');
}

/** Prints one object as key/value lines (table) or JSON. */
export function printObject(format: OutputFormat, obj: Record<string, unknown>) {
  if (format === 'json') {
    process.stdout.write(JSON.stringify(obj, null, 2) + '\n');
    return;
  }
  const table = new Table({ style: { head: [], border: [] } });
  for (const [k, v] of Object.entries(obj)) table.push({ [k]: cell(v) });
  process.stdout.write(table.toString() + '\n');
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function fmt(cmd: Command): OutputFormat {
  return (cmd.optsWithGlobals().output ?? 'table') as OutputFormat;
}
