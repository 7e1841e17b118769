import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InferenceSession } from 'onnxruntime-node';
import { parseDatasetUri } from '../../datasets/names.js';
import type { DatasetVersionHandle } from '../../datasets/handle.js';
import { parseModelRef } from '../../serving/endpoints.rules.js';
import { Invalid } from '../../shared/errors.js';
import { artifactKey, pathOfUri } from '../../tracking/artifacts.js';
import type { VersionView } from '../../registry/views.js';
import type { StepContext } from './index.js';

/** Reading a step's `with`: typed fields with errors naming them, and the datasets and models they name. */
export function str(s: StepContext, key: string, dflt?: string): string {
  const v = s.with[key] ?? dflt;
  if (typeof v !== 'string' || !v) throw Invalid.field(`with.${key}`, 'a non-empty string');
  return v;
}

export function obj(s: StepContext, key: string): Record<string, unknown> | undefined {
  const v = s.with[key];
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw Invalid.field(`with.${key}`, 'a map');
  return v as Record<string, unknown>;
}

export async function dataset(s: StepContext, key: string): Promise<DatasetVersionHandle> {
  const ref = parseDatasetUri(str(s, key), `with.${key}`);
  await s.deps.authz?.authorize(s.ctx, 'workspace.read', s.workspace);
  return s.deps.datasets.datasetVersion(s.workspace, ref.name, ref.version);
}

/** A dataset version's file, copied into the working directory. */
export async function datasetFile(s: StepContext, h: DatasetVersionHandle): Promise<string> {
  const dir = join(s.cwd, 'inputs', `${h.meta.dataset}-${h.meta.version}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, basename(h.meta.filename));
  await pipeline(await h.content(), createWriteStream(file));
  return file;
}

export async function modelVersion(s: StepContext, uri: string, field: string): Promise<VersionView> {
  const ref = parseModelRef(uri, field);
  return ref.version !== undefined ? s.deps.registry.reads.get(s.ctx, s.workspace, ref.name, ref.version) : s.deps.registry.reads.byAlias(s.ctx, s.workspace, ref.name, ref.alias!);
}

/** The ONNX graph of a model version, loaded in onnxruntime. */
export async function modelSession(s: StepContext, v: VersionView): Promise<InferenceSession> {
  const files = await s.deps.registry.reads.files(s.ctx, s.workspace, v.name, v.version);
  const onnx = files.find((f) => f.path.endsWith('.onnx'));
  if (!onnx) throw Invalid.field('with.model', `a model version with an .onnx file; models:/${v.name}/${v.version} has none`);
  const { stream } = await s.deps.registry.reads.readFile(s.ctx, s.workspace, v.name, v.version, onnx.path);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return InferenceSession.create(Buffer.concat(chunks));
}

export const tagOf = (v: VersionView, key: string): string | undefined => v.tags.find((t) => t.key === key)?.value;

/** Records a dataset version as an input of the step's run (MLflow dataset inputs), so a version's lineage names its data. */
export async function logDatasetInput(s: StepContext, h: DatasetVersionHandle, context: 'training' | 'evaluation' | 'validation'): Promise<void> {
  if (!s.job.run_id) return;
  const dataset = { name: h.meta.dataset, digest: h.meta.sha256, sourceType: 'slipway', source: h.meta.uri, schema: JSON.stringify(h.meta.schema) };
  await s.deps.tracking.runs.logInputs(s.ctx, s.workspace, s.job.run_id, [{ tags: [{ key: 'mlflow.data.context', value: context }], dataset }], []);
}

/** Writes a file into the step's run artifacts (under the run's artifact root); answers its `runs:/` URI, or null without a run. */
export async function putRunArtifact(s: StepContext, path: string, body: Buffer, contentType: string): Promise<string | null> {
  if (!s.job.run_id) return null;
  const run = await s.deps.tracking.reads.get(s.ctx, s.workspace, s.job.run_id);
  const root = pathOfUri(run.info.artifactUri);
  if (root === null) return null;
  await s.deps.artifacts.put(artifactKey(`${root}/${path}`), body, { contentType });
  return `runs:/${s.job.run_id}/${path}`;
}
