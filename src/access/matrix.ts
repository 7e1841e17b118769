/**
 * The authorization matrix of shared/access.md: actions, roles per
 * workspace, and persona templates by environment type. Data only.
 */
export const actions = [
  'workspace.read',
  'tracking.write',
  'model.register',
  'model.delete',
  'dataset.write',
  'job.run',
  'endpoint.deploy',
  'endpoint.invoke',
  'monitor.write',
  'alert.ack',
  'promotion.request',
  'promotion.approve',
  'metrics.read',
  'secret.read',
  'secret.write',
  'access.manage',
  'audit.read',
] as const;
export type Action = (typeof actions)[number];

export const envTypes = ['dev', 'staging', 'prod'] as const;
export type EnvType = (typeof envTypes)[number];

const reader: Action[] = ['workspace.read'];
const contributor: Action[] = [
  ...reader,
  'tracking.write',
  'model.register',
  'dataset.write',
  'job.run',
  'endpoint.deploy',
  'endpoint.invoke',
  'monitor.write',
  'alert.ack',
  'promotion.request',
];

export const roleActions = {
  reader,
  contributor,
  owner: [...contributor, 'model.delete', 'access.manage', 'audit.read', 'metrics.read'],
  approver: ['workspace.read', 'promotion.approve'],
  'metrics-reader': ['metrics.read'],
  invoker: ['endpoint.invoke'],
  'secrets-admin': ['secret.read', 'secret.write'],
  auditor: ['workspace.read', 'audit.read'],
} satisfies Record<string, Action[]>;
export type Role = keyof typeof roleActions;
export const roles = Object.keys(roleActions) as Role[];

type PersonaTemplate = {
  service: boolean;
  description: string;
  roles: Record<EnvType, Role[]>;
  /** Roles this persona may take for a limited time, with a reason. */
  elevation?: Role[];
};

const same = (r: Role[]): Record<EnvType, Role[]> => ({ dev: r, staging: r, prod: r });

export const personas = {
  'data-scientist': {
    service: false,
    description: 'Data scientist or ML engineer: builds in dev, reads production',
    roles: {
      dev: ['contributor', 'metrics-reader', 'secrets-admin'],
      staging: ['reader', 'metrics-reader'],
      prod: ['reader', 'metrics-reader'],
    },
  },
  'data-analyst': {
    service: false,
    description: 'Reads dev data and metrics',
    roles: { dev: ['reader', 'metrics-reader'], staging: [], prod: [] },
  },
  'model-tester': {
    service: false,
    description: 'Tests models in dev and staging',
    roles: { dev: ['reader', 'metrics-reader'], staging: ['reader', 'metrics-reader', 'invoker'], prod: [] },
  },
  'business-stakeholder': {
    service: false,
    description: 'Follows metrics everywhere',
    roles: { dev: ['reader', 'metrics-reader'], staging: ['metrics-reader'], prod: ['metrics-reader'] },
  },
  'project-lead': {
    service: false,
    description: 'Builds in dev, approves promotions into production',
    roles: {
      dev: ['contributor', 'metrics-reader', 'secrets-admin'],
      staging: ['reader', 'metrics-reader', 'approver'],
      prod: ['reader', 'metrics-reader', 'approver'],
    },
  },
  'product-owner': {
    service: false,
    description: 'Follows metrics, approves promotions into prod',
    roles: { dev: ['reader', 'metrics-reader'], staging: ['metrics-reader'], prod: ['metrics-reader', 'approver'] },
  },
  'platform-support': {
    service: false,
    description: 'No standing access; time-boxed elevation to owner',
    roles: same([]),
    elevation: ['owner'],
  },
  'model-end-user': {
    service: false,
    description: 'Calls production endpoints',
    roles: { dev: [], staging: [], prod: ['invoker'] },
  },
  'cicd-process': { service: true, description: 'CI/CD service principal', roles: same(['owner']) },
  'monitoring-process': {
    service: true,
    description: 'Monitoring service principal',
    roles: same(['reader', 'metrics-reader']),
  },
  'governance-process': { service: true, description: 'Governance service principal', roles: same(['auditor']) },
} satisfies Record<string, PersonaTemplate>;
export type Persona = keyof typeof personas;
export const personaNames = Object.keys(personas) as Persona[];

export function isRole(x: string): x is Role {
  return x in roleActions;
}
export function isPersona(x: string): x is Persona {
  return x in personas;
}

/** Actions granted by a set of roles. */
export function actionsOf(rs: Iterable<Role>): Set<Action> {
  const out = new Set<Action>();
  for (const r of rs) for (const a of roleActions[r]) out.add(a);
  return out;
}

export function personaRoles(persona: Persona, env: EnvType): Role[] {
  return personas[persona].roles[env];
}

/** Longest elevation a persona may take. */
export const maxElevationMs = 8 * 3600_000;
