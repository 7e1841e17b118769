import { Readable } from 'node:stream';
import type { Ctx } from '../access/principal.js';
import { Invalid, SlipwayError } from '../shared/errors.js';
import type { VersionStorage } from './storage.js';
import type { FileRow } from './store.js';
import { readTar } from './tar.js';
import type { VersionWriter } from './versions.write.js';
import type { VersionView } from './views.js';

export interface UploadInput {
  name: string;
  /** `onnx`: the body is one .onnx file; `tar`: a tar of an MLflow model directory. */
  format: 'onnx' | 'tar';
  filename?: string;
  body: Readable;
  alias?: string;
  description?: string;
  runId?: string;
}

/**
 * Native registration by upload: the body streams straight into the new
 * version's storage (never buffered whole), then the version is digested
 * and its ONNX signature read like any other. The model is created if new.
 */
export class UploadService {
  constructor(
    private readonly versions: VersionWriter,
    private readonly storage: VersionStorage,
  ) {}

  async register(ctx: Ctx, workspace: string, input: UploadInput): Promise<VersionView> {
    if (!(input.body instanceof Readable)) {
      throw new SlipwayError('unsupported_media_type', 'body: send the model as application/octet-stream (one .onnx file) or application/x-tar (a model directory)');
    }
    const filename = input.filename ?? 'model.onnx';
    if (input.format === 'onnx' && (!filename.toLowerCase().endsWith('.onnx') || filename.includes('/'))) {
      throw Invalid.field('filename', "must be a file name ending in '.onnx'");
    }
    const fill = async (dest: string): Promise<FileRow[]> => {
      if (input.format === 'onnx') return [await this.storage.write(dest, filename, input.body)];
      const out: FileRow[] = [];
      for await (const entry of readTar(input.body)) out.push(await this.storage.write(dest, entry.path, entry.body));
      return out;
    };
    const v = await this.versions.create(ctx, workspace, { name: input.name, description: input.description, runId: input.runId }, { fill, createModel: true, requireOnnx: true });
    if (!input.alias) return v;
    await this.versions.setAlias(ctx, workspace, input.name, input.alias, v.version);
    return { ...v, aliases: [...v.aliases, input.alias] };
  }
}
