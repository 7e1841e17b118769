import { createHash } from 'node:crypto';
import { tables, type Db } from '../store/db.js';
import type { AccessTables, AuditRow } from './tables.js';

export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditEntry {
  principal: string;
  action: string;
  workspace?: string | null;
  target?: string | null;
  requestId?: string | null;
  outcome: AuditOutcome;
  detail?: Record<string, unknown> | null;
}

export interface AuditFilter {
  principal?: string;
  action?: string;
  workspace?: string;
  /** Restricts to these workspaces (null stands for server-wide records). */
  workspaces?: Array<string | null>;
  since?: Date;
  until?: Date;
  afterSeq?: number;
  limit: number;
}

export interface AuditVerdict {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; reason: string };
}

const GENESIS = '0'.repeat(64);

function recordHash(prevHash: string, r: Omit<AuditRow, 'hash' | 'prev_hash'>): string {
  const canonical = JSON.stringify([
    r.seq,
    r.at.toISOString(),
    r.principal,
    r.action,
    r.workspace,
    r.target,
    r.request_id,
    r.outcome,
    r.detail,
  ]);
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}

/**
 * The hash-chained audit trail. Appends happen inside the caller's
 * transaction so a change and its record commit together; the head row lock
 * orders concurrent appends.
 */
export class AuditLog {
  constructor(private readonly db: Db) {}

  async append(tx: Db, entry: AuditEntry, now = new Date()): Promise<number> {
    const t = tables<AccessTables>(tx);
    const head = await t.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).forUpdate().executeTakeFirstOrThrow();
    const row = {
      seq: Number(head.seq) + 1,
      at: now,
      principal: entry.principal,
      action: entry.action,
      workspace: entry.workspace ?? null,
      target: entry.target ?? null,
      request_id: entry.requestId ?? null,
      outcome: entry.outcome,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    };
    const hash = recordHash(head.hash, row);
    await t.insertInto('audit_log').values({ ...row, prev_hash: head.hash, hash }).execute();
    await t.updateTable('audit_head').set({ seq: row.seq, hash }).where('id', '=', 1).execute();
    return row.seq;
  }

  /** Appends in a transaction of its own (denials, failures). */
  async record(entry: AuditEntry): Promise<void> {
    await this.db.transaction().execute((tx) => this.append(tx, entry));
  }

  async list(f: AuditFilter): Promise<AuditRow[]> {
    const t = tables<AccessTables>(this.db);
    let q = t.selectFrom('audit_log').selectAll().orderBy('seq', 'asc').limit(f.limit);
    if (f.principal) q = q.where('principal', '=', f.principal);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.workspace) q = q.where('workspace', '=', f.workspace);
    if (f.since) q = q.where('at', '>=', f.since);
    if (f.until) q = q.where('at', '<', f.until);
    if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq);
    if (f.workspaces) {
      const named = f.workspaces.filter((w): w is string => w !== null);
      const withGlobal = f.workspaces.includes(null);
      q = q.where((eb) => {
        const parts = [];
        if (named.length) parts.push(eb('workspace', 'in', named));
        if (withGlobal) parts.push(eb('workspace', 'is', null));
        return parts.length ? eb.or(parts) : eb.val(false);
      });
    }
    return q.execute();
  }

  /** Walks the chain in order and names the first record that does not hold. */
  async verify(pageSize = 5000): Promise<AuditVerdict> {
    const t = tables<AccessTables>(this.db);
    let prev = GENESIS;
    let expectedSeq = 1;
    let checked = 0;
    for (;;) {
      const rows = await t.selectFrom('audit_log').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(pageSize).execute();
      for (const r of rows) {
        const seq = Number(r.seq);
        const bad = (reason: string): AuditVerdict => ({ ok: false, checked, firstBad: { seq, reason } });
        if (seq !== expectedSeq) return { ok: false, checked, firstBad: { seq: expectedSeq, reason: 'record missing' } };
        if (r.prev_hash !== prev) return bad('prev_hash does not match the previous record');
        if (recordHash(prev, { ...r, seq }) !== r.hash) return bad('content does not match its hash');
        prev = r.hash;
        expectedSeq++;
        checked++;
      }
      if (rows.length < pageSize) break;
    }
    const head = await t.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
    if (Number(head.seq) !== checked || head.hash !== prev) {
      return { ok: false, checked, firstBad: { seq: Number(head.seq), reason: 'chain head does not match the last record' } };
    }
    return { ok: true, checked };
  }
}
