import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface FeatureDrift {
  name: string;
  type: string;
  method: string;
  statistic: number | null;
  pValue?: number | null;
  threshold: number;
  drifted: boolean;
  histogram: { reference: number[]; current: number[] };
}
interface DriftSignal {
  features: FeatureDrift[];
  share: number;
  threshold: number;
  drifted: boolean;
  skipped?: string;
}
interface Report extends Record<string, unknown> {
  id: number;
  monitor: string;
  endpoint: string;
  window: { from: string; to: string };
  reference: { source: string; rows: number };
  current: { rows: number; requests: number; truncated?: boolean };
  alerting: boolean;
  signals: Record<string, unknown>;
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const base = (ws: string) => `/api/v1/workspaces/${enc(ws)}/monitors`;
const BARS = '▁▂▃▄▅▆▇█';
// JSON carries infinite statistics (and those of an empty sample) as null.
const num = (v: number | null | undefined, d = 4) => (v === null || v === undefined ? (v === null ? '-' : '') : Math.abs(v) > 0 && Math.abs(v) < 10 ** -d ? v.toExponential(2) : String(Math.round(v * 10 ** d) / 10 ** d));

/** A histogram as a row of block characters, scaled to its tallest bin. */
export function sparkline(counts: number[]): string {
  const max = Math.max(...counts, 0);
  return counts.map((c) => (max ? BARS[Math.min(BARS.length - 1, Math.floor((c / max) * (BARS.length - 1) + 0.5))] : ' ')).join('');
}

function printDrift(title: string, d: DriftSignal) {
  if (d.skipped) return void process.stdout.write(`${title}: skipped (${d.skipped})\n`);
  process.stdout.write(`${title}: ${d.features.filter((f) => f.drifted).length}/${d.features.length} features drifted (share ${num(d.share, 3)}, dataset drift ${d.drifted ? 'YES' : 'no'} at ${d.threshold})\n`);
  const rows = d.features.map((f) => ({
    '': f.drifted ? '✗' : '',
    feature: f.name,
    type: f.type,
    method: f.method,
    statistic: num(f.statistic),
    'p-value': num(f.pValue),
    threshold: f.threshold,
    'reference → current': `${sparkline(f.histogram.reference)} → ${sparkline(f.histogram.current)}`,
  }));
  printRows('table', rows);
}

function printReport(r: Report) {
  printObject('table', { monitor: r.monitor, endpoint: r.endpoint, window: `${r.window.from} .. ${r.window.to}`, reference: `${r.reference.source} (${r.reference.rows} rows)`, current: `${r.current.rows} rows from ${r.current.requests} requests${r.current.truncated ? ' (window truncated to its oldest requests)' : ''}`, alerting: r.alerting ? 'YES' : 'no' });
  for (const [name, s] of Object.entries(r.signals)) {
    if (name === 'data_drift' || name === 'prediction_drift') printDrift(name, s as DriftSignal);
    else if (name === 'data_quality') {
      const q = s as { features: Array<{ name: string; nullRate: number; typeErrorRate: number; outOfRangeRate: number; violations: string[] }> };
      process.stdout.write('data_quality:\n');
      printRows('table', q.features.map((f) => ({ '': f.violations.length ? '✗' : '', feature: f.name, nullRate: num(f.nullRate), typeErrorRate: num(f.typeErrorRate), outOfRangeRate: num(f.outOfRangeRate), violations: f.violations.join(' ') })));
    } else {
      process.stdout.write(`${name}:\n`);
      printObject('table', s as Record<string, unknown>);
    }
  }
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean);
}

