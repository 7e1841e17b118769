import { sql } from 'kysely';
import { tables, type Db } from '../store/db.js';
import type { AccessTables, PrincipalRow, TokenRow, WorkspaceRow } from './tables.js';

type PrincipalKind = PrincipalRow['kind'];

/** SQL for workspaces, principals, tokens and grants. No rules here. */
export class AccessStore {
  constructor(private readonly db: Db) {}

  private t(tx?: Db) {
    return tables<AccessTables>(tx ?? this.db);
  }

  // Workspaces
  workspace(name: string, tx?: Db): Promise<WorkspaceRow | undefined> {
    return this.t(tx).selectFrom('workspaces').selectAll().where('name', '=', name).executeTakeFirst();
  }
  workspaces(): Promise<WorkspaceRow[]> {
    return this.t().selectFrom('workspaces').selectAll().orderBy('name').execute();
  }
  async insertWorkspace(tx: Db, w: Pick<WorkspaceRow, 'name' | 'env' | 'project' | 'description'>): Promise<WorkspaceRow> {
    return this.t(tx).insertInto('workspaces').values(w).returningAll().executeTakeFirstOrThrow();
  }
  async deleteWorkspace(tx: Db, id: number): Promise<void> {
    await this.t(tx).deleteFrom('workspaces').where('id', '=', id).execute();
  }

  // Principals
  principal(name: string, tx?: Db): Promise<PrincipalRow | undefined> {
    return this.t(tx).selectFrom('principals').selectAll().where('name', '=', name).executeTakeFirst();
  }
  principalById(id: number): Promise<PrincipalRow | undefined> {
    return this.t().selectFrom('principals').selectAll().where('id', '=', id).executeTakeFirst();
  }
  principals(kinds: PrincipalKind[]): Promise<PrincipalRow[]> {
    return this.t().selectFrom('principals').selectAll().where('kind', 'in', kinds).orderBy('name').execute();
  }
  principalsByName(names: string[], kind: PrincipalKind): Promise<PrincipalRow[]> {
    if (!names.length) return Promise.resolve([]);
    return this.t().selectFrom('principals').selectAll().where('name', 'in', names).where('kind', '=', kind).execute();
  }
  async countPrincipals(tx?: Db): Promise<number> {
    const r = await this.t(tx).selectFrom('principals').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    return r.n;
  }
  insertPrincipal(
    tx: Db,
    p: { name: string; kind: PrincipalKind; is_admin?: boolean; source?: string; description?: string },
  ): Promise<PrincipalRow> {
    return this.t(tx).insertInto('principals').values(p).returningAll().executeTakeFirstOrThrow();
  }
  /** Inserts unless the name exists; returns the row either way (races resolve to one row). */
  async ensurePrincipal(tx: Db, p: { name: string; kind: PrincipalKind; is_admin?: boolean; source?: string }): Promise<PrincipalRow> {
    await this.t(tx).insertInto('principals').values(p).onConflict((oc) => oc.column('name').doNothing()).execute();
    return (await this.principal(p.name, tx))!;
  }
  async deletePrincipal(tx: Db, id: number): Promise<void> {
    await this.t(tx).deleteFrom('principals').where('id', '=', id).execute();
  }

