import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of the native rollout API (/api/v1/workspaces/{ws}/rollouts...). */
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const NonNegative = Type.Number({ minimum: 0 });

export const Gates = Type.Object(
  {
    maxErrorRate: Type.Optional({ ...Fraction, description: "candidate's 5xx rate in the step window may not exceed it (0.05 = 5%)" }),
    errorRateTolerance: Type.Optional({ ...NonNegative, description: "candidate's 5xx rate may exceed the stable's over the same window by this fraction of it (0.5 = 50% worse), plus one request" }),
    maxP95Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    maxP99Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    latencyTolerance: Type.Optional({ ...NonNegative, description: "candidate's p95 and p99 may exceed the stable's by this fraction (0.2 = 20% slower)" }),
    minAgreement: Type.Optional({ ...Fraction, description: 'shadow steps: share of mirrored requests whose outputs equal the live ones exactly' }),
    maxMeanAbsDiff: Type.Optional({ ...NonNegative, description: 'shadow steps: mean absolute difference of mirrored outputs from the live ones' }),
  },
  { additionalProperties: false },
);
export type Gates = Static<typeof Gates>;

export const Step = Type.Object(
  {
    shadow: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'mirror this percent of live traffic to the candidate; live traffic unchanged' })),
    traffic: Type.Optional(Type.Integer({ minimum: 1, maximum: 99, description: 'the candidate takes this percent of live traffic, the stable the rest' })),
    duration: Type.Optional(Type.String({ description: 'how long the step lasts, such as 30s, 10m, 1h (time paused does not count)' })),
    minRequests: Type.Optional(Type.Integer({ minimum: 1, description: 'candidate requests the step needs before it may pass' })),
    gates: Type.Optional(Gates),
  },
  { additionalProperties: false },
);
export type Step = Static<typeof Step>;

export const RolloutCreate = Type.Object(
  {
    name: Type.String({ description: 'DNS-label-like, unique in the workspace' }),
    endpoint: Type.String(),
    candidate: Type.String({ description: 'the deployment being rolled out' }),
    stable: Type.Optional(Type.String({ description: 'the deployment it replaces; default: the one taking 100% of traffic at start' })),
    steps: Type.Optional(Type.Array(Step, { minItems: 1, maxItems: 50 })),
    plan: Type.Optional(Type.String({ description: "compact steps instead of `steps`: 'shadow 20% 10m, canary 10% 5m, 50% 5m'" })),
    gates: Type.Optional({ ...Gates, description: "gates of every step that names none of its own (shadow-only gates apply to shadow steps)" }),
    retireStable: Type.Optional(Type.Boolean({ description: 'delete the stable deployment after promotion and a drain' })),
    drain: Type.Optional(Type.String({ description: 'wait between promotion and retiring the stable (default 30s)' })),
    start: Type.Optional(Type.Boolean({ description: 'start at once (default true); false leaves it pending' })),
  },
  { additionalProperties: false },
);
export type RolloutCreate = Static<typeof RolloutCreate>;

export const RolloutAction = Type.Union([Type.Literal('start'), Type.Literal('pause'), Type.Literal('resume'), Type.Literal('promote'), Type.Literal('abort')]);
export type RolloutAction = Static<typeof RolloutAction>;
export const ActionBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export type ActionBody = Static<typeof ActionBody>;

export const WsParams = Type.Object({ ws: Type.String() });
export const RolloutParams = Type.Object({ ws: Type.String(), name: Type.String() });
export type RolloutParams = Static<typeof RolloutParams>;
export const ActionParams = Type.Object({ ws: Type.String(), name: Type.String(), action: RolloutAction });
export type ActionParams = Static<typeof ActionParams>;
