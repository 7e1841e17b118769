import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface RunView extends Record<string, unknown> {
  id: number;
  endpoint: string;
  state: string;
  model: string;
  input: string;
  output: string | null;
  progress: { rows: { total: number | null; done: number; failed: number }; miniBatches: { total: number | null; done: number; failed: number; running: number } };
  failures: Array<{ row: number; error: string }>;
  error: string;
  usage: { cpuSeconds: number; wallMs: number; busyMs: number; peakRssBytes: number; cost: number };
  createdBy: string;
  createdAt: number;
}
interface EndpointView extends Record<string, unknown> {
  name: string;
  model: string;
  output?: string;
  lastRun?: RunView;
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const base = (ws: string) => `/api/v1/workspaces/${enc(ws)}/batch-endpoints`;
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 300;
const BAR = 30;

const rows = (r: RunView) => `${r.progress.rows.done}/${r.progress.rows.total ?? '?'}`;
const batches = (r: RunView) => `${r.progress.miniBatches.done}/${r.progress.miniBatches.total ?? '?'}${r.progress.miniBatches.failed ? ` (${r.progress.miniBatches.failed} failed)` : ''}`;

function positive(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: expected a whole number above 0, got '${v}'`);
    return n;
  };
}

/** One run's progress line: a redrawn bar on a terminal, a plain line per tenth otherwise. */
function progressLine(r: RunView): string {
  const total = r.progress.rows.total;
  const frac = total ? Math.min(1, (r.progress.rows.done + r.progress.rows.failed) / total) : 0;
  const filled = Math.round(frac * BAR);
  const failed = r.progress.rows.failed ? `, ${r.progress.rows.failed} failed` : '';
  return `run ${r.id} ${r.state.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${rows(r)} rows${failed}, mini-batches ${batches(r)}, ${r.progress.miniBatches.running} in flight`;
}

/** Follows a run until it ends, with live progress on stderr. */
async function follow(api: ApiClient, ws: string, name: string, id: number, out: NodeJS.WriteStream = process.stderr): Promise<RunView> {
  let tenth = -1;
  let state = '';
  for (;;) {
    const r = await api.get<RunView>(`${base(ws)}/${enc(name)}/runs/${id}`);
    if (out.isTTY) out.write(`\r\x1b[K${progressLine(r).slice(0, (out.columns || 120) - 1)}`);
    else {
      const t = r.progress.rows.total ? Math.floor((r.progress.rows.done / r.progress.rows.total) * 10) : -1;
      if (t > tenth || r.state !== state) out.write(`${progressLine(r)}\n`);
      tenth = Math.max(t, tenth);
      state = r.state;
    }
    if (FINAL.has(r.state)) {
      if (out.isTTY) out.write('\n');
      return r;
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

function summary(r: RunView): Record<string, unknown> {
  return {
    run: r.id,
    state: r.state,
    model: r.model,
    input: r.input,
    output: r.output ?? '',
    rows: `${rows(r)} done, ${r.progress.rows.failed} failed`,
    'mini-batches': `${batches(r)}, ${r.progress.miniBatches.running} in flight`,
    error: r.error,
    failures: r.failures.slice(0, 5).map((f) => `row ${f.row}: ${f.error}`),
    'cpu-s': r.usage.cpuSeconds,
    wall: `${(r.usage.wallMs / 1000).toFixed(1)}s`,
    'peak memory': `${(r.usage.peakRssBytes / 1_048_576).toFixed(0)} MB`,
    cost: r.usage.cost,
    'started by': r.createdBy,
  };
}

/** `slipway batch ls|run|status|cancel`. */
export function registerBatchCommands(program: Command) {
  const batch = program.command('batch').description('batch endpoints: score a dataset version with a model into a new dataset version (define them with slipway apply)');

  batch
    .command('ls')
    .description('the batch endpoints of a workspace with their latest run')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ endpoints: EndpointView[] }>(base(o.workspace));
      const list = r.endpoints.map((e) => ({ name: e.name, model: e.model, output: e.output ?? `${e.name}-scores`, 'last run': e.lastRun ? `#${e.lastRun.id} ${e.lastRun.state} ${rows(e.lastRun)} rows` : '' }));
      printRows(fmt(cmd), list, ['name', 'model', 'output', 'last run'], r);
    });

  batch
    .command('run <endpoint>')
    .description('score a dataset version (prints the run id); with --wait, show live progress and exit 1 unless it succeeds')
    .option(...wsOption)
    .requiredOption('-i, --input <uri>', "the rows to score: 'datasets:/NAME/VERSION'")
    .option('--output <dataset>', "dataset to write the scores to (default: the endpoint's)")
    .option('--mini-batch-rows <n>', 'rows per mini-batch', positive('--mini-batch-rows'))
    .option('--parallelism <n>', 'mini-batches scored at once across workers', positive('--parallelism'))
    .option('--wait', 'follow the run until it ends')
    .action(async (name: string, o: { workspace: string; input: string; output?: string; miniBatchRows?: number; parallelism?: number; wait?: boolean }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      const r = await api.post<RunView>(`${base(o.workspace)}/${enc(name)}/runs`, { input: o.input, output: o.output, miniBatchRows: o.miniBatchRows, parallelism: o.parallelism });
      if (!o.wait) {
        if (fmt(cmd) === 'json') return printObject('json', r);
        return void process.stdout.write(`${r.id}\n`);
      }
      const end = await follow(api, o.workspace, name, r.id);
      if (fmt(cmd) === 'json') printObject('json', end);
      else printObject('table', summary(end));
      if (end.state !== 'succeeded') process.exitCode = 1;
    });

  batch
    .command('status <endpoint> [run]')
    .description("an endpoint's runs as a table, or one run's progress, output and usage")
    .option(...wsOption)
    .action(async (name: string, run: string | undefined, o: { workspace: string }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      if (run !== undefined) {
        const r = await api.get<RunView>(`${base(o.workspace)}/${enc(name)}/runs/${enc(run)}`);
        return printObject(fmt(cmd), fmt(cmd) === 'json' ? r : summary(r));
      }
      const r = await api.get<{ runs: RunView[] }>(`${base(o.workspace)}/${enc(name)}/runs`);
      const list = r.runs.map((x) => ({ run: x.id, state: x.state, input: x.input, rows: rows(x), failed: x.progress.rows.failed, 'mini-batches': batches(x), output: x.output ?? '', started: new Date(x.createdAt).toISOString(), error: x.error }));
      printRows(fmt(cmd), list, ['run', 'state', 'input', 'rows', 'failed', 'mini-batches', 'output', 'started', 'error'], r);
    });

  batch
    .command('cancel <endpoint> <run>')
    .description('cancel a run: no further mini-batch is scored and no output is written')
    .option(...wsOption)
    .action(async (name: string, run: string, o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().post<RunView>(`${base(o.workspace)}/${enc(name)}/runs/${enc(run)}/cancel`, {});
      printObject(fmt(cmd), fmt(cmd) === 'json' ? r : summary(r));
    });
}