  // Groups
  async groupIdsOf(memberId: number): Promise<number[]> {
    const rows = await this.t().selectFrom('group_members').select('group_id').where('member_id', '=', memberId).execute();
    return rows.map((r) => Number(r.group_id));
  }
  async members(groupId: number): Promise<string[]> {
    const rows = await this.t()
      .selectFrom('group_members')
      .innerJoin('principals', 'principals.id', 'group_members.member_id')
      .select('principals.name')
      .where('group_id', '=', groupId)
      .orderBy('principals.name')
      .execute();
    return rows.map((r) => r.name);
  }
  async addMember(tx: Db, groupId: number, memberId: number): Promise<void> {
    await this.t(tx)
      .insertInto('group_members')
      .values({ group_id: groupId, member_id: memberId })
      .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
      .execute();
  }
  async removeMember(tx: Db, groupId: number, memberId: number): Promise<boolean> {
    const r = await this.t(tx).deleteFrom('group_members').where('group_id', '=', groupId).where('member_id', '=', memberId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // Tokens
  tokenByHash(hash: string): Promise<TokenRow | undefined> {
    return this.t().selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
  }
  token(id: string): Promise<TokenRow | undefined> {
    return this.t().selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }
  tokensOf(principalId: number): Promise<TokenRow[]> {
    return this.t().selectFrom('tokens').selectAll().where('principal_id', '=', principalId).orderBy('created_at').execute();
  }
  async insertToken(tx: Db, t: { id: string; principal_id: number; hash: string; description?: string; expires_at: Date | null }): Promise<void> {
    await this.t(tx).insertInto('tokens').values({ ...t, revoked_at: null, last_used_at: null }).onConflict((oc) => oc.column('hash').doNothing()).execute();
  }
  async revokeToken(tx: Db, id: string, at: Date): Promise<void> {
    await this.t(tx).updateTable('tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }
  async revokeOtherPresets(tx: Db, principalId: number, keepHash: string, at: Date): Promise<void> {
    await this.t(tx)
      .updateTable('tokens')
      .set({ revoked_at: at })
      .where('principal_id', '=', principalId)
      .where('id', 'like', 'tok_preset%')
      .where('hash', '!=', keepHash)
      .where('revoked_at', 'is', null)
      .execute();
  }
  async touchToken(id: string, at: Date): Promise<void> {
    await this.t().updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  // Grants
  async assignedRoles(principalIds: number[], workspaceId: number): Promise<string[]> {
    if (!principalIds.length) return [];
    const rows = await this.t()
      .selectFrom('role_assignments')
      .select('role')
      .where('principal_id', 'in', principalIds)
      .where('workspace_id', '=', workspaceId)
      .execute();
    return rows.map((r) => r.role);
  }
  async personasIn(principalIds: number[], project: string): Promise<string[]> {
    if (!principalIds.length) return [];
    const rows = await this.t()
      .selectFrom('persona_bindings')
      .select('persona')
      .where('principal_id', 'in', principalIds)
      .where('project', '=', project)
      .execute();
    return rows.map((r) => r.persona);
  }
  async activeElevations(principalId: number, workspaceId: number, now: Date): Promise<string[]> {
    const rows = await this.t()
      .selectFrom('elevations')
      .select('role')
      .where('principal_id', '=', principalId)
      .where('workspace_id', '=', workspaceId)
      .where('expires_at', '>', now)
      .execute();
    return rows.map((r) => r.role);
  }
  roleAssignments(workspaceId: number) {
    return this.t()
      .selectFrom('role_assignments')
      .innerJoin('principals', 'principals.id', 'role_assignments.principal_id')
      .select(['principals.name as principal', 'principals.kind as kind', 'role_assignments.role', 'role_assignments.created_at'])
      .where('workspace_id', '=', workspaceId)
      .orderBy('principals.name')
      .orderBy('role')
      .execute();
  }
  async assignRole(tx: Db, principalId: number, workspaceId: number, role: string): Promise<void> {
    await this.t(tx)
      .insertInto('role_assignments')
      .values({ principal_id: principalId, workspace_id: workspaceId, role })
      .onConflict((oc) => oc.columns(['principal_id', 'workspace_id', 'role']).doNothing())
      .execute();
  }
  async removeRole(tx: Db, principalId: number, workspaceId: number, role: string): Promise<boolean> {
    const r = await this.t(tx)
      .deleteFrom('role_assignments')
      .where('principal_id', '=', principalId)
      .where('workspace_id', '=', workspaceId)
      .where('role', '=', role)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  personaBindings(principalId: number) {
    return this.t().selectFrom('persona_bindings').selectAll().where('principal_id', '=', principalId).orderBy('project').execute();
  }
  async bindPersona(tx: Db, principalId: number, persona: string, project: string): Promise<void> {
    await this.t(tx)
      .insertInto('persona_bindings')
      .values({ principal_id: principalId, persona, project })
      .onConflict((oc) => oc.columns(['principal_id', 'persona', 'project']).doNothing())
      .execute();
  }
  async unbindPersona(tx: Db, principalId: number, persona: string, project: string): Promise<boolean> {
    const r = await this.t(tx)
      .deleteFrom('persona_bindings')
      .where('principal_id', '=', principalId)
      .where('persona', '=', persona)
      .where('project', '=', project)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async insertElevation(tx: Db, e: { principal_id: number; workspace_id: number; role: string; reason: string; expires_at: Date }) {
    return this.t(tx).insertInto('elevations').values(e).returningAll().executeTakeFirstOrThrow();
  }
}
