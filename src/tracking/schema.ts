import { Type, type Static } from '@sinclair/typebox';

/** Native /api/v1 shapes for experiments and runs (camelCase, ISO-free: epoch milliseconds like MLflow). */
const KeyValues = Type.Record(Type.String(), Type.String());
const MetricValue = Type.Object({
  value: Type.Union([Type.Number(), Type.Literal('NaN')]),
  step: Type.Integer(),
  timestamp: Type.Integer({ description: 'epoch milliseconds' }),
});

export const Experiment = Type.Object({
  id: Type.String(),
  workspace: Type.String(),
  name: Type.String(),
  artifactLocation: Type.String(),
  lifecycle: Type.Union([Type.Literal('active'), Type.Literal('deleted')]),
  createdAt: Type.Integer({ description: 'epoch milliseconds' }),
  updatedAt: Type.Integer({ description: 'epoch milliseconds' }),
  tags: KeyValues,
});

export const Run = Type.Object({
  id: Type.String({ description: '32 hex characters' }),
  name: Type.String(),
  experimentId: Type.String(),
  status: Type.String(),
  lifecycle: Type.String(),
  user: Type.String(),
  startTime: Type.Union([Type.Integer(), Type.Null()]),
  endTime: Type.Union([Type.Integer(), Type.Null()]),
  artifactUri: Type.String(),
  params: KeyValues,
  metrics: Type.Record(Type.String(), MetricValue),
  tags: KeyValues,
  datasets: Type.Array(Type.Object({ name: Type.String(), digest: Type.String(), source: Type.String(), context: Type.Optional(Type.String()) })),
});

export const WsParam = Type.Object({ ws: Type.String() });
export const ExperimentParam = Type.Object({ ws: Type.String(), id: Type.String() });
export const RunParam = Type.Object({ ws: Type.String(), runId: Type.String() });

export const ExperimentQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ description: "MLflow filter, e.g. name LIKE 'fraud%'" })),
    view: Type.Optional(Type.Union([Type.Literal('ACTIVE_ONLY'), Type.Literal('DELETED_ONLY'), Type.Literal('ALL')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50_000, default: 100 })),
    pageToken: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ExperimentQuery = Static<typeof ExperimentQuery>;

export const RunQuery = Type.Object(
  {
    experiment: Type.Optional(Type.Array(Type.String(), { description: 'experiment ids or names; all active experiments when omitted' })),
    filter: Type.Optional(Type.String({ description: "MLflow filter, e.g. metrics.acc > 0.9 AND params.opt = 'adam'" })),
    orderBy: Type.Optional(Type.Array(Type.String(), { description: 'e.g. metrics.acc DESC' })),
    view: Type.Optional(Type.Union([Type.Literal('ACTIVE_ONLY'), Type.Literal('DELETED_ONLY'), Type.Literal('ALL')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50_000, default: 100 })),
    pageToken: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type RunQuery = Static<typeof RunQuery>;

export const CompareQuery = Type.Object(
  { run: Type.Array(Type.String(), { minItems: 1, maxItems: 100, description: 'run ids to compare' }) },
  { additionalProperties: false },
);
export type CompareQuery = Static<typeof CompareQuery>;

export const Comparison = Type.Object({
  runs: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), status: Type.String() })),
  params: Type.Array(Type.Object({ key: Type.String(), values: Type.Array(Type.Union([Type.String(), Type.Null()])) })),
  metrics: Type.Array(Type.Object({ key: Type.String(), values: Type.Array(Type.Union([Type.Number(), Type.Literal('NaN'), Type.Null()])) })),
});

export const ExperimentPage = Type.Object({ experiments: Type.Array(Experiment), nextPageToken: Type.Optional(Type.String()) });
export const RunPage = Type.Object({ runs: Type.Array(Run), nextPageToken: Type.Optional(Type.String()) });
