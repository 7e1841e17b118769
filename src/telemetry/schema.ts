import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of the telemetry read API (/api/v1/workspaces/{ws}/endpoints/{name}/captures|metrics|…/logs). */
const Time = Type.String({ description: 'an ISO 8601 time or epoch milliseconds' });

export const CapturesQuery = Type.Object(
  {
    from: Type.Optional({ ...Time, description: 'start of the window, inclusive (default: an hour before `to`)' }),
    to: Type.Optional({ ...Time, description: 'end of the window, exclusive (default: now)' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'capture id to page on from (the previous answer’s `next`)' })),
  },
  { additionalProperties: false },
);
export type CapturesQuery = Static<typeof CapturesQuery>;

export const MetricsQuery = Type.Object(
  {
    from: Type.Optional({ ...Time, description: 'first minute, inclusive (default: an hour before `to`)' }),
    to: Type.Optional({ ...Time, description: 'end, exclusive (default: now)' }),
    deployment: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type MetricsQuery = Static<typeof MetricsQuery>;

export const WindowQuery = Type.Object(
  {
    from: Type.Optional({ ...Time, description: 'start, inclusive; the 5-second bucket holding it counts whole (default: an hour before `to`)' }),
    to: Type.Optional({ ...Time, description: 'end, exclusive (default: now)' }),
  },
  { additionalProperties: false },
);
export type WindowQuery = Static<typeof WindowQuery>;

export const LogsQuery = Type.Object(
  {
    since: Type.Optional({ ...Time, description: 'only lines at or after this time' }),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'only lines after this id (the previous answer’s `next`; for following)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);
export type LogsQuery = Static<typeof LogsQuery>;
