import Table from 'cli-table3';
import type { Command } from 'commander';
import { ApiClient, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

type MetricCell = { value: number | 'NaN'; step: number; timestamp: number };
interface RunOut {
  id: string;
  name: string;
  experimentId: string;
  status: string;
  lifecycle: string;
  user: string;
  startTime: number | null;
  endTime: number | null;
  artifactUri: string;
  params: Record<string, string>;
  metrics: Record<string, MetricCell>;
  tags: Record<string, string>;
}
interface Comparison {
  runs: Array<{ id: string; name: string; status: string }>;
  params: Array<{ key: string; values: Array<string | null> }>;
  metrics: Array<{ key: string; values: Array<number | 'NaN' | null> }>;
}

const when = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `slipway run ls|show|compare`: tracked runs of a workspace, through the native API. */
export function registerTrackingCommands(program: Command) {
  const run = program.command('run').description('tracked runs (MLflow-compatible experiments and runs)');
  run
    .command('ls')
    .description('list runs, newest first')
    .option('--workspace <ws>', 'workspace', 'default')
    .option('--experiment <idOrName>', 'only this experiment (repeatable)', collect)
    .option('--filter <expr>', "MLflow filter, e.g. \"metrics.acc > 0.9 and params.opt = 'adam'\"")
    .option('--order-by <term>', "e.g. 'metrics.acc DESC' (repeatable)", collect)
    .option('--limit <n>', 'at most this many runs', '100')
    .action(async (o: { workspace: string; experiment?: string[]; filter?: string; orderBy?: string[]; limit: string }, cmd: Command) => {
      const qs = new URLSearchParams({ limit: o.limit });
      for (const e of o.experiment ?? []) qs.append('experiment', e);
      for (const x of o.orderBy ?? []) qs.append('orderBy', x);
      if (o.filter) qs.set('filter', o.filter);
      const r = await ApiClient.fromEnv().get<{ runs: RunOut[] }>(`/api/v1/workspaces/${enc(o.workspace)}/runs?${qs}`);
      const rows = r.runs.map((x) => ({
        id: x.id,
        name: x.name,
        experiment: x.experimentId,
        status: x.status,
        started: when(x.startTime),
        metrics: Object.entries(x.metrics).map(([k, m]) => `${k}=${m.value}`).join(' '),
      }));
      printRows(fmt(cmd), rows, ['id', 'name', 'experiment', 'status', 'started', 'metrics'], r);
    });
  run
    .command('show <runId>')
    .description('show a run: info, params, latest metrics and tags')
    .option('--workspace <ws>', 'workspace', 'default')
    .action(async (runId: string, o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<RunOut>(`/api/v1/workspaces/${enc(o.workspace)}/runs/${enc(runId)}`);
      if (fmt(cmd) === 'json') return printObject('json', r as unknown as Record<string, unknown>);
      printObject('table', { id: r.id, name: r.name, experiment: r.experimentId, status: r.status, lifecycle: r.lifecycle, user: r.user, started: when(r.startTime), ended: when(r.endTime), artifacts: r.artifactUri });
      const kv = (title: string, entries: Array<[string, string]>) => {
        if (!entries.length) return;
        const table = new Table({ head: [title, 'value'], style: { head: [], border: [] } });
        for (const e of entries) table.push(e);
        process.stdout.write(table.toString() + '\n');
      };
      kv('param', Object.entries(r.params));
      kv('metric', Object.entries(r.metrics).map(([k, m]) => [k, `${m.value} (step ${m.step})`]));
      kv('tag', Object.entries(r.tags));
    });
  run
    .command('compare <runIds...>')
    .description('params and latest metrics of several runs side by side')
    .option('--workspace <ws>', 'workspace', 'default')
    .action(async (runIds: string[], o: { workspace: string }, cmd: Command) => {
      const qs = new URLSearchParams();
      for (const id of runIds) qs.append('run', id);
      const c = await ApiClient.fromEnv().get<Comparison>(`/api/v1/workspaces/${enc(o.workspace)}/runs/compare?${qs}`);
      if (fmt(cmd) === 'json') return printObject('json', c as unknown as Record<string, unknown>);
      const head = ['', ...c.runs.map((r) => `${r.name}\n${r.id.slice(0, 8)}`)];
      const table = new Table({ head, style: { head: [], border: [] } });
      for (const p of c.params) table.push([`params.${p.key}`, ...p.values.map((v) => v ?? '')]);
      for (const m of c.metrics) table.push([`metrics.${m.key}`, ...m.values.map((v) => (v === null ? '' : String(v)))]);
      process.stdout.write(table.toString() + '\n');
    });
}
