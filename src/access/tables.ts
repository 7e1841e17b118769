import type { ColumnType, Generated, Selectable } from 'kysely';

type Created = ColumnType<Date, Date | undefined, never>;

export interface WorkspaceTable {
  id: Generated<number>;
  name: string;
  env: 'dev' | 'staging' | 'prod';
  project: string;
  description: Generated<string>;
  created_at: Created;
}
export interface PrincipalTable {
  id: Generated<number>;
  name: string;
  kind: 'user' | 'service' | 'group';
  is_admin: Generated<boolean>;
  source: Generated<string>;
  description: Generated<string>;
  created_at: Created;
}
export interface GroupMemberTable {
  group_id: number;
  member_id: number;
}
export interface TokenTable {
  id: string;
  principal_id: number;
  hash: string;
  description: Generated<string>;
  created_at: Created;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}
export interface RoleAssignmentTable {
  principal_id: number;
  workspace_id: number;
  role: string;
  created_at: Created;
}
export interface PersonaBindingTable {
  principal_id: number;
  persona: string;
  project: string;
  created_at: Created;
}
export interface ElevationTable {
  id: Generated<number>;
  principal_id: number;
  workspace_id: number;
  role: string;
  reason: string;
  created_at: Created;
  expires_at: Date;
}
export interface AuditLogTable {
  seq: number;
  at: Date;
  principal: string;
  action: string;
  workspace: string | null;
  target: string | null;
  request_id: string | null;
  outcome: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface AccessTables {
  workspaces: WorkspaceTable;
  principals: PrincipalTable;
  group_members: GroupMemberTable;
  tokens: TokenTable;
  role_assignments: RoleAssignmentTable;
  persona_bindings: PersonaBindingTable;
  elevations: ElevationTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}

export type WorkspaceRow = Selectable<WorkspaceTable>;
export type PrincipalRow = Selectable<PrincipalTable>;
export type TokenRow = Selectable<TokenTable>;
export type AuditRow = Selectable<AuditLogTable>;
