import { CliError } from '../cli/client.js';
import { followRun } from './train.js';
import { until, wsPath, type DemoContext, type PipelineRunView } from './context.js';

interface MonitorReport {
  id: number;
  alerting: boolean;
  current: { rows: number; requests: number };
  signals: { data_drift?: { features: Array<{ name: string; drifted: boolean }>; share: number; drifted: boolean; skipped?: string } };
}
interface AlertView {
  id: string | number;
  rule: string;
  state: string;
  runbook?: string;
}

const RUNBOOK = `The features the endpoint receives no longer look like the training data.
1. \`slipway monitor run <monitor>\` — which features drifted, reference → current histograms.
2. Check the client: units, a new instrument, a changed upstream job.
3. If the world really changed, let the retraining run finish, then roll its version out with a Rollout.`;

/** Whether this platform has alert rules (src/alerts/); the demo's last stages need them. */
async function alertsAvailable(ctx: DemoContext): Promise<boolean> {
  try {
    await ctx.api.get(`${wsPath(ctx)}/alert-rules`);
    return true;
  } catch (e) {
    if (e instanceof CliError && e.message.startsWith('404')) return false;
    throw e;
  }
}

/**
 * Stage 7: a drift monitor of the endpoint against the training dataset, an
 * alert rule on its data_drift signal with a runbook and a run_pipeline
 * action, then a monitor run on demand (rather than waiting for a schedule)
 * and the alert that fires from it.
 */
export async function driftAlert(ctx: DemoContext): Promise<string> {
  const { monitor, endpoint, rule, pipeline } = ctx.names;
  const base = wsPath(ctx);
  await ctx.api.put(`${base}/monitors/${monitor}`, { name: monitor, endpoint, reference: ctx.results.dataset!.uri, signals: ['data_drift'], window: '15m' });
  const withAlerts = await alertsAvailable(ctx);
  if (withAlerts) {
    await ctx.api.post(`${base}/alert-rules`, {
      name: rule,
      source: { monitor, signal: 'data_drift' },
      window: '15m',
      for: '0s',
      severity: 'warning',
      labels: { demo: ctx.names.suffix },
      runbook: RUNBOOK.replace('<monitor>', monitor),
      channels: [],
      actions: [{ type: 'run_pipeline', pipeline, params: { reason: 'drift', alias: 'challenger', seed: 7 } }],
    });
  }
  // Captures reach the store a moment after their answers: run until the window holds the shifted rows.
  const report = await until(
    'the monitor to see the shifted traffic',
    async () => {
      const r = await ctx.api.post<MonitorReport>(`${base}/monitors/${monitor}/runs`, {});
      ctx.say(`monitor run ${r.id}: ${r.current.rows} rows in the window, drift ${r.signals.data_drift?.drifted ? 'yes' : 'not yet'}`);
      return r.alerting ? r : undefined;
    },
    30_000,
    1000,
  );
  const drifted = (report.signals.data_drift?.features ?? []).filter((f) => f.drifted).map((f) => f.name);
  ctx.results.monitor = { name: monitor, runId: report.id, alerting: report.alerting, drifted };
  const found = `monitor run ${report.id} flags data drift in ${drifted.length} features (${drifted.join(', ')}) over ${report.current.rows} rows`;
  if (!withAlerts) {
    const skipped = 'this platform has no alert rules yet (src/alerts/ is not in this build): the alert and the retraining it starts are skipped';
    ctx.results.alert = { skipped };
    return `${found}; ${skipped}`;
  }
  const alert = await until(
    `an alert of rule ${rule}`,
    async () => {
      const list = await ctx.api.get<{ alerts: AlertView[] }>(`${base}/alerts?rule=${encodeURIComponent(rule)}`);
      const a = list.alerts.find((x) => x.rule === rule && x.state !== 'pending');
      ctx.say(`${found}; waiting for rule ${rule} to fire (rules are evaluated every SLIPWAY_ALERT_INTERVAL_MS, 15 s by default)`);
      return a;
    },
    90_000,
    500,
  );
  const full = await ctx.api.get<AlertView>(`${base}/alerts/${encodeURIComponent(String(alert.id))}`);
  ctx.results.alert = { id: String(full.id), state: full.state, runbook: full.runbook ?? '' };
  return `${found}; alert ${full.id} ${full.state} (rule ${rule}, runbook: "${RUNBOOK.split('\n')[0]}")`;
}

/** Stage 8: the alert's run_pipeline action started the training pipeline; follow that run and show its cause. */
export async function retrainRun(ctx: DemoContext): Promise<string> {
  const alert = ctx.results.alert;
  if (!alert || 'skipped' in alert) throw new SkipStage(alert?.skipped ?? 'no alert fired');
  const cause = `alert ${alert.id}`;
  const path = `${wsPath(ctx)}/pipelines/${ctx.names.pipeline}`;
  const started = await until(
    `the pipeline run started by ${cause}`,
    async () => {
      const p = await ctx.api.get<{ runs?: PipelineRunView[] }>(path);
      ctx.say(`waiting for a run of ${ctx.names.pipeline} caused by ${cause}`);
      return (p.runs ?? []).find((r) => r.startedBy === cause);
    },
    60_000,
    500,
  );
  const run = await followRun(ctx, started.id);
  ctx.results.retrain = run;
  const version = run.steps?.find((s) => s.name === 'train')?.outputs.version;
  return `run ${run.id} of ${ctx.names.pipeline} ${run.state}, cause: ${run.startedBy} → models:/${ctx.names.model}/${String(version)} @challenger (not promoted: a person rolls it out)`;
}

/** A stage that cannot run on this platform; the demo says why and goes on. */
export class SkipStage extends Error {}
