import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of monitors (/api/v1/workspaces/{ws}/monitors…, `kind: Monitor`) and of endpoint feedback. */
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const lit = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

export const SIGNALS = ['data_drift', 'prediction_drift', 'data_quality', 'model_performance', 'freshness'] as const;
export type Signal = (typeof SIGNALS)[number];

const NumericalMethod = lit(['ks', 'wasserstein', 'psi', 'jensen_shannon'] as const);
const CategoricalMethod = lit(['chi_squared', 'jensen_shannon', 'psi'] as const);
const AnyMethod = lit(['ks', 'wasserstein', 'psi', 'jensen_shannon', 'chi_squared'] as const);

export const FeatureOverride = Type.Object(
  {
    method: Type.Optional(AnyMethod),
    threshold: Type.Optional(Type.Number({ minimum: 0, description: 'p-value bound for ks/chi_squared (drift when p < it), statistic bound for distances (drift when >= it)' })),
    type: Type.Optional(lit(['numerical', 'categorical'] as const)),
  },
  { additionalProperties: false },
);

export const MonitorSpec = Type.Object(
  {
    name: Type.String({ description: 'DNS-label-like, unique in the workspace' }),
    endpoint: Type.String(),
    deployment: Type.Optional(Type.String({ description: 'only this deployment\u2019s traffic; default all of the endpoint' })),
    reference: Type.String({ description: "datasets:/NAME/VERSION, 'training' (the training data of the served version, from registry lineage), or production:FROM..TO (a past window, e.g. production:48h..24h ago)" }),
    signals: Type.Array(lit(SIGNALS), { minItems: 1, uniqueItems: true }),
    methods: Type.Optional(Type.Object({ numerical: Type.Optional(NumericalMethod), categorical: Type.Optional(CategoricalMethod) }, { additionalProperties: false })),
    features: Type.Optional(Type.Record(Type.String(), FeatureOverride, { description: 'per-feature method, threshold or type' })),
    driftShare: Type.Optional({ ...Fraction, description: 'dataset drift when at least this share of features drifted (default 0.5)' }),
    window: Type.Optional(Type.String({ description: 'production window read by a run, such as 1h or 30m (default 1h)' })),
    schedule: Type.Optional(Type.String({ description: 'five-field cron expression read in UTC: workers run the monitor at each tick (recorded as cause schedule); `monitor run` computes on demand' })),
    quality: Type.Optional(
      Type.Object(
        { nullRate: Type.Optional(Fraction), typeErrorRate: Type.Optional(Fraction), outOfRangeRate: Type.Optional(Fraction) },
        { additionalProperties: false, description: 'per-feature rate limits (defaults 0.05, 0.01, 0.05)' },
      ),
    ),
    performance: Type.Optional(
      Type.Object(
        {
          task: lit(['classification', 'regression'] as const),
          output: Type.Optional(Type.String({ description: 'output holding the score/probability (classification) or value (regression); default the first' })),
          decisionThreshold: Type.Optional({ ...Fraction, description: 'classification: score >= it predicts the positive class (default 0.5)' }),
          minimum: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'alert when a metric falls below, e.g. {accuracy: 0.8}' })),
          maximum: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'alert when a metric rises above, e.g. {rmse: 2}' })),
        },
        { additionalProperties: false },
      ),
    ),
    freshness: Type.Optional(Type.Object({ maxAge: Type.String({ description: 'such as 30d or 12h' }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type MonitorSpec = Static<typeof MonitorSpec>;

export const RunBody = Type.Object({ window: Type.Optional(Type.String({ description: 'override the monitor\u2019s window for this run' })) }, { additionalProperties: false });
export type RunBody = Static<typeof RunBody>;

export const WsParams = Type.Object({ ws: Type.String() });
export const MonitorParams = Type.Object({ ws: Type.String(), name: Type.String() });
export type MonitorParams = Static<typeof MonitorParams>;
export const RunParams = Type.Object({ ws: Type.String(), name: Type.String(), run: Type.Integer({ minimum: 1 }) });
export type RunParams = Static<typeof RunParams>;

const FeedbackItem = Type.Object(
  {
    requestId: Type.String({ minLength: 1, maxLength: 200, description: 'the x-request-id of the scored request' }),
    label: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'ground-truth class' })),
    value: Type.Optional(Type.Number({ description: 'ground-truth value (regression)' })),
  },
  { additionalProperties: false },
);
export const FeedbackBody = Type.Union([FeedbackItem, Type.Object({ feedback: Type.Array(FeedbackItem, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false })]);
export type FeedbackItem = Static<typeof FeedbackItem>;
export type FeedbackBody = Static<typeof FeedbackBody>;
