import { Readable } from 'node:stream';
import { trainFromFile, checkSpec } from '../trainer/index.js';
import { Invalid } from '../../shared/errors.js';
import { dataset, datasetFile, logDatasetInput, obj, putRunArtifact } from './inputs.js';
import type { StepContext, StepOutputs } from './index.js';

/** Version tags the built-in steps write and read: what the model takes and predicts. */
export const TRAIN_TAGS = { features: 'slipway.train.features', label: 'slipway.train.label', task: 'slipway.train.task', classes: 'slipway.train.classes', dataset: 'slipway.source.dataset' };

/**
 * `train`: the built-in trainer on a dataset version. Params and holdout
 * metrics go to the step's tracking run, the ONNX file to its artifacts
 * (`model/model.onnx`), and with `model: NAME` it is registered as a new
 * version of NAME, linked to the run and tagged with its features, label and source dataset.
 */
export async function trainStep(s: StepContext): Promise<StepOutputs> {
  const data = await dataset(s, 'dataset');
  const raw = obj(s, 'spec');
  if (!raw) throw Invalid.field('with.spec', 'a trainer spec: task, algorithm, features, label (see README, Built-in trainer)');
  const spec = checkSpec(raw);
  const file = await datasetFile(s, data);
  await logDatasetInput(s, data, 'training');
  s.log(`training ${spec.algorithm} (${spec.task}) on ${data.meta.uri}: ${data.meta.rowCount} rows, features ${spec.features.join(', ')}`);
  const result = await trainFromFile(file, spec, data.meta.format);
  for (const [k, v] of Object.entries(result.metrics)) s.log(`${k} = ${v}`);
  const { tracking, registry } = s.deps;
  const runId = s.job.run_id;
  const out: StepOutputs = { ...result.metrics };
  if (runId) {
    const now = Date.now();
    await tracking.runs.logBatch(s.ctx, s.workspace, runId, {
      params: [
        { key: 'algorithm', value: spec.algorithm },
        { key: 'task', value: spec.task },
        { key: 'features', value: spec.features.join(',') },
        { key: 'label', value: spec.label },
        { key: 'dataset', value: data.meta.uri },
        ...Object.entries(spec.params ?? {}).map(([k, v]) => ({ key: k, value: String(v) })),
      ],
      metrics: Object.entries(result.metrics).map(([key, value]) => ({ key, value, timestamp: now, step: 0 })),
      tags: [],
    });
    const artifact = await putRunArtifact(s, 'model/model.onnx', result.onnx, 'application/octet-stream');
    out.runId = runId;
    if (artifact) out.artifact = artifact;
  }
  const name = s.with.model;
  if (name !== undefined) {
    if (typeof name !== 'string' || !name) throw Invalid.field('with.model', 'the name of the model to register the trained version under');
    const v = await registry.uploads.register(s.ctx, s.workspace, { name, format: 'onnx', filename: 'model.onnx', body: Readable.from([result.onnx]), runId: runId ?? undefined });
    const tags: Record<string, string> = {
      [TRAIN_TAGS.features]: JSON.stringify(result.features),
      [TRAIN_TAGS.label]: spec.label,
      [TRAIN_TAGS.task]: spec.task,
      [TRAIN_TAGS.dataset]: data.meta.uri,
      ...(result.classes ? { [TRAIN_TAGS.classes]: JSON.stringify(result.classes) } : {}),
    };
    for (const [k, v2] of Object.entries(tags)) await registry.versions.setTag(s.ctx, s.workspace, name, v.version, k, v2);
    s.log(`registered models:/${name}/${v.version}`);
    out.model = `models:/${name}/${v.version}`;
    out.version = v.version;
  }
  return out;
}
