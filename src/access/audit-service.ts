import { Forbidden, Invalid } from '../shared/errors.js';
import type { AuditLog, AuditVerdict } from './audit.js';
import type { Authorizer } from './authorizer.js';
import type { Ctx } from './principal.js';
import type { AccessStore } from './store.js';
import type { AuditRow } from './tables.js';

export interface AuditQueryInput {
  principal?: string;
  action?: string;
  workspace?: string;
  since?: string;
  until?: string;
  after?: number;
  limit?: number;
}

export function auditView(r: AuditRow) {
  return {
    seq: Number(r.seq),
    at: r.at.toISOString(),
    principal: r.principal,
    action: r.action,
    workspace: r.workspace,
    target: r.target,
    requestId: r.request_id,
    outcome: r.outcome,
    detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
    hash: r.hash,
  };
}

function date(field: string, text?: string): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw Invalid.field(field, 'an ISO 8601 date-time');
  return d;
}

/** Reading and verifying the audit trail: admins see all, auditors and owners their workspaces. */
export class AuditService {
  constructor(
    private readonly log: AuditLog,
    private readonly store: AccessStore,
    private readonly authz: Authorizer,
  ) {}

  async list(ctx: Ctx, q: AuditQueryInput) {
    const filter = {
      principal: q.principal,
      action: q.action,
      workspace: q.workspace,
      since: date('since', q.since),
      until: date('until', q.until),
      afterSeq: q.after,
      limit: q.limit ?? 100,
    };
    if (ctx.principal.isAdmin) return (await this.log.list(filter)).map(auditView);
    const readable = await this.readableWorkspaces(ctx);
    if (!readable.length) throw new Forbidden("missing permission 'audit.read' in every workspace", 'audit.read');
    return (await this.log.list({ ...filter, workspaces: readable })).map(auditView);
  }

  async verify(ctx: Ctx): Promise<AuditVerdict> {
    if (!(await this.authz.canAnywhere(ctx.principal, 'audit.read'))) throw new Forbidden("missing permission 'audit.read'", 'audit.read');
    return this.log.verify();
  }

  private async readableWorkspaces(ctx: Ctx): Promise<string[]> {
    const out: string[] = [];
    for (const ws of await this.store.workspaces()) if (await this.authz.can(ctx.principal, 'audit.read', ws)) out.push(ws.name);
    return out;
  }
}
