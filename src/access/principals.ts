import type { Db } from '../store/db.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../shared/errors.js';
import type { Authorizer } from './authorizer.js';
import type { Ctx } from './principal.js';
import type { AccessStore } from './store.js';
import type { PrincipalRow, TokenRow } from './tables.js';
import { newToken, parseDuration } from './tokens.js';
import { NAME_PATTERN, NAME_RULE } from './workspaces.js';

export interface PrincipalView {
  name: string;
  kind: PrincipalRow['kind'];
  admin: boolean;
  source: string;
  description: string;
  createdAt: string;
  members?: string[];
}

export interface TokenView {
  id: string;
  principal: string;
  description: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const MAX_TOKEN_LIFETIME_MS = 10 * 365 * 86400_000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function principalView(p: PrincipalRow): PrincipalView {
  return { name: p.name, kind: p.kind, admin: p.is_admin, source: p.source, description: p.description, createdAt: p.created_at.toISOString() };
}

function tokenView(t: TokenRow, principal: string): TokenView {
  return {
    id: t.id,
    principal,
    description: t.description,
    createdAt: t.created_at.toISOString(),
    expiresAt: iso(t.expires_at),
    lastUsedAt: iso(t.last_used_at),
    revokedAt: iso(t.revoked_at),
  };
}

/** Users, service principals, groups and their API tokens. */
export class PrincipalService {
  constructor(
    private readonly store: AccessStore,
    private readonly authz: Authorizer,
  ) {}

  async create(ctx: Ctx, input: { name: string; kind: 'user' | 'service' | 'group'; admin?: boolean; description?: string }): Promise<PrincipalView> {
    if (!NAME_PATTERN.test(input.name)) throw Invalid.field('name', NAME_RULE);
    if (input.admin && input.kind !== 'user') throw Invalid.field('admin', 'only users can be admins');
    return this.authz.mutate(ctx, { action: `admin.${input.kind}.create`, target: `${input.kind}/${input.name}` }, async (tx) => {
      if (await this.store.principal(input.name, tx)) throw new Conflict(`a principal named '${input.name}' already exists`);
      const row = await this.store.insertPrincipal(tx, { name: input.name, kind: input.kind, is_admin: input.admin ?? false, description: input.description ?? '' });
      return principalView(row);
    });
  }

  async list(ctx: Ctx, kinds: Array<'user' | 'service' | 'group'>): Promise<PrincipalView[]> {
    this.authz.requireAdmin(ctx, 'admin.principal.list');
    return (await this.store.principals(kinds)).map(principalView);
  }

  async get(ctx: Ctx, name: string): Promise<PrincipalView> {
    if (name !== ctx.principal.name) this.authz.requireAdmin(ctx, 'admin.principal.read');
    const p = await this.mustFind(name);
    const view = principalView(p);
    if (p.kind === 'group') view.members = await this.store.members(Number(p.id));
    return view;
  }

  async delete(ctx: Ctx, name: string): Promise<void> {
    if (name === ctx.principal.name) throw new Conflict('you cannot delete yourself');
    const p = await this.mustFind(name);
    await this.authz.mutate(ctx, { action: `admin.${p.kind}.delete`, target: `${p.kind}/${name}` }, (tx) => this.store.deletePrincipal(tx, Number(p.id)));
  }

  async addMember(ctx: Ctx, group: string, member: string): Promise<void> {
    const [g, m] = await Promise.all([this.mustFind(group, 'group'), this.mustFind(member)]);
    if (m.kind === 'group') throw Invalid.field('member', 'a user or service principal (groups do not nest)');
    await this.authz.mutate(ctx, { action: 'admin.group.update', target: `group/${group}`, detail: { add: member } }, (tx) =>
      this.store.addMember(tx, Number(g.id), Number(m.id)),
    );
  }

  async removeMember(ctx: Ctx, group: string, member: string): Promise<void> {
    const [g, m] = await Promise.all([this.mustFind(group, 'group'), this.mustFind(member)]);
    await this.authz.mutate(ctx, { action: 'admin.group.update', target: `group/${group}`, detail: { remove: member } }, async (tx) => {
      if (!(await this.store.removeMember(tx, Number(g.id), Number(m.id)))) throw new NotFound(`member '${member}' of group`, group);
    });
  }

