import { joinKey } from '../artifacts/index.js';
import type { Registry } from '../registry/registry.js';
import { onnxFlavorData } from '../registry/storage.js';
import type { FileRow } from '../registry/store.js';
import { Invalid } from '../shared/errors.js';
import type { Db } from '../store/db.js';
import { parseModelRef } from './endpoints.rules.js';

/** A model version as a deployment pins it: what the runtimes load, never re-resolved. */
export interface PinnedModel {
  ref: string;
  modelId: number;
  name: string;
  version: number;
  digest: string;
  /** ArtifactStore prefix of the version's immutable files. */
  storagePrefix: string;
  /** The ONNX graph's path under the prefix ('' when the version holds none, e.g. for process runtimes). */
  file: string;
}

/** Resolves `models:/…` references in a workspace; the caller has authorized the workspace. */
export interface ModelResolver {
  resolve(db: Db, workspaceId: number, ref: string, field?: string): Promise<PinnedModel>;
}

/** Resolution through the registry's own store functions (aliases, versions, files). */
export function registryResolver(registry: Registry): ModelResolver {
  const store = registry.models.store;
  return {
    async resolve(db, workspaceId, ref, field = 'model') {
      const r = parseModelRef(ref, field);
      // Locked: a version delete (which locks the model row too) cannot slip between resolving and pinning.
      const m = await store.model(workspaceId, r.name, db, true);
      if (!m) throw Invalid.field(field, `registered model '${r.name}' does not exist in this workspace`);
      let v;
      if (r.alias !== undefined) {
        const id = await store.aliasTarget(db, Number(m.id), r.alias);
        if (id === null) throw Invalid.field(field, `alias '${r.alias}' of model '${r.name}' does not exist`);
        v = (await store.versionsOf(db, [Number(m.id)])).find((x) => Number(x.id) === id);
      } else {
        v = await store.version(db, Number(m.id), r.version!);
      }
      if (!v) throw Invalid.field(field, `model '${r.name}' has no version ${r.version ?? `behind @${r.alias}`}`);
      if (v.status !== 'READY' || !v.digest) throw Invalid.field(field, `model '${r.name}' version ${v.version} is ${v.status}, not READY`);
      const files = await store.files(db, Number(v.id));
      const file = await modelFile(registry, v.storage_prefix, files);
      return { ref, modelId: Number(m.id), name: m.name, version: Number(v.version), digest: v.digest, storagePrefix: v.storage_prefix, file };
    },
  };
}

/** The ONNX graph of a version, found as the registry finds it: MLmodel's onnx flavor, else model.onnx, else a lone .onnx. */
async function modelFile(registry: Registry, prefix: string, files: FileRow[]): Promise<string> {
  const byPath = new Set(files.map((f) => f.path));
  const mlmodel = files.find((f) => f.path === 'MLmodel' || f.path.endsWith('/MLmodel'));
  if (mlmodel && mlmodel.size < 1024 * 1024) {
    const dir = mlmodel.path.slice(0, mlmodel.path.length - 'MLmodel'.length);
    const data = onnxFlavorData((await registry.models.storage.readAll(joinKey(prefix, mlmodel.path))).toString('utf8'));
    if (data && byPath.has(dir + data)) return dir + data;
  }
  const onnx = files.filter((f) => f.path.toLowerCase().endsWith('.onnx'));
  return (onnx.find((f) => f.path === 'model.onnx' || f.path.endsWith('/model.onnx')) ?? (onnx.length === 1 ? onnx[0] : undefined))?.path ?? '';
}
