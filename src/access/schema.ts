import { Type, type Static } from '@sinclair/typebox';
import { envTypes, personaNames, roles } from './matrix.js';

const Name = Type.String({ minLength: 1, maxLength: 63, description: 'lowercase letters, digits, ".", "_" or "-"' });
const Kind = Type.Union([Type.Literal('user'), Type.Literal('service'), Type.Literal('group')]);

export const Workspace = Type.Object({
  name: Type.String(),
  env: Type.Union(envTypes.map((e) => Type.Literal(e))),
  project: Type.String(),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  permissions: Type.Optional(Type.Array(Type.String())),
});
export const WorkspaceCreate = Type.Object(
  {
    name: Name,
    env: Type.Union(envTypes.map((e) => Type.Literal(e)), { description: 'environment type' }),
    project: Type.Optional(Name),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type WorkspaceCreate = Static<typeof WorkspaceCreate>;

export const PrincipalOut = Type.Object({
  name: Type.String(),
  kind: Kind,
  admin: Type.Boolean(),
  source: Type.String(),
  description: Type.String(),
  createdAt: Type.String(),
  members: Type.Optional(Type.Array(Type.String())),
});
export const UserCreate = Type.Object(
  {
    name: Name,
    kind: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('service')], { default: 'user' })),
    admin: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type UserCreate = Static<typeof UserCreate>;
export const GroupCreate = Type.Object({ name: Name, description: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export type GroupCreate = Static<typeof GroupCreate>;

export const TokenOut = Type.Object({
  id: Type.String(),
  principal: Type.String(),
  description: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});
export const TokenCreated = Type.Intersect([TokenOut, Type.Object({ token: Type.String({ description: 'shown once; store it now' }) })]);
export const TokenCreate = Type.Object(
  {
    expires: Type.Optional(Type.String({ description: "duration such as '30d', '12h', or 'never'" })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type TokenCreate = Static<typeof TokenCreate>;

export const RoleAssign = Type.Object(
  { principal: Name, role: Type.Union(roles.map((r) => Type.Literal(r))) },
  { additionalProperties: false },
);
export type RoleAssign = Static<typeof RoleAssign>;
export const RoleAssignment = Type.Object({ principal: Type.String(), kind: Type.String(), role: Type.String(), createdAt: Type.String() });

export const PersonaApply = Type.Object(
  { principal: Name, persona: Type.Union(personaNames.map((p) => Type.Literal(p))), project: Name },
  { additionalProperties: false },
);
export type PersonaApply = Static<typeof PersonaApply>;

export const ElevationCreate = Type.Object(
  {
    role: Type.Union(roles.map((r) => Type.Literal(r))),
    duration: Type.String({ description: 'up to 8h, such as 30m or 2h' }),
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export type ElevationCreate = Static<typeof ElevationCreate>;

export const AuditQuery = Type.Object(
  {
    principal: Type.Optional(Type.String()),
    action: Type.Optional(Type.String()),
    workspace: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'return records after this sequence number' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditRecord = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  principal: Type.String(),
  action: Type.String(),
  workspace: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  detail: Type.Union([Type.Unknown(), Type.Null()]),
  hash: Type.String(),
});
export const AuditVerdict = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  firstBad: Type.Optional(Type.Object({ seq: Type.Integer(), reason: Type.String() })),
});

export const NameParam = Type.Object({ name: Type.String() });
