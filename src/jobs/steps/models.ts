import { modelVersion, str } from './inputs.js';
import { TRAIN_TAGS } from './train.js';
import type { StepContext, StepOutputs } from './index.js';

/**
 * `register`: a file or directory another step produced (`runs:/RUN/PATH`,
 * or any source the registry takes) as a new version of `model`, linked to
 * the run that wrote it (else this step's run) and tagged with `dataset`.
 */
export async function registerStep(s: StepContext): Promise<StepOutputs> {
  const name = str(s, 'model');
  const source = str(s, 'source');
  const { registry } = s.deps;
  const v = await registry.versions.create(s.ctx, s.workspace, { name, source, runId: source.startsWith('runs:/') ? undefined : (s.job.run_id ?? undefined) }, { createModel: true });
  if (typeof s.with.dataset === 'string') await registry.versions.setTag(s.ctx, s.workspace, name, v.version, TRAIN_TAGS.dataset, s.with.dataset);
  if (typeof s.with.alias === 'string') await registry.versions.setAlias(s.ctx, s.workspace, name, s.with.alias, v.version);
  s.log(`registered models:/${name}/${v.version} from ${source}`);
  return { model: `models:/${name}/${v.version}`, version: v.version };
}

/** `set-alias`: points `alias` (`champion` by default) at a model version. */
export async function setAliasStep(s: StepContext): Promise<StepOutputs> {
  const v = await modelVersion(s, str(s, 'model'), 'with.model');
  const alias = str(s, 'alias', 'champion').replace(/^@/, '');
  await s.deps.registry.versions.setAlias(s.ctx, s.workspace, v.name, alias, v.version);
  s.log(`models:/${v.name}@${alias} → version ${v.version}`);
  return { model: `models:/${v.name}/${v.version}`, alias };
}
