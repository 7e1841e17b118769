import Table from 'cli-table3';
import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface StepView {
  name: string;
  uses: string;
  state: string;
  jobId: number | null;
  outputs: Record<string, unknown>;
  error: string;
  startedAt: number | null;
  finishedAt: number | null;
}
interface RunView extends Record<string, unknown> {
  id: number;
  pipeline: string;
  state: string;
  startedBy: string;
  params: Record<string, unknown>;
  error: string;
  createdAt: number;
  finishedAt: number | null;
  steps?: StepView[];
}
interface PipelineView extends Record<string, unknown> {
  name: string;
  steps: Array<{ name: string; uses: string; needs: string[] }>;
  triggers: Array<Record<string, string>>;
  params: Record<string, unknown>;
  lastRun?: RunView;
  runs?: RunView[];
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const base = (ws: string) => `/api/v1/workspaces/${enc(ws)}/pipelines`;
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);
const POLL_MS = 500;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function duration(s: { startedAt: number | null; finishedAt: number | null }, now: number): string {
  if (s.startedAt === null) return '';
  return seconds((s.finishedAt ?? now) - s.startedAt);
}

/** What a step produced or why it failed, in one short line. */
function detail(s: StepView): string {
  if (s.error) return s.error.length > 160 ? `${s.error.slice(0, 157)}...` : s.error;
  const o = s.outputs;
  const show = ['model', 'dataset', 'accuracy', 'rmse', 'passed', 'alias', 'champion'].filter((k) => o[k] !== undefined && o[k] !== '');
  return show.map((k) => `${k}=${typeof o[k] === 'number' ? Math.round((o[k] as number) * 1e4) / 1e4 : String(o[k])}`).join(' ');
}

/** The steps of a run as a table: state, duration, job and what came out. */
export function stepTable(r: RunView, now = Date.now()): string {
  // No rule between rows: the table stays as tall as the pipeline when it is redrawn in place.
  const t = new Table({ head: ['step', 'uses', 'state', 'duration', 'job', 'detail'], style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const s of r.steps ?? []) t.push([s.name, s.uses, s.state, duration(s, now), s.jobId === null ? '' : String(s.jobId), detail(s)]);
  const total = r.finishedAt ?? now;
  return `run ${r.id} of ${r.pipeline}: ${r.state} after ${seconds(total - r.createdAt)} (${r.startedBy})${r.error ? `\n${r.error}` : ''}\n${t.toString()}\n`;
}

/**
 * Follows a run until it ends. On a terminal the table is redrawn in place;
 * otherwise one plain line per step change, so logs stay readable.
 */
async function watch(api: ApiClient, ws: string, name: string, id: number, out: NodeJS.WriteStream = process.stdout): Promise<RunView> {
  let drawn = 0;
  const seen = new Map<string, string>();
  for (;;) {
    const r = await api.get<RunView>(`${base(ws)}/${enc(name)}/runs/${id}`);
    if (out.isTTY) {
      const text = stepTable(r);
      out.write(`${drawn ? `\x1b[${drawn}A\x1b[J` : ''}${text}`);
      drawn = text.split('\n').length - 1;
    } else {
      for (const s of r.steps ?? []) {
        if (seen.get(s.name) === s.state) continue;
        seen.set(s.name, s.state);
        const extra = FINAL.has(s.state) || s.state === 'cached' ? ` ${duration(s, Date.now())} ${detail(s)}`.trimEnd() : '';
        out.write(`${new Date().toISOString()} ${s.name} ${s.state}${extra}\n`);
      }
      if (FINAL.has(r.state)) out.write(`run ${r.id} ${r.state}${r.error ? `: ${r.error}` : ''}\n`);
    }
    if (FINAL.has(r.state)) return r;
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}

function params(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliError(`--param: expected NAME=VALUE, got '${p}'`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** `slipway pipeline ls|show|run|cancel`. */
export function registerPipelineCommands(program: Command) {
  const pipeline = program.command('pipeline').description('pipelines: DAGs of steps run as jobs, cached, scheduled and triggered (define them with slipway apply)');

  pipeline
    .command('ls')
    .description('the pipelines of a workspace with their last run')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ pipelines: PipelineView[] }>(base(o.workspace));
      const rows = r.pipelines.map((p) => ({
        name: p.name,
        steps: p.steps.map((s) => s.name).join(' → '),
        triggers: p.triggers.map((t) => ('schedule' in t ? `${t.schedule} ${t.timezone}` : 'modelRegistered' in t ? `model ${t.modelRegistered}` : `dataset ${t.datasetVersion}`)).join(', '),
        'last run': p.lastRun ? `#${p.lastRun.id} ${p.lastRun.state} (${p.lastRun.startedBy})` : '',
      }));
      printRows(fmt(cmd), rows, ['name', 'steps', 'triggers', 'last run'], r);
    });

  pipeline
    .command('show <name>')
    .description('a pipeline and its recent runs; with --run, that run step by step')
    .option(...wsOption)
    .option('--run <id>', 'a run of the pipeline')
    .action(async (name: string, o: { workspace: string; run?: string }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      if (o.run !== undefined) {
        const r = await api.get<RunView>(`${base(o.workspace)}/${enc(name)}/runs/${enc(o.run)}`);
        if (fmt(cmd) === 'json') return printObject('json', r);
        return void process.stdout.write(stepTable(r));
      }
      const p = await api.get<PipelineView>(`${base(o.workspace)}/${enc(name)}`);
      if (fmt(cmd) === 'json') return printObject('json', p);
      printRows('table', p.steps.map((s) => ({ step: s.name, uses: s.uses, needs: s.needs.join(', ') })));
      printRows('table', (p.runs ?? []).map((r) => ({ run: r.id, state: r.state, 'started by': r.startedBy, started: new Date(r.createdAt).toISOString(), took: r.finishedAt ? seconds(r.finishedAt - r.createdAt) : '', error: r.error })));
    });

  pipeline
    .command('cancel <name> <run>')
    .description('cancel a running run: no further step starts, running steps have their jobs cancelled')
    .option(...wsOption)
    .option('--reason <text>', 'why (kept on the run)')
    .action(async (name: string, run: string, o: { workspace: string; reason?: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().post<RunView>(`${base(o.workspace)}/${enc(name)}/runs/${enc(run)}/cancel`, o.reason ? { reason: o.reason } : {});
      if (fmt(cmd) === 'json') return printObject('json', r);
      process.stdout.write(stepTable(r));
    });

  pipeline
    .command('run <name>')
    .description('start a run (prints its id); with --watch, follow its steps and exit 1 if it fails')
    .option(...wsOption)
    .option('-p, --param <name=value>', 'a parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--watch', 'show live per-step progress until the run ends')
    .action(async (name: string, o: { workspace: string; param: string[]; watch?: boolean }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      const r = await api.post<RunView>(`${base(o.workspace)}/${enc(name)}/runs`, { params: params(o.param) });
      if (!o.watch) {
        if (fmt(cmd) === 'json') return printObject('json', r);
        return void process.stdout.write(`${r.id}\n`);
      }
      const end = await watch(api, o.workspace, name, r.id);
      if (fmt(cmd) === 'json') printObject('json', end);
      if (end.state !== 'succeeded') process.exitCode = 1;
    });
}
