import type { Insertable } from 'kysely';
import type { Ctx } from '../access/principal.js';
import { isSlipwayError } from '../shared/errors.js';
import type { Tracking } from '../tracking/service.js';
import type { CheckedJob } from './spec.js';
import type { JobTable } from './tables.js';

/** What a new job row needs besides its checked definition: where it lives, its tracking run and who submits it. */
export interface Submission {
  workspaceId: number;
  experimentId: string;
  runId: string;
  ctx: Ctx;
  now: number;
}

/** The row of a job just submitted (a command, or a pipeline's built-in step): queued, unclaimed, due now. */
export function queuedJobRow(job: Omit<CheckedJob, 'kind' | 'spec'> & { kind: string; spec: unknown }, s: Submission): Insertable<JobTable> {
  return {
    workspace_id: s.workspaceId,
    name: job.name,
    kind: job.kind,
    spec: JSON.stringify(job.spec),
    state: 'queued',
    priority: job.priority,
    max_retries: job.maxRetries,
    timeout_ms: job.timeoutMs,
    resource_class: job.resourceClass,
    run_after: s.now,
    lease_owner: null,
    lease_expires_at: null,
    exit_code: null,
    started_at: null,
    finished_at: null,
    experiment_id: Number(s.experimentId),
    run_id: s.runId,
    principal_id: s.ctx.principal.id,
    created_by: s.ctx.principal.name,
    created_at: s.now,
    updated_at: s.now,
  };
}

/** The id of a job's experiment, created on first use (a concurrent creator wins harmlessly). */
export async function jobExperiment(tracking: Tracking, ctx: Ctx, workspace: string, name: string): Promise<string> {
  const find = () => tracking.experiments.getByName(ctx, workspace, name).then((e) => e.experimentId);
  try {
    return await find();
  } catch (e) {
    if (!isSlipwayError(e) || e.code !== 'not_found') throw e;
  }
  try {
    return await tracking.experiments.create(ctx, workspace, { name });
  } catch (e) {
    if (isSlipwayError(e) && e.code === 'conflict') return find();
    throw e;
  }
}
