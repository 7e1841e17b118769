/**
 * Prometheus alerting rules equivalent to the endpoint-metric rules, over the
 * series the gateways expose on /metrics (src/gateway/metrics.ts). Monitor
 * and job rules have no Prometheus series and are left out. Pure.
 */
import type { AlertRuleSpec } from './schema.js';
import { sourceOf } from './spec.js';

export interface PrometheusRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PrometheusRules {
  groups: Array<{ name: string; rules: PrometheusRule[] }>;
}

const REQUESTS = 'slipway_endpoint_requests_total';
const quote = (v: string) => JSON.stringify(v);

/** The PromQL of one endpoint-metric rule, or null for other sources. */
export function promql(spec: AlertRuleSpec): string | null {
  const s = sourceOf(spec);
  if (s.kind !== 'endpoint') return null;
  const w = spec.window;
  const sel = (extra = '', withDeployment = true) => `{endpoint=${quote(s.endpoint)}${withDeployment && s.deployment ? `,deployment=${quote(s.deployment)}` : ''}${extra}}`;
  const cond = spec.condition ? ` ${spec.condition.op} ${spec.condition.threshold}` : '';
  const share = (status: string) => `sum(rate(${REQUESTS}${sel(`,status=~"${status}"`)}[${w}])) / sum(rate(${REQUESTS}${sel()}[${w}]))${cond}`;
  // The end-to-end latency histogram is per endpoint; a deployment's latency is its model time.
  const latency = (q: number) =>
    s.deployment
      ? `histogram_quantile(${q}, sum by (le) (rate(slipway_model_inference_duration_seconds_bucket${sel()}[${w}]))) * 1000${cond}`
      : `histogram_quantile(${q}, sum by (le) (rate(slipway_endpoint_request_duration_seconds_bucket${sel()}[${w}]))) * 1000${cond}`;
  switch (s.metric) {
    case 'error_rate':
      return share('5..');
    case 'client_error_rate':
      return share('4..');
    case 'requests_per_minute':
      return `sum(rate(${REQUESTS}${sel()}[${w}])) * 60${cond}`;
    case 'p95_ms':
      return latency(0.95);
    case 'p99_ms':
      return latency(0.99);
    case 'throttled':
      return `sum(increase(slipway_endpoint_throttled_total${sel('', false)}[${w}]))${cond}`;
    case 'no_traffic':
      // No series at all is no traffic too.
      return `(sum(increase(${REQUESTS}${sel()}[${w}])) or vector(0)) == 0`;
  }
}

/** One rule group per workspace, `slipway-<workspace>`, in rule-name order. */
export function prometheusRules(workspace: string, specs: AlertRuleSpec[]): PrometheusRules {
  const rules: PrometheusRule[] = [];
  for (const spec of specs) {
    const expr = promql(spec);
    if (!expr) continue;
    rules.push({
      alert: spec.name,
      expr,
      for: spec.for ?? '0s',
      labels: { ...(spec.labels ?? {}), severity: spec.severity ?? 'warning', workspace },
      annotations: { summary: `Slipway alert rule ${spec.name} (${workspace})`, ...(spec.runbook ? { runbook: spec.runbook } : {}) },
    });
  }
  return { groups: [{ name: `slipway-${workspace}`, rules }] };
}
