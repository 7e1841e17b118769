import type { Db } from '../store/db.js';
import { Forbidden, NotFound, Unauthenticated } from '../shared/errors.js';
import type { AuditLog } from './audit.js';
import { actions, actionsOf, isPersona, isRole, personaRoles, type Action, type Role } from './matrix.js';
import type { OidcVerifier } from './oidc.js';
import type { Ctx, Principal } from './principal.js';
import type { AccessStore } from './store.js';
import type { WorkspaceRow } from './tables.js';
import { hashToken, looksLikeJwt } from './tokens.js';

/** Server-wide actions only admins may take (workspaces, users, groups, personas). */
export type AdminAction = `admin.${string}`;

export interface MutationSpec {
  action: Action | AdminAction;
  workspace?: string;
  target?: string;
  detail?: Record<string, unknown>;
}

const TOUCH_INTERVAL_MS = 60_000;

/**
 * The one authorization decision: may this principal do this action in this
 * workspace? Deny by default. Also runs mutations so that the change and its
 * audit record commit in one transaction.
 */
export class Authorizer {
  readonly #touched = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly store: AccessStore,
    private readonly audit: AuditLog,
    private readonly oidc?: OidcVerifier,
  ) {}

  async authenticate(secret: string): Promise<Principal> {
    if (this.oidc && looksLikeJwt(secret)) return this.fromJwt(secret);
    const tok = await this.store.tokenByHash(hashToken(secret));
    const now = new Date();
    if (!tok) throw new Unauthenticated('unknown token');
    if (tok.revoked_at) throw new Unauthenticated('token revoked');
    if (tok.expires_at && tok.expires_at <= now) throw new Unauthenticated('token expired');
    const p = await this.store.principalById(Number(tok.principal_id));
    if (!p || p.kind === 'group') throw new Unauthenticated('unknown token');
    this.touch(tok.id, now);
    return { id: Number(p.id), name: p.name, kind: p.kind, isAdmin: p.is_admin, groupIds: await this.store.groupIdsOf(Number(p.id)), tokenId: tok.id };
  }

  private async fromJwt(jwt: string): Promise<Principal> {
    const id = await this.oidc!.verify(jwt);
    const p = await this.db.transaction().execute((tx) => this.store.ensurePrincipal(tx, { name: id.username, kind: 'user', source: 'oidc' }));
    if (p.source !== 'oidc') throw new Unauthenticated(`'${id.username}' is a local principal; OIDC may not sign in as it`);
    const mapped = await this.store.principalsByName(id.groups, 'group');
    const local = await this.store.groupIdsOf(Number(p.id));
    const groupIds = [...new Set([...local, ...mapped.map((g) => Number(g.id))])];
    return { id: Number(p.id), name: p.name, kind: 'user', isAdmin: p.is_admin, groupIds };
  }

  private touch(tokenId: string, now: Date) {
    const last = this.#touched.get(tokenId) ?? 0;
    if (now.getTime() - last < TOUCH_INTERVAL_MS) return;
    this.#touched.set(tokenId, now.getTime());
    // Last-used is advisory; it must never fail or slow the request.
    this.store.touchToken(tokenId, now).catch(() => undefined);
  }

  async workspace(name: string): Promise<WorkspaceRow> {
    const ws = await this.store.workspace(name);
    if (!ws) throw new NotFound('workspace', name);
    return ws;
  }

  /** Roles the principal holds in a workspace, from every source. */
  async rolesIn(p: Principal, ws: WorkspaceRow, now = new Date()): Promise<Set<Role>> {
    const ids = [p.id, ...p.groupIds];
    const out = new Set<Role>();
    for (const r of await this.store.assignedRoles(ids, Number(ws.id))) if (isRole(r)) out.add(r);
    for (const persona of await this.store.personasIn(ids, ws.project)) {
      if (isPersona(persona)) for (const r of personaRoles(persona, ws.env)) out.add(r);
    }
    for (const r of await this.store.activeElevations(p.id, Number(ws.id), now)) if (isRole(r)) out.add(r);
    return out;
  }

  async actionsIn(p: Principal, ws: WorkspaceRow): Promise<Set<Action>> {
    if (p.isAdmin) return new Set(actions);
    return actionsOf(await this.rolesIn(p, ws));
  }

  async can(p: Principal, action: Action, workspace: string | WorkspaceRow): Promise<boolean> {
    if (p.isAdmin) return true;
    const ws = typeof workspace === 'string' ? await this.store.workspace(workspace) : workspace;
    if (!ws) return false;
    return (await this.actionsIn(p, ws)).has(action);
  }

  /** True when some workspace grants the action (server-wide reads such as /metrics). */
  async canAnywhere(p: Principal, action: Action): Promise<boolean> {
    if (p.isAdmin) return true;
    for (const ws of await this.store.workspaces()) if ((await this.actionsIn(p, ws)).has(action)) return true;
    return false;
  }

  /** Throws Forbidden naming the missing action; returns the workspace. */
  async authorize(ctx: Ctx, action: Action, workspace: string): Promise<WorkspaceRow> {
    const ws = await this.workspace(workspace);
    if (!(await this.can(ctx.principal, action, ws))) throw forbidden(action, workspace);
    return ws;
  }

  requireAdmin(ctx: Ctx, action: AdminAction): void {
    if (!ctx.principal.isAdmin) throw new Forbidden(`'${action}' needs a server admin`, action);
  }

  /**
   * Authorizes, runs `change` in a transaction and appends the audit record in
   * the same transaction. A denial is audited too, in its own transaction.
   */
  async mutate<T>(ctx: Ctx, spec: MutationSpec, change: (tx: Db, ws?: WorkspaceRow) => Promise<T>): Promise<T> {
    let ws: WorkspaceRow | undefined;
    try {
      if (spec.action.startsWith('admin.')) this.requireAdmin(ctx, spec.action as AdminAction);
      else if (spec.workspace) ws = await this.authorize(ctx, spec.action as Action, spec.workspace);
      else throw new Error(`mutation ${spec.action} needs a workspace`);
    } catch (e) {
      if ((e as { code?: string }).code === 'forbidden') await this.recordDenial(ctx, spec);
      throw e;
    }
    return this.commit(ctx, spec, (tx) => change(tx, ws));
  }

  /** Audits a refused change, in a transaction of its own. */
  recordDenial(ctx: Ctx, spec: Omit<MutationSpec, 'action'> & { action: string }): Promise<void> {
    return this.audit.record(this.entry(ctx, spec as MutationSpec, 'denied'));
  }

  /** Runs a change the caller has already authorized, with its audit record, in one transaction. */
  commit<T>(ctx: Ctx, spec: MutationSpec | (Omit<MutationSpec, 'action'> & { action: string }), change: (tx: Db) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (tx) => {
      const result = await change(tx);
      await this.audit.append(tx, this.entry(ctx, spec as MutationSpec, 'ok'));
      return result;
    });
  }

  private entry(ctx: Ctx, spec: MutationSpec, outcome: 'ok' | 'denied') {
    return {
      principal: ctx.principal.name,
      action: spec.action,
      workspace: spec.workspace ?? null,
      target: spec.target ?? null,
      requestId: ctx.requestId,
      outcome,
      detail: spec.detail ?? null,
    };
  }
}

export function forbidden(action: string, workspace: string): Forbidden {
  return new Forbidden(`missing permission '${action}' in workspace '${workspace}'`, action);
}
