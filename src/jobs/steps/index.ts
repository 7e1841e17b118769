import { sql } from 'kysely';
import type { Ctx } from '../../access/principal.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import type { Authorizer } from '../../access/authorizer.js';
import type { BatchService } from '../../batch/service.js';
import type { Db } from '../../store/db.js';
import type { Tracking } from '../../tracking/service.js';
import type { IoDeps } from '../io.js';
import type { CommandResult } from '../runners/command.js';
import type { JobRow } from '../tables.js';
import { batchScoreStep } from './batch-score.js';
import { compareStep } from './compare.js';
import { evaluateStep } from './evaluate.js';
import { registerStep, setAliasStep } from './models.js';
import { trainStep } from './train.js';
import { validateStep } from './validate.js';

/**
 * Built-in steps: job kinds run in the worker's own process by the same
 * queue, leases and attempts as `command` jobs. A step reads `with` (its
 * inputs with every reference already resolved to a concrete version),
 * writes notes to the job's log, and answers its outputs, kept in
 * `job_results` for the pipeline that scheduled it. A step fails by throwing;
 * the message is the job's error.
 *
 * A new built-in (`batch-score` with batch endpoints) is one file and one line in `steps` below.
 */
export interface StepDeps extends IoDeps {
  tracking: Tracking;
  artifacts: ArtifactStore;
  authz?: Authorizer;
  store: { db: Db };
  batch?: BatchService;
}

export interface StepContext {
  deps: StepDeps;
  ctx: Ctx;
  workspace: string;
  job: JobRow;
  with: Record<string, unknown>;
  /** The attempt's working directory (removed afterwards). */
  cwd: string;
  log(line: string): void;
  signal: AbortSignal;
}

export type StepOutputs = Record<string, string | number | boolean>;
export type StepRunner = (s: StepContext) => Promise<StepOutputs>;

export const steps: Record<string, StepRunner> = {
  'validate-data': validateStep,
  train: trainStep,
  evaluate: evaluateStep,
  compare: compareStep,
  register: registerStep,
  'set-alias': setAliasStep,
  'batch-score': batchScoreStep,
};

/** What a step job's `spec` holds besides the command fields every job has. */
export interface StepJobSpec {
  step: { uses: string; with: Record<string, unknown> };
}

/** Runs a built-in step job as an attempt would run its command; a thrown error fails the attempt. */
export async function runStep(s: Omit<StepContext, 'with'> & { spec: StepJobSpec }): Promise<CommandResult> {
  const run = steps[s.job.kind];
  if (!run) throw new Error(`unknown job kind '${s.job.kind}'`);
  const started = Date.now();
  const cpu = process.cpuUsage();
  const outputs = await run({ ...s, with: s.spec.step.with });
  if (s.signal.aborted) return { exitCode: null, signal: 'SIGTERM', wallMs: Date.now() - started, cpuSeconds: 0, peakRssBytes: 0 };
  await saveResult(s.deps.store.db, s.job.id, outputs);
  const used = process.cpuUsage(cpu);
  return { exitCode: 0, signal: null, wallMs: Date.now() - started, cpuSeconds: (used.user + used.system) / 1e6, peakRssBytes: process.memoryUsage().rss };
}

async function saveResult(db: Db, jobId: number, outputs: StepOutputs): Promise<void> {
  const text = JSON.stringify(outputs);
  await sql`insert into job_results (job_id, outputs) values (${jobId}, ${text}) on conflict (job_id) do update set outputs = excluded.outputs`.execute(db);
}

export async function readResult(db: Db, jobId: number): Promise<StepOutputs | null> {
  const r = await sql<{ outputs: string }>`select outputs from job_results where job_id = ${jobId}`.execute(db);
  return r.rows[0] ? (JSON.parse(r.rows[0].outputs) as StepOutputs) : null;
}
