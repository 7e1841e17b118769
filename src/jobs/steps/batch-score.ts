import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchRunView } from '../../batch/views.js';
import { Invalid, isSlipwayError } from '../../shared/errors.js';
import { obj, str } from './inputs.js';
import type { StepContext, StepOutputs } from './index.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 250;

/** Waits, or less when the attempt stops; its abort listener goes with it (one per poll would pile up for hours). */
const pause = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, undefined, { signal }).catch(() => undefined);

/** Stops the run too when the attempt was cancelled or timed out; a lost or released attempt leaves it to the next one (runOfJob). */
async function stopRun(s: StepContext, endpoint: string, run: BatchRunView): Promise<void> {
  const reason = s.signal.reason as unknown;
  if (reason !== 'cancelled' && reason !== 'timeout') return;
  await s.deps.batch!.cancel(s.ctx, s.workspace, endpoint, run.id).then(
    () => s.log(`batch run ${run.id} cancelled with its step (${reason})`),
    (e) => (isSlipwayError(e) && e.code === 'conflict' ? undefined : s.log(`batch run ${run.id} could not be cancelled: ${(e as Error).message}`)),
  );
}

const progress = (r: BatchRunView) => `${r.progress.rows.done}/${r.progress.rows.total ?? '?'} rows, ${r.progress.rows.failed} failed`;

/**
 * `batch-score`: a run of a batch endpoint on a dataset version (`with`:
 * endpoint, input, and optionally model, output, miniBatchRows, parallelism,
 * errorThreshold, features). The run's mini-batches are scored by every
 * worker's batch loop; this step starts it (or, on a retried attempt, finds
 * the one its job started), follows it, and answers the output version.
 */
export async function batchScoreStep(s: StepContext): Promise<StepOutputs> {
  const batch = s.deps.batch;
  if (!batch) throw new Error('batch scoring is not wired into this worker');
  const endpoint = str(s, 'endpoint');
  const input = str(s, 'input');
  const model = s.with.model === undefined ? undefined : str(s, 'model');
  const threshold = obj(s, 'errorThreshold');
  const num = (k: string) => {
    const v = s.with[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw Invalid.field(`with.${k}`, 'a whole number above 0');
    return v as number | undefined;
  };
  let run = await batch.runOfJob(s.job.id);
  if (run) s.log(`resuming batch run ${run.id} (${progress(run)})`);
  else {
    const output = s.with.output === undefined ? undefined : str(s, 'output');
    const features = s.with.features;
    if (features !== undefined && !(Array.isArray(features) && features.every((f) => typeof f === 'string' && f))) throw Invalid.field('with.features', 'a list of column names');
    run = await batch.startRun(s.ctx, s.workspace, endpoint, { input, output, miniBatchRows: num('miniBatchRows'), parallelism: num('parallelism'), errorThreshold: threshold, features }, { jobId: s.job.id, model });
    s.log(`started batch run ${run.id} of ${endpoint}: ${run.model} on ${run.input}`);
  }
  let tenth = -1;
  while (!FINAL.has(run.state)) {
    await pause(POLL_MS, s.signal);
    if (s.signal.aborted) {
      await stopRun(s, endpoint, run);
      return {};
    }
    run = await batch.run(s.ctx, s.workspace, endpoint, run.id);
    const t = run.progress.rows.total ? Math.floor((run.progress.rows.done / run.progress.rows.total) * 10) : -1;
    if (t > tenth) {
      tenth = t;
      s.log(`batch run ${run.id}: ${progress(run)}`);
    }
  }
  if (run.state !== 'succeeded') throw new Error(`batch run ${run.id} ${run.state}: ${run.error}`);
  s.log(`batch run ${run.id} wrote ${run.output ?? 'no rows'} (${progress(run)})`);
  return { run: run.id, output: run.output ?? '', rows: run.progress.rows.done, failedRows: run.progress.rows.failed };
}
