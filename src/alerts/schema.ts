import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of alert rules (`kind: AlertRule`, /alert-rules), alerts and silences. */
const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

export const METRICS = ['requests_per_minute', 'error_rate', 'client_error_rate', 'p95_ms', 'p99_ms', 'throttled', 'no_traffic'] as const;
export type Metric = (typeof METRICS)[number];
export const OPS = ['>', '>=', '<', '<='] as const;
export type Op = (typeof OPS)[number];
export const SEVERITIES = ['critical', 'warning', 'info'] as const;

const EndpointSource = Type.Object(
  {
    endpoint: Type.String(),
    deployment: Type.Optional(Type.String({ description: 'one deployment of the endpoint; default all of it' })),
    metric: lit(METRICS),
  },
  { additionalProperties: false },
);
const MonitorSource = Type.Object(
  { monitor: Type.String(), signal: Type.Optional(Type.String({ description: 'data_drift, prediction_drift, data_quality, model_performance or freshness; default any alerting signal' })) },
  { additionalProperties: false },
);
const JobsSource = Type.Object({ jobs: Type.Literal('failed'), pipeline: Type.Optional(Type.String({ description: 'only jobs of this pipeline\u2019s runs' })) }, { additionalProperties: false });

const Action = Type.Union([
  Type.Object({ type: Type.Literal('rollback'), endpoint: Type.Optional(Type.String({ description: 'default the endpoint of the source' })) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('run_pipeline'), pipeline: Type.String(), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('scale_to_zero'), endpoint: Type.Optional(Type.String()), deployment: Type.String() }, { additionalProperties: false }),
]);
export type AlertAction = Static<typeof Action>;

export const AlertRuleSpec = Type.Object(
  {
    name: Type.String({ description: 'DNS-label-like, unique in the workspace' }),
    source: Type.Union([EndpointSource, MonitorSource, JobsSource], { description: 'exactly one of {endpoint, metric}, {monitor}, {jobs: failed}' }),
    condition: Type.Optional(Type.Object({ op: lit(OPS), threshold: Type.Number() }, { additionalProperties: false, description: 'for endpoint metrics other than no_traffic' })),
    window: Type.String({ description: 'such as 5m or 30s: the span read at each evaluation' }),
    for: Type.Optional(Type.String({ description: 'the condition must hold this long before the alert fires (pending meanwhile); default 0s' })),
    severity: Type.Optional(lit(SEVERITIES)),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    runbook: Type.Optional(Type.String({ description: 'Markdown: what the operator does' })),
    channels: Type.Optional(Type.Array(Type.String(), { uniqueItems: true, description: 'AlertChannel names of the workspace' })),
    renotify: Type.Optional(Type.String({ description: 'send again while still firing and not acknowledged, e.g. 4h' })),
    actions: Type.Optional(Type.Array(Action, { description: 'run once per firing, each audited and shown on the alert' })),
  },
  { additionalProperties: false },
);
export type AlertRuleSpec = Static<typeof AlertRuleSpec>;

export const SilenceBody = Type.Object(
  {
    matchers: Type.Record(Type.String(), Type.String(), { description: '`rule` and/or label values an alert must all match' }),
    until: Type.Optional(Type.String({ description: 'ISO 8601 time the silence ends' })),
    duration: Type.Optional(Type.String({ description: 'or how long from now, e.g. 2h' })),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type SilenceBody = Static<typeof SilenceBody>;

export const AckBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export type AckBody = Static<typeof AckBody>;

export const AlertsQuery = Type.Object({
  state: Type.Optional(Type.Union([lit(['pending', 'firing', 'acknowledged', 'resolved'] as const), Type.Literal('open')])),
  rule: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type AlertsQuery = Static<typeof AlertsQuery>;

export const WsParams = Type.Object({ ws: Type.String() });
export const RuleParams = Type.Object({ ws: Type.String(), name: Type.String() });
export type RuleParams = Static<typeof RuleParams>;
export const AlertParams = Type.Object({ ws: Type.String(), id: Type.Integer({ minimum: 1 }) });
export type AlertParams = Static<typeof AlertParams>;
export const SilencesQuery = Type.Object({ all: Type.Optional(Type.Boolean()) });
export type SilencesQuery = Static<typeof SilencesQuery>;
