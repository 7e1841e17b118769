import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Access } from '../access/service.js';
import type { BatchService } from '../batch/service.js';
import type { Ctx } from '../access/principal.js';
import { newToken } from '../access/tokens.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { Tracking } from '../tracking/service.js';
import { artifactKey, pathOfUri } from '../tracking/artifacts.js';
import type { RunStatus } from '../tracking/model.js';
import type { JobsConfig } from './config.js';
import { materialiseInputs, registerOutputs, type IoDeps } from './io.js';
import { AttemptLog } from './logs.js';
import { runCommand, type CommandResult } from './runners/command.js';
import { runStep, type StepJobSpec } from './steps/index.js';
import { backoff, priceOf, trackingUri, type JobSpec } from './spec.js';
import type { JobStore } from './store.js';
import type { AttemptOutcome, JobRow, Usage } from './tables.js';

export interface AttemptDeps extends IoDeps {
  store: JobStore;
  access: Access;
  tracking: Tracking;
  artifacts: ArtifactStore;
  config: JobsConfig;
  /** Where working directories go (`<data-dir>/jobs`). */
  workRoot: string;
  /** The minimal environment every child starts from (src/config.ts childEnv). */
  childEnv: Record<string, string>;
  serverUrl?: string;
  /** Batch runs, for the batch-score step. */
  batch?: BatchService;
  worker: string;
  log: (msg: string) => void;
}

/** Why an attempt was stopped from outside: the submitter cancelled, it ran out of time, another worker took it over, or this worker is shutting down. */
export type StopReason = 'cancelled' | 'timeout' | 'lost' | 'released';

const TOKEN_SLACK_MS = 3_600_000;
const DEFAULT_TOKEN_MS = 24 * 3_600_000;

/** The submitter as a service call context: the job acts with exactly their rights. */
async function submitter(access: Access, job: JobRow): Promise<Ctx> {
  const p = await access.store.principalById(job.principal_id);
  if (!p || p.kind === 'group') throw new Error(`the submitter (principal ${job.principal_id}) no longer exists`);
  const principal = { id: Number(p.id), name: p.name, kind: p.kind, isAdmin: p.is_admin, groupIds: await access.store.groupIdsOf(Number(p.id)) };
  return { principal, requestId: `job-${job.id}-${job.attempt}` };
}

/**
 * One attempt of one claimed job, start to finish: a short-lived token for
 * the submitter, the tracking run marked RUNNING, inputs materialised, the
 * command run with heartbeats (cancel and lease loss seen there) and a
 * timeout, logs archived to the run, outputs registered, and the outcome
 * written only if this worker still owns the attempt.
 */
