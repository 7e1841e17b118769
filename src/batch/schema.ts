import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of batch endpoints (/api/v1/workspaces/{ws}/batch-endpoints…) and `kind: BatchEndpoint` documents. */
const Name = Type.String({ minLength: 1, maxLength: 63, description: 'lowercase letters, digits and dashes' });

export const ErrorThreshold = Type.Object(
  {
    rows: Type.Optional(Type.Integer({ minimum: 0, description: 'the run fails once more rows than this have failed' })),
    fraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'the run fails once more than this share of its rows have failed' })),
  },
  { additionalProperties: false },
);
export type ErrorThreshold = Static<typeof ErrorThreshold>;

/** Run settings an endpoint gives as defaults and a run may override. */
const RunSettings = {
  miniBatchRows: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'rows per mini-batch, the unit workers claim (default 1000)' })),
  parallelism: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'mini-batches of one run scored at once across all workers (default 4)' })),
  errorThreshold: Type.Optional(ErrorThreshold),
  output: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "dataset the scores are written to as a new version (default '<endpoint>-scores')" })),
  resources: Type.Optional(Type.String({ description: 'resource class priced for the run (small, medium, large or one from SLIPWAY_PRICES)' })),
  features: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 10_000, description: "input columns passed to the model, in its order (default: every column)" })),
};

export const BatchEndpointSpec = Type.Object(
  { name: Name, model: Type.String({ description: "'models:/NAME/VERSION' or 'models:/NAME@ALIAS', resolved when each run starts" }), ...RunSettings },
  { additionalProperties: false },
);
export type BatchEndpointSpec = Static<typeof BatchEndpointSpec>;

export const BatchEndpointPut = Type.Omit(BatchEndpointSpec, ['name'], { additionalProperties: false });
export type BatchEndpointPut = Static<typeof BatchEndpointPut>;

export const RunCreate = Type.Object(
  { input: Type.String({ description: "'datasets:/NAME/VERSION' (or latest): the rows to score" }), ...RunSettings },
  { additionalProperties: false },
);
export type RunCreate = Static<typeof RunCreate>;

export const RunState = Type.Union(['queued', 'running', 'finalizing', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)));

export const WsParams = Type.Object({ ws: Type.String() });
export const EndpointParams = Type.Object({ ws: Type.String(), name: Type.String() });
export type EndpointParams = Static<typeof EndpointParams>;
export const RunParams = Type.Object({ ws: Type.String(), name: Type.String(), id: Type.Integer({ minimum: 1 }) });
export type RunParams = Static<typeof RunParams>;
export const RunsQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) });
export type RunsQuery = Static<typeof RunsQuery>;
