import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of alert channels (/api/v1/workspaces/{ws}/alert-channels, `kind: AlertChannel`) and the delivery log. */
export const CHANNEL_TYPES = ['webhook', 'slack', 'alertmanager'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const ChannelSpec = Type.Object(
  {
    name: Type.String({ description: 'DNS-label-like, unique in the workspace; alert rules name it in `channels`' }),
    type: Type.Union(CHANNEL_TYPES.map((t) => Type.Literal(t)), { description: 'webhook (JSON signed with HMAC-SHA256) | slack (incoming webhook) | alertmanager (webhook receiver payload, version 4)' }),
    url: Type.String({ maxLength: 2048, description: 'http(s) URL the notification is POSTed to' }),
    secret: Type.Optional(Type.String({ maxLength: 1024, description: 'webhook only: the HMAC key. Write-only: never returned or exported; omitted on an update, the stored one is kept; "" removes it' })),
  },
  { additionalProperties: false },
);
export type ChannelSpec = Static<typeof ChannelSpec>;

export interface ChannelView {
  name: string;
  workspace: string;
  type: ChannelType;
  url: string;
  /** Whether a secret is stored (its value never leaves the server). */
  secretSet: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface AttemptView {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string;
  durationMs: number;
  /** Set when the attempt failed and another was scheduled this much later. */
  retryInMs: number | null;
}

export interface DeliveryView {
  id: number;
  channel: string;
  alert: number | null;
  test: boolean;
  status: 'firing' | 'resolved';
  repeat: boolean;
  state: 'pending' | 'delivered' | 'failed';
  error: string;
  createdAt: string;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  attempts: AttemptView[];
}

export const WsParams = Type.Object({ ws: Type.String() });
export const ChannelParams = Type.Object({ ws: Type.String(), name: Type.String() });
export type ChannelParams = Static<typeof ChannelParams>;
export const DeliveriesQuery = Type.Object(
  {
    alert: Type.Optional(Type.Integer({ minimum: 1, description: 'only the deliveries of this alert' })),
    channel: Type.Optional(Type.String({ description: 'only the deliveries to this channel' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type DeliveriesQuery = Static<typeof DeliveriesQuery>;