export class Attempt {
  private readonly abort = new AbortController();
  private reason: StopReason | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly d: AttemptDeps,
    readonly job: JobRow,
  ) {
    this.done = this.run().catch((e) => d.log(`job ${job.id} attempt ${job.attempt}: ${(e as Error).message}`));
  }

  /** Stops the command from outside; the first reason given wins. */
  stop(reason: StopReason): void {
    this.reason ??= reason;
    // The reason travels with the signal: a built-in step tells a cancel from a lost lease (batch-score stops its run only on the first).
    this.abort.abort(this.reason);
  }

  private heartbeats(): NodeJS.Timeout {
    const { store, config, worker } = this.d;
    const every = Math.min(config.leaseMs / 3, 2000);
    return setInterval(() => {
      store.heartbeat(this.job.id, this.job.attempt, worker, Date.now() + config.leaseMs).then(
        (r) => {
          if (!r) this.stop('lost');
          else if (r.cancel) this.stop('cancelled');
        },
        () => undefined, // a store hiccup: the lease covers a few missed beats
      );
    }, every);
  }

  /** The attempt's spec, workspace and fresh directories; a failure here fails the attempt at once instead of waiting out its lease. */
  private async prepare(): Promise<{ spec: JobSpec; workspace: string; base: string; cwd: string }> {
    const { d, job } = this;
    const spec = JSON.parse(job.spec) as JobSpec;
    const workspace = await d.store.workspaceName(job.workspace_id);
    const base = join(d.workRoot, `${job.id}-${job.attempt}`);
    const cwd = join(base, 'work');
    await rm(base, { recursive: true, force: true });
    await mkdir(cwd, { recursive: true });
    return { spec, workspace, base, cwd };
  }

  private async run(): Promise<void> {
    const { d, job } = this;
    let prepared: Awaited<ReturnType<Attempt['prepare']>>;
    try {
      prepared = await this.prepare();
    } catch (e) {
      const error = `could not prepare the attempt: ${(e as Error).message}`;
      d.log(`job ${job.id} attempt ${job.attempt}: ${error}`);
      await d.store.appendLogs([{ job_id: job.id, attempt: job.attempt, at: Date.now(), stream: 'system', line: error }]).catch(() => undefined);
      return this.finish('failed', undefined, error, undefined, '');
    }
    const { spec, workspace, base, cwd } = prepared;
    const log = new AttemptLog(d.store, job.id, job.attempt, base);
    log.note(`attempt ${job.attempt} started on ${d.worker}`);
    const beat = this.heartbeats();
    const timeout = job.timeout_ms === null ? undefined : setTimeout(() => this.stop('timeout'), job.timeout_ms);
    let ctx: Ctx | undefined;
    let tokenId: string | undefined;
    let result: CommandResult | undefined;
    let error = '';
    try {
      ctx = await submitter(d.access, job);
      const token = newToken();
      tokenId = token.id;
      const expires = new Date(Date.now() + (job.timeout_ms ?? DEFAULT_TOKEN_MS) + TOKEN_SLACK_MS);
      await d.access.store.insertToken(d.store.db, { id: token.id, principal_id: job.principal_id, hash: token.hash, description: `job ${job.id} attempt ${job.attempt}`, expires_at: expires });
      if (job.run_id) await this.markRunning(ctx, workspace, job.run_id);
      const inputs = await materialiseInputs(d, ctx, workspace, spec, join(base, 'work'));
      const env = { ...d.childEnv, ...spec.env, ...inputs, ...this.platformEnv(workspace, token.secret) };
      // Built-in steps (src/jobs/steps) run here in the worker, under the same lease, log and outcome.
      if (job.kind !== 'command') result = await runStep({ deps: d, ctx, workspace, job, spec: spec as unknown as StepJobSpec, cwd, log: (l) => log.line('stdout', l), signal: this.abort.signal });
      else result = await runCommand({
        command: spec.command,
        cwd,
        env,
        signal: this.abort.signal,
        // Read when the kill happens: a worker shutting down releases the job quickly.
        killGraceMs: () => (this.reason === 'released' ? Math.min(d.config.killGraceMs, 1000) : d.config.killGraceMs),
        onLine: (s, l) => log.line(s, l),
        onStart: (pid, start) => void d.store.updateAttempt(d.store.db, job.id, job.attempt, { pid, pid_start: start }).catch(() => undefined),
      });
      if (result.spawnError) error = `could not start ${spec.command[0]}: ${result.spawnError}`;
      else if (result.exitCode === 0 && !this.reason && Object.keys(spec.outputs).length) {
        for (const note of await registerOutputs(d, ctx, workspace, spec, cwd, job.run_id)) log.note(note);
      }
    } catch (e) {
      error = (e as Error).message;
    } finally {
      clearInterval(beat);
      clearTimeout(timeout);
    }
    if (error) log.note(error);
    const outcome = this.outcome(result, error);
    log.note(this.describe(outcome, result));
    await log.close();
    if (ctx && job.run_id) await this.archive(ctx, workspace, job.run_id, base).catch((e) => d.log(`job ${job.id}: archiving logs failed: ${(e as Error).message}`));
    try {
      await this.finish(outcome, result, error, ctx, workspace);
    } finally {
      // Even when recording the outcome failed, the attempt's token and files must not outlive it.
      if (tokenId) await d.access.store.revokeToken(d.store.db, tokenId, new Date()).catch(() => undefined);
      await rm(base, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private platformEnv(workspace: string, token: string): Record<string, string> {
    const { d, job } = this;
    const server = d.serverUrl;
    return {
      ...(server ? { MLFLOW_TRACKING_URI: trackingUri(server, workspace), SLIPWAY_URL: server } : {}),
      MLFLOW_TRACKING_TOKEN: token,
      SLIPWAY_TOKEN: token,
      ...(job.run_id ? { MLFLOW_RUN_ID: job.run_id } : {}),
      ...(job.experiment_id !== null ? { MLFLOW_EXPERIMENT_ID: String(job.experiment_id) } : {}),
      SLIPWAY_WORKSPACE: workspace,
      SLIPWAY_JOB_ID: String(job.id),
      SLIPWAY_JOB_ATTEMPT: String(job.attempt),
    };
  }

  /** The run shows each attempt: a tag with the current one and a metric point per attempt (its history is the retries). */
  private async markRunning(ctx: Ctx, workspace: string, runId: string): Promise<void> {
    const { tracking } = this.d;
    const now = Date.now();
    await tracking.runs.logBatch(ctx, workspace, runId, {
      metrics: [{ key: 'slipway.job.attempt', value: this.job.attempt, timestamp: now, step: this.job.attempt }],
      params: [],
      tags: [
        { key: 'slipway.job.id', value: String(this.job.id) },
        { key: 'slipway.job.attempt', value: String(this.job.attempt) },
      ],
    });
    await tracking.runs.update(ctx, workspace, runId, { status: 'RUNNING' });
  }

  /** The attempt's full stdout and stderr as run artifacts under `slipway-job/attempt-N/`. */
  private async archive(ctx: Ctx, workspace: string, runId: string, base: string): Promise<void> {
    const run = await this.d.tracking.reads.get(ctx, workspace, runId);
    const path = pathOfUri(run.info.artifactUri);
    if (path === null) return;
    for (const f of ['stdout.log', 'stderr.log']) {
      await this.d.artifacts.put(artifactKey(`${path}/slipway-job/attempt-${this.job.attempt}/${f}`), createReadStream(join(base, f)), { contentType: 'text/plain' });
    }
  }

  private outcome(result: CommandResult | undefined, error: string): AttemptOutcome {
    if (this.reason === 'lost' || this.reason === 'released' || this.reason === 'cancelled') return this.reason;
    if (this.reason === 'timeout') return 'timeout';
    return !error && result?.exitCode === 0 ? 'succeeded' : 'failed';
  }

  private describe(outcome: AttemptOutcome, r: CommandResult | undefined): string {
    const how = r ? (r.exitCode !== null ? `exit code ${r.exitCode}` : r.signal ? `ended by ${r.signal}` : 'did not start') : 'did not start';
    const limit = outcome === 'timeout' ? ` after the timeout of ${Math.round((this.job.timeout_ms ?? 0) / 1000)}s` : '';
    return `attempt ${this.job.attempt} ${outcome}${limit}: ${how}${r ? `, ${(r.wallMs / 1000).toFixed(2)}s wall, ${r.cpuSeconds.toFixed(2)} CPU-s` : ''}`;
  }

  /** Writes the outcome if this worker still owns the attempt (a reclaimed one belongs to another worker now). */
  private async finish(outcome: AttemptOutcome, r: CommandResult | undefined, error: string, ctx: Ctx | undefined, workspace: string): Promise<void> {
    const { d, job } = this;
    if (outcome === 'lost') return;
    const cls = d.config.classes[job.resource_class] ?? d.config.classes.small;
    const usage: Usage = { cpuSeconds: r?.cpuSeconds ?? 0, wallMs: r?.wallMs ?? 0, peakRssBytes: r?.peakRssBytes ?? 0, cost: priceOf(cls, r?.wallMs ?? 0) };
    const now = Date.now();
    const runStatus = await d.store.db.transaction().execute(async (tx) => {
      const cur = await d.store.lockOwned(tx, job.id, job.attempt, d.worker);
      if (!cur) return null;
      const failed = outcome === 'failed' || outcome === 'timeout';
      const failures = cur.failures + (failed ? 1 : 0);
      const retry = failed && failures <= cur.max_retries && !cur.cancel_requested;
      const state = outcome === 'released' || retry ? 'queued' : outcome === 'succeeded' ? 'succeeded' : outcome === 'cancelled' ? 'cancelled' : 'failed';
      const delay = retry ? backoff(d.config.backoffMs, failures) : 0;
      await d.store.updateAttempt(tx, job.id, job.attempt, { outcome, finished_at: now, exit_code: r?.exitCode ?? null, error, cpu_seconds: usage.cpuSeconds, wall_ms: usage.wallMs, peak_rss_bytes: usage.peakRssBytes, cost: usage.cost });
      await d.store.update(tx, job.id, {
        state,
        failures,
        lease_owner: null,
        lease_expires_at: null,
        run_after: now + delay,
        exit_code: r?.exitCode ?? null,
        error: error || (outcome === 'timeout' ? `timed out after ${Math.round((job.timeout_ms ?? 0) / 1000)}s` : outcome === 'cancelled' ? cur.error : ''),
        finished_at: state === 'queued' ? null : now,
        cpu_seconds: cur.cpu_seconds + usage.cpuSeconds,
        wall_ms: cur.wall_ms + usage.wallMs,
        peak_rss_bytes: Math.max(cur.peak_rss_bytes, usage.peakRssBytes),
        cost: Math.round((cur.cost + usage.cost) * 1e12) / 1e12,
        updated_at: now,
      });
      if (retry) await d.store.appendLogs([{ job_id: job.id, attempt: job.attempt, at: now, stream: 'system', line: `retrying in ${(delay / 1000).toFixed(1)}s (retry ${failures} of ${cur.max_retries})` }], tx);
      const statusOf: Record<string, RunStatus> = { queued: 'SCHEDULED', succeeded: 'FINISHED', cancelled: 'KILLED', failed: 'FAILED' };
      return statusOf[state];
    });
    if (runStatus && ctx && job.run_id) {
      const end = runStatus === 'SCHEDULED' ? {} : { endTime: now };
      await d.tracking.runs.update(ctx, workspace, job.run_id, { status: runStatus, ...end }).catch((e) => d.log(`job ${job.id}: run status: ${(e as Error).message}`));
    }
  }
}
