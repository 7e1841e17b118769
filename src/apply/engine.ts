import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Authorizer } from '../access/authorizer.js';
import type { Action as Permission } from '../access/matrix.js';
import type { Ctx } from '../access/principal.js';
import { Invalid, isSlipwayError } from '../shared/errors.js';

export type Doc = Record<string, unknown> & { kind: string };
export type Action = 'create' | 'update' | 'unchanged' | 'delete';

/** One line of a plan: what applying a document does to one resource. */
export interface PlanRow {
  kind: string;
  workspace: string;
  name: string;
  action: Action;
  /** The fields that differ (for updates) or are set (for creates). */
  changes: string[];
}

/**
 * A write an apply runs. Phases order writes by dependency across kinds:
 * an Endpoint's own settings (10) before Deployments (20) before the
 * Endpoint's traffic that names them (30). Later kinds pick their own.
 */
export interface Op {
  phase: number;
  run(ctx: Ctx): Promise<void>;
}

export interface Step {
  row: PlanRow;
  ops: Op[];
}

/** What a handler may know of the other documents of the same apply (e.g. Deployments created alongside). */
export interface Batch<P = unknown> {
  docs: Array<{ kind: string; parsed: P }>;
  of<T>(kind: string): T[];
}

/** One kind of resource: parse a document, plan it against the current state, export the state back. */
export interface KindHandler<P = unknown> {
  kind: string;
  /** What creating or updating this kind needs in the document's workspace. */
  permission: Permission;
  /** Checks and normalises a document; throws Invalid naming the field (without the documents[i] prefix). */
  parse(doc: Doc): P;
  /** A key unique per resource, to refuse two documents for the same one. */
  key(p: P): string;
  plan(ctx: Ctx, p: P, batch: Batch): Promise<Step>;
  /** The workspace's resources as documents that apply cleanly (all unchanged). */
  export(ctx: Ctx, workspace: string): Promise<Doc[]>;
  /**
   * Deleting a resource the file no longer names (`--prune`). Kinds without it
   * are never pruned: a Rollout, say, is a record of a change, not desired state.
   * Phases run after every create and update, dependents first.
   */
  remove?: { phase: number; run(ctx: Ctx, p: P): Promise<void> };
  /** The resource's name in a plan row, when it is more than the document's `name` (a Deployment's `endpoint/name`). */
  label?(p: P): string;
}

export interface ApplyResult {
  dryRun: boolean;
  plan: PlanRow[];
}

/** Prefixes the fields of a client error with the document it came from. */
function inDocument(e: unknown, i: number, doc: Doc): unknown {
  if (!isSlipwayError(e) || e.code !== 'invalid') return e;
  const issues = (e as Invalid).issues ?? [];
  const label = `documents[${i}]`;
  const what = `${doc.kind}${typeof doc.name === 'string' ? ` ${doc.name}` : ''}`;
  return new Invalid(`${label} (${what}): ${e.message}`, issues.map((x) => ({ field: `${label}.${x.field}`, message: x.message })));
}

/** Declarative apply: plan every document first, then run the writes in dependency order. */
export class ApplyEngine {
  readonly #handlers = new Map<string, KindHandler>();

  constructor(private readonly authz: Authorizer) {}

  register<P>(h: KindHandler<P>): this {
    this.#handlers.set(h.kind, h as unknown as KindHandler);
    return this;
  }

