import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Db } from '../store/db.js';
import { AuditLog } from './audit.js';
import { AuditService } from './audit-service.js';
import { Authorizer } from './authorizer.js';
import { GrantService } from './grants.js';
import { OidcVerifier, type OidcConfig } from './oidc.js';
import { systemCtx } from './principal.js';
import { PrincipalService } from './principals.js';
import { AccessStore } from './store.js';
import { hashToken, newToken } from './tokens.js';
import { WorkspaceService } from './workspaces.js';

export interface Access {
  authz: Authorizer;
  audit: AuditLog;
  auditTrail: AuditService;
  workspaces: WorkspaceService;
  principals: PrincipalService;
  grants: GrantService;
  store: AccessStore;
}

export function createAccess(db: Db, opts: { oidc?: OidcConfig } = {}): Access {
  const store = new AccessStore(db);
  const audit = new AuditLog(db);
  const authz = new Authorizer(db, store, audit, opts.oidc ? new OidcVerifier(opts.oidc) : undefined);
  return {
    authz,
    audit,
    auditTrail: new AuditService(audit, store, authz),
    store,
    workspaces: new WorkspaceService(store, authz),
    principals: new PrincipalService(store, authz),
    grants: new GrantService(store, authz),
  };
}

/**
 * First start: with no principals, creates `admin` and writes its token to
 * `tokenFile` (0600). A preset token (SLIPWAY_ADMIN_TOKEN) is registered for
 * `admin` on every start instead, so it always works.
 */
export async function bootstrapAdmin(access: Access, db: Db, opts: { tokenFile: string; presetToken?: string }): Promise<'created' | 'preset' | 'existing'> {
  const ctx = systemCtx('bootstrap');
  return db.transaction().execute(async (tx) => {
    const empty = (await access.store.countPrincipals(tx)) === 0;
    if (!empty && !opts.presetToken) return 'existing';
    const admin = await access.store.ensurePrincipal(tx, { name: 'admin', kind: 'user', is_admin: true });
    if (opts.presetToken) {
      if (!admin.is_admin) throw new Error("SLIPWAY_ADMIN_TOKEN is set but the principal 'admin' is not a server admin");
      const hash = hashToken(opts.presetToken);
      // A rotated preset replaces the previous one: an old leaked value stops working.
      await access.store.revokeOtherPresets(tx, Number(admin.id), hash, new Date());
      await access.store.insertToken(tx, { id: 'tok_preset' + hash.slice(0, 8), principal_id: Number(admin.id), hash, description: 'SLIPWAY_ADMIN_TOKEN', expires_at: null });
      if (empty) await access.audit.append(tx, { principal: ctx.principal.name, action: 'admin.bootstrap', target: 'user/admin', requestId: ctx.requestId, outcome: 'ok' });
      return 'preset';
    }
    const t = newToken();
    await access.store.insertToken(tx, { id: t.id, principal_id: Number(admin.id), hash: t.hash, description: 'first start', expires_at: null });
    await access.audit.append(tx, { principal: ctx.principal.name, action: 'admin.bootstrap', target: 'user/admin', requestId: ctx.requestId, outcome: 'ok' });
    await mkdir(dirname(opts.tokenFile), { recursive: true });
    await writeFile(opts.tokenFile, t.secret + '\n', { mode: 0o600 });
    await chmod(opts.tokenFile, 0o600);
    return 'created';
  });
}
