import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of the native serving API (/api/v1/workspaces/{ws}/endpoints...). */
const Percent = Type.Integer({ minimum: 0, maximum: 100 });
export const TrafficMap = Type.Record(Type.String(), Percent, { description: 'percent of live traffic per deployment; sums to 100, or empty' });
export const MirrorMap = Type.Record(Type.String(), Percent, { description: 'percent of live traffic copied to a deployment (responses discarded)' });
export const RateLimit = Type.Object(
  { rps: Type.Number({ exclusiveMinimum: 0, description: 'requests per second' }), burst: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export const Capture = Type.Object(
  {
    sample: Type.Number({ minimum: 0, maximum: 1, description: 'fraction of requests captured' }),
    drop: Type.Optional(Type.Array(Type.String(), { description: 'fields removed before storing' })),
    hash: Type.Optional(Type.Array(Type.String(), { description: 'fields replaced by their sha256 before storing' })),
  },
  { additionalProperties: false },
);
export const Batching = Type.Object(
  { maxBatchSize: Type.Integer({ minimum: 1, maximum: 4096 }), maxWaitMicros: Type.Integer({ minimum: 0, maximum: 1_000_000 }) },
  { additionalProperties: false },
);
export type TrafficMap = Static<typeof TrafficMap>;
export type RateLimit = Static<typeof RateLimit>;
export type Capture = Static<typeof Capture>;
export type Batching = Static<typeof Batching>;

const Auth = Type.Union([Type.Literal('key'), Type.Literal('token')]);
const Runtime = Type.Union([Type.Literal('onnx'), Type.Literal('process'), Type.Literal('http')]);

export const EndpointCreate = Type.Object(
  {
    name: Type.String({ description: 'DNS-label-like, unique on the server (used in /endpoints/{name}/score)' }),
    auth: Type.Optional(Auth),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    traffic: Type.Optional(TrafficMap),
    mirror: Type.Optional(MirrorMap),
    rateLimit: Type.Optional(Type.Union([RateLimit, Type.Null()])),
    capture: Type.Optional(Type.Union([Capture, Type.Null()])),
  },
  { additionalProperties: false },
);
export type EndpointCreate = Static<typeof EndpointCreate>;
export const EndpointUpdate = Type.Object(
  {
    auth: Type.Optional(Auth),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    traffic: Type.Optional(TrafficMap),
    mirror: Type.Optional(MirrorMap),
    rateLimit: Type.Optional(Type.Union([RateLimit, Type.Null()])),
    capture: Type.Optional(Type.Union([Capture, Type.Null()])),
    reason: Type.Optional(Type.String({ maxLength: 2000, description: 'why traffic or mirror changed (kept in the history)' })),
  },
  { additionalProperties: false },
);
export type EndpointUpdate = Static<typeof EndpointUpdate>;
export const TrafficSet = Type.Object(
  { traffic: TrafficMap, mirror: Type.Optional(MirrorMap), reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type TrafficSet = Static<typeof TrafficSet>;
export const KeyRegenerate = Type.Object({ key: Type.Union([Type.Literal('primary'), Type.Literal('secondary')]) }, { additionalProperties: false });
export type KeyRegenerate = Static<typeof KeyRegenerate>;

export const DeploymentCreate = Type.Object(
  {
    name: Type.String({ description: 'DNS-label-like, such as blue or green' }),
    model: Type.String({ description: 'models:/NAME/VERSION or models:/NAME@ALIAS, resolved and pinned at creation' }),
    runtime: Type.Optional(Runtime),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'argv of the model server (runtime process)' })),
    url: Type.Optional(Type.String({ description: 'base URL of an existing server (runtime http)' })),
    instances: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'requests in flight per instance' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
    batching: Type.Optional(Type.Union([Batching, Type.Null()])),
  },
  { additionalProperties: false },
);
export type DeploymentCreate = Static<typeof DeploymentCreate>;
export const DeploymentUpdate = Type.Omit(DeploymentCreate, ['name'], { additionalProperties: false });
export type DeploymentUpdate = Partial<Static<typeof DeploymentUpdate>>;
export const DeploymentUpdateBody = Type.Partial(DeploymentUpdate, { additionalProperties: false });

export const WsParams = Type.Object({ ws: Type.String() });
export const EndpointParams = Type.Object({ ws: Type.String(), name: Type.String() });
export const DeploymentParams = Type.Object({ ws: Type.String(), name: Type.String(), deployment: Type.String() });
export type EndpointParams = Static<typeof EndpointParams>;
export type DeploymentParams = Static<typeof DeploymentParams>;
export const HistoryQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }, { additionalProperties: false });
