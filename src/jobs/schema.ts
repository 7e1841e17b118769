import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of the native job API (/api/v1/workspaces/{ws}/jobs...) and of `kind: Job` documents. */
const EnvName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 });

export const SecretRef = Type.Object(
  { secret: Type.String({ minLength: 1, maxLength: 253 }), key: Type.String({ minLength: 1, maxLength: 253 }) },
  { additionalProperties: false },
);

export const OutputSpec = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 1024, description: 'a file (or for models a directory) the job writes, relative to its working directory' }),
    model: Type.Optional(Type.String({ description: 'register the file (.onnx) or directory (MLflow model) as a new version of this model' })),
    dataset: Type.Optional(Type.String({ description: 'upload the file (CSV, JSONL, Parquet) as a new version of this dataset' })),
  },
  { additionalProperties: false },
);
export type OutputSpec = Static<typeof OutputSpec>;

export const JobCreate = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 128, description: 'a label (default: the program name); not unique' })),
    kind: Type.Optional(Type.Literal('command')),
    command: Type.Array(Type.String({ maxLength: 65_536 }), { minItems: 1, maxItems: 1000, description: 'the program and its arguments; no shell unless you run one (["sh", "-c", "..."])' }),
    env: Type.Optional(Type.Record(EnvName, Type.String({ maxLength: 65_536 }), { description: 'extra environment variables' })),
    secretEnv: Type.Optional(Type.Record(EnvName, SecretRef, { description: 'environment variables from secrets, by reference (rendered as secretKeyRef for Kubernetes)' })),
    image: Type.Optional(Type.String({ maxLength: 512, description: 'container image when rendered for Kubernetes' })),
    resources: Type.Optional(Type.String({ description: 'resource class (small, medium, large or one from SLIPWAY_PRICES); default small' })),
    timeout: Type.Optional(Type.String({ description: 'kill the job after this long, such as 90s, 10m, 2h' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, description: 'attempts after a failure, with exponential backoff' })),
    priority: Type.Optional(Type.Integer({ minimum: -100, maximum: 100, description: 'higher first; default 0' })),
    experiment: Type.Optional(Type.String({ maxLength: 500, description: "experiment of the job's tracking run (default 'jobs')" })),
    inputs: Type.Optional(Type.Record(EnvName, Type.String(), { description: "name → 'datasets:/NAME/VERSION|latest' or 'models:/NAME/VERSION|@ALIAS', materialised as files; their paths in SLIPWAY_INPUT_<NAME>" })),
    outputs: Type.Optional(Type.Record(EnvName, OutputSpec, { description: 'files the job writes that are registered when it succeeds' })),
  },
  { additionalProperties: false },
);
export type JobCreate = Static<typeof JobCreate>;

/** A `kind: Job` document (`slipway job render -f`): the same fields plus kind and workspace. */
export const JobDocument = Type.Composite([Type.Omit(JobCreate, ['kind']), Type.Object({ kind: Type.Literal('Job'), workspace: Type.Optional(Type.String()) })], { additionalProperties: false });
export type JobDocument = Static<typeof JobDocument>;

export const JobState = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]);
export type JobState = Static<typeof JobState>;

export const WsParams = Type.Object({ ws: Type.String() });
export const JobParams = Type.Object({ ws: Type.String(), id: Type.Integer({ minimum: 1 }) });
export type JobParams = Static<typeof JobParams>;
export const ListQuery = Type.Object({
  state: Type.Optional(JobState),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type ListQuery = Static<typeof ListQuery>;
export const LogsQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'the `next` of the previous page: lines after it' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000 })),
});
export type LogsQuery = Static<typeof LogsQuery>;
export const RenderQuery = Type.Object({ target: Type.Literal('kubernetes') });
export const ReasonBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
