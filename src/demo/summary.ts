import type { DemoContext } from './context.js';

export interface SummaryRow {
  what: string;
  name: string;
  state: string;
  'look at it': string;
}

/** What now exists on the platform, each with the CLI command that shows it. */
export function summaryRows(ctx: DemoContext): SummaryRow[] {
  const { names: n, results: r } = ctx;
  const w = ctx.ws === 'default' ? '' : ` -w ${ctx.ws}`;
  const rows: SummaryRow[] = [];
  if (r.dataset) rows.push({ what: 'dataset', name: r.dataset.uri, state: `${r.dataset.rows} rows`, 'look at it': `slipway dataset show ${n.dataset}${w}` });
  for (const x of r.runs) {
    rows.push({ what: 'pipeline run', name: `${n.pipeline} #${x.run.id}`, state: `${x.run.state} (${x.run.startedBy})`, 'look at it': `slipway pipeline show ${n.pipeline} --run ${x.run.id}${w}` });
  }
  const versions = r.runs.filter((x) => x.version).map((x) => `v${x.version} acc ${x.accuracy?.toFixed(3)}`);
  if (r.retrain) versions.push(`v${String(r.retrain.steps?.find((s) => s.name === 'train')?.outputs.version)} @challenger (retrained)`);
  if (versions.length) rows.push({ what: 'model versions', name: `models:/${n.model}`, state: `${versions.join(', ')}; @champion → v${r.rollout?.state === 'succeeded' ? r.runs[1]?.version : r.runs[0]?.version}`, 'look at it': `slipway model show ${n.model}${w}` });
  if (r.endpoint) {
    const t = ctx.traffic?.count;
    const served = t ? Object.entries(t.byDeployment).map(([d, k]) => `${d} ${k}`).join(', ') : '';
    rows.push({ what: 'endpoint', name: n.endpoint, state: `traffic ${Object.entries(r.endpoint.traffic).map(([d, p]) => `${d} ${p}%`).join(', ')}; requests ${served}`, 'look at it': `slipway endpoint show ${n.endpoint}${w}` });
  }
  if (r.rollout) rows.push({ what: 'rollout', name: r.rollout.name, state: r.rollout.state, 'look at it': `slipway rollout status ${r.rollout.name} --events${w}` });
  if (r.monitor) rows.push({ what: 'monitor result', name: `${r.monitor.name} run ${r.monitor.runId}`, state: r.monitor.alerting ? `drift in ${r.monitor.drifted.join(', ')}` : 'no drift', 'look at it': `slipway monitor show ${r.monitor.name}${w}` });
  if (r.alert && 'id' in r.alert) rows.push({ what: 'alert', name: `${r.alert.id} (rule ${n.rule})`, state: `${r.alert.state}, runbook attached`, 'look at it': `slipway alert show ${r.alert.id}${w}` });
  else if (r.alert) rows.push({ what: 'alert', name: n.rule, state: 'skipped (no alert rules on this platform)', 'look at it': '' });
  if (r.retrain) rows.push({ what: 'retraining run', name: `${n.pipeline} #${r.retrain.id}`, state: `${r.retrain.state} (${r.retrain.startedBy})`, 'look at it': `slipway pipeline show ${n.pipeline} --run ${r.retrain.id}${w}` });
  return rows;
}
