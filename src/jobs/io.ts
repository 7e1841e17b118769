import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Ctx } from '../access/principal.js';
import type { DatasetService } from '../datasets/service.js';
import type { Registry } from '../registry/registry.js';
import { Invalid } from '../shared/errors.js';
import { parseInput, type InputRef, type JobSpec } from './spec.js';

export interface IoDeps {
  datasets: DatasetService;
  registry: Registry;
}

/** The concrete version an input names now (aliases and `latest` resolved); throws NotFound if there is none. */
async function resolve(deps: IoDeps, ctx: Ctx, workspace: string, ref: InputRef): Promise<number> {
  if (ref.kind === 'dataset') return (await deps.datasets.datasetVersion(workspace, ref.name, ref.version)).meta.version;
  if (ref.version !== undefined) return (await deps.registry.reads.get(ctx, workspace, ref.name, ref.version)).version;
  return (await deps.registry.reads.byAlias(ctx, workspace, ref.name, ref.alias!)).version;
}

/** Checks at submission that every input exists and may be read, so a typo is a 4xx now rather than a failed job later. */
export async function checkInputs(deps: IoDeps, ctx: Ctx, workspace: string, inputs: Record<string, string>): Promise<void> {
  for (const [name, uri] of Object.entries(inputs)) await resolve(deps, ctx, workspace, parseInput(uri, `inputs.${name}`));
}

/**
 * Writes each input under `<dir>/inputs/<name>/`: a dataset version as its
 * stored file, a model version as all its files. Answers the environment
 * naming them: SLIPWAY_INPUT_<NAME> is the dataset file or the model directory.
 */
export async function materialiseInputs(deps: IoDeps, ctx: Ctx, workspace: string, spec: JobSpec, dir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [name, uri] of Object.entries(spec.inputs)) {
    const ref = parseInput(uri, `inputs.${name}`);
    const version = await resolve(deps, ctx, workspace, ref);
    const into = join(dir, 'inputs', name);
    await mkdir(into, { recursive: true });
    if (ref.kind === 'dataset') {
      const h = await deps.datasets.datasetVersion(workspace, ref.name, version);
      const file = join(into, basename(h.meta.filename));
      await pipeline(await h.content(), createWriteStream(file));
      env[`SLIPWAY_INPUT_${name.toUpperCase()}`] = file;
      continue;
    }
    for (const f of await deps.registry.reads.files(ctx, workspace, ref.name, version)) {
      const file = join(into, f.path);
      await mkdir(dirname(file), { recursive: true });
      await pipeline((await deps.registry.reads.readFile(ctx, workspace, ref.name, version, f.path)).stream, createWriteStream(file));
    }
    env[`SLIPWAY_INPUT_${name.toUpperCase()}`] = into;
  }
  return env;
}

/** Every file under `dir`, relative paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
  return out.sort();
}

/** A tar (ustar) stream of a directory's files, for registering an MLflow model directory. */
async function* tarOf(dir: string): AsyncGenerator<Buffer> {
  for (const rel of await filesUnder(dir)) {
    const size = (await stat(join(dir, rel))).size;
    const h = Buffer.alloc(512);
    if (Buffer.byteLength(rel) > 100) throw Invalid.field('outputs', `path '${rel}' is longer than 100 bytes`);
    h.write(rel, 0);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(size.toString(8).padStart(11, '0') + '\0', 124);
    h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    yield h;
    for await (const chunk of createReadStream(join(dir, rel))) yield chunk as Buffer;
    if (size % 512) yield Buffer.alloc(512 - (size % 512));
  }
  yield Buffer.alloc(1024);
}

/** Registers each declared output of a succeeded job; answers one line per output for the job's log. */
export async function registerOutputs(deps: IoDeps, ctx: Ctx, workspace: string, spec: JobSpec, dir: string, runId: string | null): Promise<string[]> {
  const notes: string[] = [];
  for (const [name, o] of Object.entries(spec.outputs)) {
    const path = join(dir, o.path);
    const st = await stat(path).catch(() => null);
    if (!st) throw new Error(`output '${name}': the job wrote nothing at ${o.path}`);
    if (o.model) {
      const body = st.isDirectory() ? Readable.from(tarOf(path)) : createReadStream(path);
      const v = await deps.registry.uploads.register(ctx, workspace, { name: o.model, format: st.isDirectory() ? 'tar' : 'onnx', filename: st.isDirectory() ? undefined : basename(path), body, runId: runId ?? undefined });
      notes.push(`output '${name}': registered models:/${o.model}/${v.version}`);
    } else {
      if (st.isDirectory()) throw new Error(`output '${name}': a dataset output must be a file, ${o.path} is a directory`);
      const v = await deps.datasets.upload(ctx, workspace, o.dataset!, createReadStream(path), { filename: basename(path), source: runId ? `runs:/${runId}` : undefined });
      notes.push(`output '${name}': uploaded datasets:/${o.dataset}/${v.version}`);
    }
  }
  return notes;
}
