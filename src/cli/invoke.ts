/**
 * `slipway endpoint invoke NAME`: one scoring request through the inference
 * gateway, as a client application would send it.
 */
import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import type { Command } from 'commander';
import { CsvParser } from '../datasets/csv.js';
import { ApiClient, CliError, enc, serverUrl } from './client.js';
import { fmt, printRows } from './output.js';

type Obj = Record<string, unknown>;

interface InvokeOptions {
  file?: string;
  format?: string;
  key?: string;
  deployment?: string;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A CSV cell as JSON: numbers as numbers, an empty cell as null, anything else as text. */
function cellValue(s: string): unknown {
  if (s === '') return null;
  return NUMBER.test(s.trim()) ? Number(s) : s;
}

/** CSV text (header row = column names) as an MLflow `dataframe_split` body. */
export function csvToDataframeSplit(csv: string): { dataframe_split: { columns: string[]; data: unknown[][] } } {
  const records: string[][] = [];
  const parser = new CsvParser((fields) => records.push(fields));
  parser.push(csv);
  parser.end();
  const [columns, ...rows] = records;
  if (!columns?.length) throw new CliError('the CSV has no header row: expected column names on the first line');
  rows.forEach((r, i) => {
    if (r.length !== columns.length) throw new CliError(`CSV row ${i + 2}: expected ${columns.length} fields (as in the header), found ${r.length}`);
  });
  return { dataframe_split: { columns, data: rows.map((r) => r.map(cellValue)) } };
}

async function readBody(o: InvokeOptions): Promise<string> {
  if (o.file && o.file !== '-') {
    try {
      return readFileSync(o.file, 'utf8');
    } catch (e) {
      throw new CliError(`-f: cannot read ${o.file}: ${(e as Error).message}`);
    }
  }
  if (process.stdin.isTTY) throw new CliError('no request body: give -f FILE (JSON or .csv) or pipe one on stdin');
  return text(process.stdin);
}

/** The request body to send: JSON as is (after checking it parses), CSV converted. */
export function requestJson(raw: string, o: InvokeOptions): string {
  const format = o.format ?? (o.file?.toLowerCase().endsWith('.csv') ? 'csv' : 'json');
  if (format === 'csv') return JSON.stringify(csvToDataframeSplit(raw));
  if (format !== 'json') throw new CliError(`--format: expected json or csv, got '${format}'`);
  try {
    JSON.parse(raw);
  } catch (e) {
    throw new CliError(`the request body is not JSON (${(e as Error).message}); for a CSV file use a .csv name or --format csv`);
  }
  return raw;
}

/** An endpoint key when given, else the CLI's own token (for `auth: token` endpoints). */
function client(o: InvokeOptions): ApiClient {
  const key = o.key ?? process.env.SLIPWAY_ENDPOINT_KEY;
  if (!key) return ApiClient.fromEnv();
  const url = serverUrl();
  if (!url) throw new CliError('no server URL: set SLIPWAY_URL or run `slipway login`');
  return new ApiClient({ url, token: key });
}

const flat = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);

/** Predictions as table rows, one per input row; null when their shape does not fit a table. */
export function predictionRows(body: Obj): Obj[] | null {
  const columns: Record<string, unknown[]> = {};
  const p = body.predictions;
  if (Array.isArray(p)) {
    columns.prediction = p;
  } else if (p && typeof p === 'object') {
    for (const [k, v] of Object.entries(p as Obj)) if (Array.isArray(v)) columns[k] = v;
  } else if (Array.isArray(body.outputs)) {
    // OIP: flat row-major data; the first dimension is the row.
    for (const o of body.outputs as Array<{ name: string; shape?: number[]; data: unknown[] }>) {
      const n = o.shape?.[0] ?? o.data.length;
      const per = n > 0 ? o.data.length / n : 0;
      columns[o.name] = Array.from({ length: n }, (_, i) => o.data.slice(i * per, (i + 1) * per));
    }
  }
  const names = Object.keys(columns);
  if (!names.length) return null;
  const n = Math.max(...names.map((k) => columns[k].length));
  return Array.from({ length: n }, (_, i) => ({ row: i, ...Object.fromEntries(names.map((k) => [k, flat(columns[k][i])])) }));
}

export function registerInvokeCommand(endpoint: Command) {
  endpoint
    .command('invoke <name>')
    .description('score a request body (JSON: MLflow or Open Inference Protocol; CSV: converted to dataframe_split) through the gateway')
    .option('-f, --file <file>', 'request body file (default: stdin); a .csv name means CSV')
    .option('--format <format>', 'json or csv (default: by the file name, else json)')
    .option('--key <key>', 'endpoint key (default: $SLIPWAY_ENDPOINT_KEY, else the CLI token)')
    .option('--deployment <name>', 'send to this deployment, bypassing the traffic split')
    .action(async (name: string, o: InvokeOptions, cmd: Command) => {
      const json = requestJson(await readBody(o), o);
      const headers: Record<string, string> = o.deployment ? { 'x-slipway-deployment': o.deployment } : {};
      const r = await client(o)
        .exchange<Obj>('POST', `/endpoints/${enc(name)}/score`, json, headers)
        .catch((e: Error) => {
          // The generic 401 hint (log in again) is wrong for a key endpoint called with the CLI token.
          if (!o.key && !process.env.SLIPWAY_ENDPOINT_KEY && e.message.startsWith('401')) {
            throw new CliError(`${e.message.replace(/ \(log in again.*\)$/, '')}; an auth: key endpoint needs its key: --key KEY or $SLIPWAY_ENDPOINT_KEY (\`slipway endpoint key ${name}\` prints it)`);
          }
          throw e;
        });
      const servedBy = r.headers.get('x-slipway-deployment') ?? '-';
      const rows = fmt(cmd) === 'table' ? predictionRows(r.body) : null;
      if (rows) printRows('table', rows);
      else process.stdout.write(JSON.stringify(r.body) + '\n');
      // Scripts read stdout as the response alone; the deployment goes to stderr for them.
      (fmt(cmd) === 'json' ? process.stderr : process.stdout).write(`served by deployment ${servedBy}\n`);
    });
}
