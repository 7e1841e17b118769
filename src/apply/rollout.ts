import type { Ctx } from '../access/principal.js';
import { checkRollout, formatDuration, type RolloutPlan } from '../rollout/plan.js';
import type { RolloutCreate, Step } from '../rollout/schema.js';
import type { RolloutService } from '../rollout/service.js';
import type { RolloutView } from '../rollout/views.js';
import type { Serving } from '../serving/service.js';
import { Conflict, Invalid } from '../shared/errors.js';
import type { DeploymentSpec } from './deployment.js';
import type { EndpointSpec } from './endpoint.js';
import { optString, refuseUnknown, type Batch, type Doc, type KindHandler, type Step as PlanStep } from './engine.js';

/** A Rollout document: created and started when applied; a rollout is never edited, a new change is a new rollout. */
export interface RolloutSpec {
  workspace: string;
  input: RolloutCreate;
  plan: RolloutPlan;
}

const FIELDS = ['name', 'workspace', 'endpoint', 'candidate', 'stable', 'steps', 'plan', 'gates', 'retireStable', 'drain'];

/** Steps in one key order with sorted gates, so equal plans compare equal. */
function stepsKey(steps: Step[]): string {
  return JSON.stringify(
    steps.map((s) => [s.shadow ?? null, s.traffic ?? null, s.duration ?? null, s.minRequests ?? null, Object.entries(s.gates ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))]),
  );
}

/** The fields of a document that differ from the rollout as it exists. */
function differences(p: RolloutPlan, cur: RolloutView): string[] {
  const out: string[] = [];
  if (p.endpoint !== cur.endpoint) out.push('endpoint');
  if (p.candidate !== cur.candidate) out.push('candidate');
  if (p.stable !== null && p.stable !== cur.stable) out.push('stable');
  if (stepsKey(p.steps) !== stepsKey(cur.steps)) out.push('steps');
  if (p.retireStable !== cur.retireStable) out.push('retireStable');
  if (p.drainMs !== cur.drainMs) out.push('drain');
  return out;
}

/** A dry run already refuses a rollout of an endpoint or deployment that exists neither on the server nor in the file. */
async function checkTargets(ctx: Ctx, serving: Serving, p: RolloutSpec, batch: Batch): Promise<void> {
  const { endpoint, candidate, stable } = p.plan;
  const cur = await serving.endpoints.find(ctx, p.workspace, endpoint);
  if (!cur && !batch.of<EndpointSpec>('Endpoint').some((e) => e.name === endpoint && e.workspace === p.workspace)) {
    throw Invalid.field('endpoint', `no endpoint '${endpoint}' in workspace '${p.workspace}' nor in this file`);
  }
  const names = new Set([...(cur?.deployments.map((d) => d.name) ?? []), ...batch.of<DeploymentSpec>('Deployment').filter((d) => d.endpoint === endpoint).map((d) => d.name)]);
  for (const [field, d] of [['candidate', candidate], ['stable', stable]] as const) {
    if (d !== null && !names.has(d)) throw Invalid.field(field, `names no deployment of endpoint '${endpoint}' on the server or in this file (known: ${[...names].join(', ') || 'none'})`);
  }
}

export function rolloutHandler(rollouts: RolloutService, serving: Serving): KindHandler<RolloutSpec> {
  return {
    kind: 'Rollout',
    permission: 'endpoint.deploy',
    parse(doc: Doc): RolloutSpec {
      refuseUnknown(doc, FIELDS);
      const { kind: _k, workspace: _w, ...input } = doc;
      return { workspace: optString(doc, 'workspace') ?? 'default', input: input as unknown as RolloutCreate, plan: checkRollout(input as unknown as RolloutCreate) };
    },
    key: (p) => `${p.workspace}/${p.plan.name}`,
    async plan(ctx: Ctx, p: RolloutSpec, batch: Batch): Promise<PlanStep> {
      const cur = await rollouts.find(ctx, p.workspace, p.plan.name);
      const row = { kind: 'Rollout', workspace: p.workspace, name: p.plan.name };
      if (!cur) {
        await checkTargets(ctx, serving, p, batch);
        // After Deployments (20) and Endpoint traffic (30): the rollout starts from the routing the same file sets.
        return { row: { ...row, action: 'create', changes: ['endpoint', 'candidate', 'steps'] }, ops: [{ phase: 40, run: async (c) => void (await rollouts.create(c, p.workspace, { ...p.input, start: true })) }] };
      }
      const changes = differences(p.plan, cur);
      if (changes.length) throw new Conflict(`rollout '${p.plan.name}' exists (${cur.state}) with other ${changes.join(', ')}; a rollout is not edited: give the new change a new name`);
      return { row: { ...row, action: 'unchanged', changes: [] }, ops: [] };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      // Finished rollouts are history, not desired state: applied to a new server they would run again.
      const live = (await rollouts.list(ctx, workspace)).filter((r) => ['pending', 'running', 'paused'].includes(r.state));
      return live.map((r) => {
        const doc: Doc = { kind: 'Rollout', name: r.name, workspace, endpoint: r.endpoint, candidate: r.candidate };
        if (r.stable) doc.stable = r.stable;
        doc.steps = r.steps.map(({ index: _i, description: _d, status: _s, ...s }) => s);
        if (r.retireStable) doc.retireStable = true;
        doc.drain = formatDuration(r.drainMs);
        return doc;
      });
    },
  };
}
