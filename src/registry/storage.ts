import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { joinKey, validateKey, type ArtifactStore } from '../artifacts/index.js';
import { Invalid } from '../shared/errors.js';
import { readOnnxSignature, type Signature } from './onnx.js';
import type { FileRow } from './store.js';

/** The registry's own storage root inside the ArtifactStore. */
export const REGISTRY_ROOT = 'registry';
/** onnxruntime needs the whole graph in memory; bigger files are stored but not introspected. */
const MAX_SIGNATURE_BYTES = 2 * 1024 ** 3;

/** `registry/<workspace>/<model id>/<version>`: ids, not names, so a rename moves nothing. */
export function versionPrefix(workspace: string, modelId: number, version: number): string {
  return joinKey(REGISTRY_ROOT, workspace, String(modelId), String(version));
}

/** sha256 over the sorted lines `path\0sha256\n`: one digest for the whole version. */
export function digestOf(files: Array<Pick<FileRow, 'path' | 'sha256'>>): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.path}\u0000${f.sha256}\n`);
  return h.digest('hex');
}

export interface FileCheck {
  path: string;
  expected: string | null;
  actual: string | null;
  status: 'ok' | 'altered' | 'missing' | 'unexpected';
}

/** Copies, writes, reads back and checks a version's immutable files. */
export class VersionStorage {
  constructor(readonly store: ArtifactStore) {}

  /** Copies the file or the tree at `sourceKey` under `dest`; returns each file's size and sha256. */
  async copyFrom(sourceKey: string, dest: string): Promise<FileRow[]> {
    const single = await this.store.stat(sourceKey);
    if (single) {
      const name = sourceKey.slice(sourceKey.lastIndexOf('/') + 1);
      return [await this.copyOne(sourceKey, dest, name)];
    }
    const entries = (await this.store.list(sourceKey, { recursive: true })).filter((e) => !e.isDir);
    const out: FileRow[] = [];
    for (const e of entries) out.push(await this.copyOne(e.key, dest, e.key.slice(sourceKey.length + 1)));
    return out;
  }

  private async copyOne(from: string, dest: string, rel: string): Promise<FileRow> {
    const put = await this.store.put(joinKey(dest, rel), await this.store.get(from));
    return { path: rel, size: put.size, sha256: put.sha256 };
  }

  /** Writes one uploaded file under `dest`; `rel` is validated like any artifact key. */
  async write(dest: string, rel: string, body: Readable | AsyncIterable<Uint8Array>): Promise<FileRow> {
    const path = validateKey(rel);
    const stream = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
    const put = await this.store.put(joinKey(dest, path), stream);
    return { path, size: put.size, sha256: put.sha256 };
  }

  async remove(dest: string): Promise<void> {
    await this.store.delete(dest);
  }

  async readAll(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.store.get(key)) chunks.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(chunks);
  }

  /**
   * Finds the ONNX graph of a version (the MLmodel's onnx flavor, else
   * model.onnx, else a lone .onnx file) and reads its signature.
   */
  async signature(dest: string, files: FileRow[]): Promise<Signature | null> {
    const onnx = await this.onnxFile(dest, files);
    if (!onnx || onnx.size > MAX_SIGNATURE_BYTES) return null;
    return readOnnxSignature(await this.readAll(joinKey(dest, onnx.path)), onnx.path);
  }

  private async onnxFile(dest: string, files: FileRow[]): Promise<FileRow | undefined> {
    const byPath = new Map(files.map((f) => [f.path, f]));
    const mlmodel = files.find((f) => f.path === 'MLmodel' || f.path.endsWith('/MLmodel'));
    if (mlmodel && mlmodel.size < 1024 * 1024) {
      const dir = mlmodel.path.slice(0, mlmodel.path.length - 'MLmodel'.length);
      const data = onnxFlavorData((await this.readAll(joinKey(dest, mlmodel.path))).toString('utf8'));
      if (data && byPath.has(dir + data)) return byPath.get(dir + data);
    }
    const onnx = files.filter((f) => f.path.toLowerCase().endsWith('.onnx'));
    return onnx.find((f) => f.path === 'model.onnx' || f.path.endsWith('/model.onnx')) ?? (onnx.length === 1 ? onnx[0] : undefined);
  }

  /** Re-reads every stored file and compares its sha256 with the recorded one. */
  async verify(dest: string, files: FileRow[]): Promise<FileCheck[]> {
    const out: FileCheck[] = [];
    for (const f of files) {
      const key = joinKey(dest, f.path);
      const actual = (await this.store.stat(key)) ? await this.store.digest(key) : null;
      out.push({ path: f.path, expected: f.sha256, actual, status: actual === null ? 'missing' : actual === f.sha256 ? 'ok' : 'altered' });
    }
    const known = new Set(files.map((f) => f.path));
    for (const e of await this.store.list(dest, { recursive: true })) {
      const rel = e.key.slice(dest.length + 1);
      if (!e.isDir && !known.has(rel)) out.push({ path: rel, expected: null, actual: await this.store.digest(e.key), status: 'unexpected' });
    }
    return out;
  }
}

/** The `data` file of an MLmodel's onnx flavor, if the MLmodel has one. */
export function onnxFlavorData(mlmodel: string): string | undefined {
  try {
    const doc = parseYaml(mlmodel) as { flavors?: { onnx?: { data?: unknown } } } | null;
    const data = doc?.flavors?.onnx?.data;
    return typeof data === 'string' ? data : undefined;
  } catch {
    throw Invalid.field('MLmodel', 'is not valid YAML');
  }
}