  get kinds(): string[] {
    return [...this.#handlers.keys()];
  }

  async apply(ctx: Ctx, documents: Doc[], dryRun: boolean, prune = false): Promise<ApplyResult> {
    const parsed = documents.map((doc, i) => {
      const h = this.#handlers.get(doc.kind);
      if (!h) throw Invalid.field(`documents[${i}].kind`, `must be one of ${this.kinds.join(', ')}, got ${JSON.stringify(doc.kind)}`);
      try {
        return { kind: doc.kind, h, parsed: h.parse(doc), doc, i };
      } catch (e) {
        throw inDocument(e, i, doc);
      }
    });
    const seen = new Map<string, number>();
    for (const p of parsed) {
      const key = `${p.kind}/${p.h.key(p.parsed)}`;
      if (seen.has(key)) throw Invalid.field(`documents[${p.i}]`, `describes ${key} again (first in documents[${seen.get(key)}])`);
      seen.set(key, p.i);
    }
    const batch: Batch = { docs: parsed, of: <T>(kind: string) => parsed.filter((p) => p.kind === kind).map((p) => p.parsed as T) };
    const steps: Array<Step & { h: KindHandler }> = [];
    for (const p of parsed) {
      try {
        steps.push({ ...(await p.h.plan(ctx, p.parsed, batch)), h: p.h });
      } catch (e) {
        throw inDocument(e, p.i, p.doc);
      }
    }
    if (prune) steps.push(...(await this.pruneSteps(ctx, steps, new Set(seen.keys()))));
    if (!dryRun) {
      // Every write is authorized before the first runs: a missing permission must not leave half a file applied.
      const needed = new Set(steps.flatMap((s) => (s.ops.length ? [`${s.h.permission}\u0000${s.row.workspace}`] : [])));
      for (const n of needed) {
        const [permission, workspace] = n.split('\u0000');
        await this.authz.authorize(ctx, permission as Permission, workspace);
      }
      // Stable sort: documents keep their file order within a phase.
      const ops = steps.flatMap((s) => s.ops).sort((a, b) => a.phase - b.phase);
      for (const op of ops) await op.run(ctx);
    }
    return { dryRun, plan: steps.map((s) => s.row) };
  }

  /** Deletes for the resources of the file's kinds, in the workspaces it names, that no document describes. */
  private async pruneSteps(ctx: Ctx, planned: Array<Step & { h: KindHandler }>, described: Set<string>): Promise<Array<Step & { h: KindHandler }>> {
    const workspaces = [...new Set(planned.map((s) => s.row.workspace))];
    const handlers = [...new Set(planned.map((s) => s.h))].filter((h) => h.remove);
    const out: Array<Step & { h: KindHandler }> = [];
    for (const workspace of workspaces) {
      for (const h of handlers) {
        for (const doc of await h.export(ctx, workspace)) {
          const p = h.parse(doc);
          if (described.has(`${h.kind}/${h.key(p)}`)) continue;
          const remove = h.remove!;
          const name = h.label ? h.label(p) : String(doc.name);
          out.push({ h, row: { kind: h.kind, workspace, name, action: 'delete', changes: [] }, ops: [{ phase: remove.phase, run: (c) => remove.run(c, p) }] });
        }
      }
    }
    return out;
  }

  async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
    const out: Doc[] = [];
    for (const h of this.#handlers.values()) out.push(...(await h.export(ctx, workspace)));
    return out;
  }
}

/** Key order and absent keys do not make two documents' values differ. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

/** A document of a kind declared by a TypeBox schema (everything but `kind` and `workspace`); the first error names its field. */
export function schemaDocument<T>(schema: TSchema, doc: Doc): T & { workspace: string } {
  const { kind: _kind, workspace = 'default', ...rest } = doc;
  if (typeof workspace !== 'string') throw Invalid.field('workspace', 'a workspace name');
  const error = Value.Errors(schema, rest).First();
  if (error) throw Invalid.field(error.path.split('/').filter(Boolean).join('.') || 'document', error.message.toLowerCase());
  return { ...(rest as T), workspace };
}

/** The fields of `doc` other than `allowed`: a typo must not be applied as "unset". */
export function refuseUnknown(doc: Doc, allowed: string[]): void {
  for (const k of Object.keys(doc)) if (k !== 'kind' && !allowed.includes(k)) throw Invalid.field(k, `is not a field of ${doc.kind} (known: ${allowed.join(', ')})`);
}

export function optString(doc: Doc, field: string): string | undefined {
  const v = doc[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw Invalid.field(field, 'must be a non-empty string');
  return v;
}