  /** Creates a token; the secret is in the answer and nowhere else, ever. */
  async createToken(ctx: Ctx, name: string, opts: { expires?: string; description?: string }): Promise<TokenView & { token: string }> {
    const p = await this.tokenOwner(ctx, name, 'token.create');
    if (p.kind === 'group') throw Invalid.field('name', 'a user or service principal (groups have no tokens)');
    let expiresAt: Date | null = null;
    if (opts.expires !== undefined && opts.expires !== 'never') {
      const ms = parseDuration(opts.expires);
      if (ms === null || ms <= 0 || ms > MAX_TOKEN_LIFETIME_MS) throw Invalid.field('expires', "a duration up to 10y such as '90m', '12h', '30d', or 'never'");
      expiresAt = new Date(Date.now() + ms);
    }
    const action = ctx.principal.isAdmin && p.id !== ctx.principal.id ? 'admin.token.create' : 'token.create';
    const workspace = await this.mayManageTokensOf(ctx, p, action);
    const t = newToken();
    await this.tokenMutation(ctx, action, p, `token/${t.id}`, workspace, (tx) =>
      this.store.insertToken(tx, { id: t.id, principal_id: Number(p.id), hash: t.hash, description: opts.description ?? '', expires_at: expiresAt }),
    );
    const row = (await this.store.token(t.id))!;
    return { ...tokenView(row, p.name), token: t.secret };
  }

  async listTokens(ctx: Ctx, name: string): Promise<TokenView[]> {
    const p = await this.tokenOwner(ctx, name, 'token.list');
    await this.mayManageTokensOf(ctx, p, 'token.list');
    return (await this.store.tokensOf(Number(p.id))).map((t) => tokenView(t, p.name));
  }

  async revokeToken(ctx: Ctx, id: string): Promise<void> {
    const t = await this.store.token(id);
    if (!t) throw new NotFound('token', id);
    const p = (await this.store.principalById(Number(t.principal_id)))!;
    const workspace = await this.mayManageTokensOf(ctx, p, 'token.revoke');
    await this.tokenMutation(ctx, 'token.revoke', p, `token/${id}`, workspace, (tx) => this.store.revokeToken(tx, id, new Date()));
  }

  /**
   * Everyone manages their own tokens; admins anyone's. A workspace owner
   * (access.manage) manages the tokens of a service principal only when all
   * its access is visible from the owner's seat: direct roles, every one in a
   * workspace the owner manages, and no personas or groups that could reach
   * further. Anything else would let an owner borrow another principal's
   * rights elsewhere. Returns the workspace the audit record belongs to.
   */
  private async mayManageTokensOf(ctx: Ctx, p: PrincipalRow, action: string): Promise<string | null> {
    if (ctx.principal.isAdmin || ctx.principal.id === Number(p.id)) return null;
    const id = Number(p.id);
    if (p.kind === 'service') {
      const [personas, groups] = await Promise.all([this.store.personaBindings(id), this.store.groupIdsOf(id)]);
      if (!personas.length && !groups.length) {
        const scoped = [];
        for (const ws of await this.store.workspaces()) if ((await this.store.assignedRoles([id], Number(ws.id))).length) scoped.push(ws);
        let allManaged = scoped.length > 0;
        for (const ws of scoped) allManaged &&= await this.authz.can(ctx.principal, 'access.manage', ws);
        if (allManaged) return scoped[0].name;
      }
    }
    await this.authz.recordDenial(ctx, { action, target: `${p.kind}/${p.name}` });
    throw new Forbidden(`you may not manage the tokens of '${p.name}'`, 'access.manage');
  }

  /** Token changes are audited like any mutation, after the caller was checked above. */
  private tokenMutation(ctx: Ctx, action: string, p: PrincipalRow, target: string, workspace: string | null, change: (tx: Db) => Promise<void>) {
    return this.authz.commit(ctx, { action, target, workspace: workspace ?? undefined, detail: { principal: p.name } }, change);
  }

  /**
   * The principal whose tokens are addressed. Only admins may list
   * principals, so to anyone else an unknown name answers exactly as a
   * principal they may not manage does (403), never 404: no probing for names.
   */
  private async tokenOwner(ctx: Ctx, name: string, action: string): Promise<PrincipalRow> {
    const p = await this.store.principal(name);
    if (p) return p;
    if (ctx.principal.isAdmin) throw new NotFound('principal', name);
    await this.authz.recordDenial(ctx, { action, target: `principal/${name}` });
    throw new Forbidden(`you may not manage the tokens of '${name}'`, 'access.manage');
  }

  private async mustFind(name: string, kind?: PrincipalRow['kind']): Promise<PrincipalRow> {
    const p = await this.store.principal(name);
    if (!p || (kind && p.kind !== kind)) throw new NotFound(kind ?? 'principal', name);
    return p;
  }
}
