import { Forbidden, Invalid, NotFound } from '../shared/errors.js';
import type { Authorizer } from './authorizer.js';
import { isPersona, isRole, maxElevationMs, personaNames, personas, roles, type Persona } from './matrix.js';
import type { Ctx } from './principal.js';
import type { AccessStore } from './store.js';
import { parseDuration } from './tokens.js';

export interface RoleAssignmentView {
  principal: string;
  kind: string;
  role: string;
  createdAt: string;
}

export interface ElevationView {
  principal: string;
  workspace: string;
  role: string;
  reason: string;
  expiresAt: string;
}

/** Role assignments per workspace, persona bindings per project, time-boxed elevation. */
export class GrantService {
  constructor(
    private readonly store: AccessStore,
    private readonly authz: Authorizer,
  ) {}

  async assignments(ctx: Ctx, workspace: string): Promise<RoleAssignmentView[]> {
    const ws = await this.authz.authorize(ctx, 'workspace.read', workspace);
    const rows = await this.store.roleAssignments(Number(ws.id));
    return rows.map((r) => ({ principal: r.principal, kind: r.kind, role: r.role, createdAt: r.created_at.toISOString() }));
  }

  async assign(ctx: Ctx, workspace: string, principal: string, role: string): Promise<void> {
    if (!isRole(role)) throw Invalid.field('role', `one of ${roles.join(', ')}`);
    const p = await this.principal(principal);
    await this.authz.mutate(ctx, { action: 'access.manage', workspace, target: `principal/${principal}`, detail: { assign: role } }, (tx, ws) =>
      this.store.assignRole(tx, Number(p.id), Number(ws!.id), role),
    );
  }

  async remove(ctx: Ctx, workspace: string, principal: string, role: string): Promise<void> {
    const p = await this.principal(principal);
    await this.authz.mutate(ctx, { action: 'access.manage', workspace, target: `principal/${principal}`, detail: { remove: role } }, async (tx, ws) => {
      if (!(await this.store.removeRole(tx, Number(p.id), Number(ws!.id), role))) throw new NotFound(`role '${role}' of '${principal}' in workspace`, workspace);
    });
  }

  personaTemplates() {
    return personaNames.map((name) => ({ name, ...personas[name] }));
  }

  async bindings(ctx: Ctx, principal: string) {
    if (principal !== ctx.principal.name) this.authz.requireAdmin(ctx, 'admin.principal.read');
    const p = await this.principal(principal);
    const rows = await this.store.personaBindings(Number(p.id));
    return rows.map((r) => ({ principal, persona: r.persona, project: r.project, createdAt: r.created_at.toISOString() }));
  }

  /** Applies a persona for a project: its roles follow every workspace of the project, present and future. */
  async applyPersona(ctx: Ctx, principal: string, persona: string, project: string): Promise<void> {
    if (!isPersona(persona)) throw Invalid.field('persona', `one of ${personaNames.join(', ')}`);
    const p = await this.principal(principal);
    if (personas[persona].service && p.kind === 'user') throw Invalid.field('persona', `'${persona}' is for service principals`);
    await this.authz.mutate(ctx, { action: 'admin.persona.apply', target: `principal/${principal}`, detail: { persona, project } }, (tx) =>
      this.store.bindPersona(tx, Number(p.id), persona, project),
    );
  }

  async removePersona(ctx: Ctx, principal: string, persona: string, project: string): Promise<void> {
    const p = await this.principal(principal);
    await this.authz.mutate(ctx, { action: 'admin.persona.remove', target: `principal/${principal}`, detail: { persona, project } }, async (tx) => {
      if (!(await this.store.unbindPersona(tx, Number(p.id), persona, project))) throw new NotFound(`persona '${persona}' of '${principal}' in project`, project);
    });
  }

  /**
   * Time-boxed elevation for personas that have no standing access
   * (platform support): the caller takes a role for a while, with a reason,
   * and the audit trail says so.
   */
  async elevate(ctx: Ctx, workspace: string, input: { role: string; duration: string; reason: string }): Promise<ElevationView> {
    const ms = parseDuration(input.duration);
    if (ms === null || ms <= 0 || ms > maxElevationMs) throw Invalid.field('duration', 'a duration up to 8h, such as 30m or 2h');
    if (!input.reason.trim()) throw Invalid.field('reason', 'a non-empty reason');
    const ws = await this.authz.workspace(workspace);
    const p = ctx.principal;
    const held = await this.store.personasIn([p.id, ...p.groupIds], ws.project);
    const allowed = held.some((h) => isPersona(h) && (personas[h as Persona] as { elevation?: string[] }).elevation?.includes(input.role));
    if (!allowed) await this.authz.recordDenial(ctx, { action: 'access.elevate', workspace, target: `principal/${p.name}`, detail: { role: input.role } });
    if (!allowed) throw new Forbidden(`no persona of yours in project '${ws.project}' may elevate to '${input.role}'`, 'access.elevate');
    const expiresAt = new Date(Date.now() + ms);
    await this.authz.commit(
      ctx,
      { action: 'access.elevate', workspace, target: `principal/${p.name}`, detail: { role: input.role, reason: input.reason, expiresAt: expiresAt.toISOString() } },
      (tx) => this.store.insertElevation(tx, { principal_id: p.id, workspace_id: Number(ws.id), role: input.role, reason: input.reason, expires_at: expiresAt }),
    );
    return { principal: p.name, workspace, role: input.role, reason: input.reason, expiresAt: expiresAt.toISOString() };
  }

  private async principal(name: string) {
    const p = await this.store.principal(name);
    if (!p) throw new NotFound('principal', name);
    return p;
  }
}
