/** Loads a monitor's reference sample: a dataset version, the served version's training data, or a past production window. */
import type { Ctx } from '../access/principal.js';
import type { DatasetService } from '../datasets/service.js';
import type { Registry } from '../registry/registry.js';
import { Invalid } from '../shared/errors.js';
import type { Telemetry } from '../telemetry/service.js';
import type { CaptureView } from '../telemetry/views.js';
import { addRecord, emptySample, featureSample, outputSample, type Sample } from './data.js';
import type { Reference } from './spec.js';

export interface ReferenceDeps {
  datasets: DatasetService;
  registry: Registry;
  telemetry: Telemetry;
}

export interface LoadedReference {
  /** What was read: the dataset version's uri, or the production window. */
  source: string;
  features: Sample;
  /** Outputs, when the reference has them (production windows; dataset columns named like outputs). */
  outputs: Sample | null;
}

export async function datasetSample(deps: ReferenceDeps, workspace: string, name: string, version: number | 'latest'): Promise<{ uri: string; sample: Sample }> {
  const h = await deps.datasets.datasetVersion(workspace, name, version);
  const sample = emptySample();
  for (const c of h.meta.schema.columns) sample.types.set(c.name, c.type === 'integer' || c.type === 'number' ? 'numerical' : 'categorical');
  for await (const row of h.rows()) addRecord(sample, row);
  return { uri: h.meta.uri, sample };
}

export interface Served {
  workspace: string;
  model: string;
  version: number;
}

/** The dataset the served version was trained on: its run's first dataset input, matched to a stored version by digest. */
async function trainingSample(deps: ReferenceDeps, ctx: Ctx, served: Served | null): Promise<{ uri: string; sample: Sample }> {
  if (!served) throw Invalid.field('reference', "'training' needs a deployment serving a registered model version");
  const lineage = await deps.registry.reads.lineage(ctx, served.workspace, served.model, served.version);
  const input = lineage.datasets[0];
  if (!input) throw Invalid.field('reference', `'training': model ${served.model} version ${served.version} has no training run with a dataset input`);
  const d = await deps.datasets.get(ctx, served.workspace, input.name);
  const match = d.versions.find((v) => v.sha256 === input.digest || v.uri === input.source) ?? null;
  if (!match) throw Invalid.field('reference', `'training': no stored version of dataset ${input.name} has digest ${input.digest}`);
  return datasetSample(deps, served.workspace, input.name, match.version);
}

export async function loadReference(deps: ReferenceDeps, ctx: Ctx, ref: Reference, o: { workspace: string; endpoint: string; now: number; served: Served | null; filter: (c: CaptureView) => boolean }): Promise<LoadedReference> {
  if (ref.kind === 'production') {
    const from = o.now - ref.fromAgoMs;
    const to = o.now - ref.toAgoMs;
    const captures = (await deps.telemetry.captureWindow(o.endpoint, from, to)).filter(o.filter);
    return { source: `production:${new Date(from).toISOString()}..${new Date(to).toISOString()}`, features: featureSample(captures).sample, outputs: outputSample(captures) };
  }
  const { uri, sample } = ref.kind === 'dataset' ? await datasetSample(deps, o.workspace, ref.name, ref.version) : await trainingSample(deps, ctx, o.served);
  return { source: uri, features: sample, outputs: sample };
}