/** `slipway monitor create|ls|show|run|delete`. */
export function registerMonitorCommands(program: Command) {
  const monitor = program.command('monitor').description('model and data monitors: drift, data quality, performance from feedback, freshness');
  monitor
    .command('create <name>')
    .description('create (or with --replace, replace) a monitor of an endpoint')
    .option(...wsOption)
    .requiredOption('--endpoint <endpoint>', 'the endpoint watched')
    .requiredOption('--reference <ref>', "datasets:/NAME/VERSION, 'training', or production:48h..24h")
    .option('--signals <list>', 'data_drift,prediction_drift,data_quality,model_performance,freshness', 'data_drift')
    .option('--deployment <name>', 'only this deployment')
    .option('--window <duration>', 'production window of a run', '1h')
    .option('--schedule <cron>', 'cron expression, kept for the scheduler')
    .option('--numerical <method>', 'ks | wasserstein | psi | jensen_shannon (default by reference size)')
    .option('--categorical <method>', 'chi_squared | jensen_shannon | psi (default by reference size)')
    .option('--drift-share <fraction>', 'dataset drift when this share of features drifted (default 0.5)')
    .option('--task <task>', 'model_performance: classification | regression')
    .option('--output-name <output>', 'model_performance: the score or value output')
    .option('--max-age <duration>', 'freshness: oldest acceptable training run, such as 30d')
    .option('--replace', 'replace a monitor of the same name')
    .action(async (name: string, o: Record<string, string | boolean | undefined> & { workspace: string }, cmd: Command) => {
      const str = (k: string) => o[k] as string | undefined;
      const share = str('driftShare') === undefined ? undefined : Number(str('driftShare'));
      if (share !== undefined && !Number.isFinite(share)) throw new CliError(`--drift-share: expected a number, got '${str('driftShare')}'`);
      const methods = str('numerical') || str('categorical') ? { numerical: str('numerical'), categorical: str('categorical') } : undefined;
      const body = {
        name,
        endpoint: str('endpoint'),
        reference: str('reference'),
        signals: list(str('signals')),
        deployment: str('deployment'),
        window: str('window'),
        schedule: str('schedule'),
        methods,
        driftShare: share,
        performance: str('task') ? { task: str('task'), output: str('outputName') } : undefined,
        freshness: str('maxAge') ? { maxAge: str('maxAge') } : undefined,
      };
      const api = ApiClient.fromEnv();
      const m = o.replace ? await api.put<Record<string, unknown>>(`${base(o.workspace)}/${enc(name)}`, body) : await api.post<Record<string, unknown>>(base(o.workspace), body);
      printObject(fmt(cmd), m);
    });
  monitor
    .command('ls')
    .description('the monitors of a workspace')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ monitors: Array<Record<string, unknown>> }>(base(o.workspace));
      const rows = r.monitors.map((m) => ({ name: m.name, endpoint: m.endpoint, reference: m.reference, signals: m.signals, window: m.window ?? '1h', schedule: m.schedule ?? '' }));
      printRows(fmt(cmd), rows, ['name', 'endpoint', 'reference', 'signals', 'window', 'schedule'], r);
    });
  monitor
    .command('show <name>')
    .description('a monitor and its last report')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }, cmd: Command) => {
      const m = await ApiClient.fromEnv().get<Record<string, unknown> & { lastRun: Report | null }>(`${base(o.workspace)}/${enc(name)}`);
      if (fmt(cmd) === 'json') return printObject('json', m);
      const { lastRun, ...spec } = m;
      printObject('table', spec);
      if (lastRun) printReport(lastRun);
      else process.stdout.write('no report yet: slipway monitor run ' + name + '\n');
    });
  monitor
    .command('run <name>')
    .description('compute every signal over the production window now; the report is stored and printed')
    .option(...wsOption)
    .option('--window <duration>', "override the monitor's window, such as 1h or 7d")
    .option('--json', 'print the report as JSON (same as -o json)')
    .action(async (name: string, o: { workspace: string; window?: string; json?: boolean }, cmd: Command) => {
      const r = await ApiClient.fromEnv().post<Report>(`${base(o.workspace)}/${enc(name)}/runs`, o.window ? { window: o.window } : {});
      if (o.json || fmt(cmd) === 'json') return printObject('json', r);
      printReport(r);
    });
  monitor
    .command('delete <name>')
    .description('delete a monitor and its reports')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().delete(`${base(o.workspace)}/${enc(name)}`);
      process.stdout.write(`deleted monitor ${name}\n`);
    });
}
