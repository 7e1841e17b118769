import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Invalid } from '../shared/errors.js';
import type { Column, Format } from './infer.js';
import { inspectParquet } from './parquet.js';
import { csvInspector, jsonlInspector, type ByteInspector } from './text.js';

/** An upload that has been read to its end, checked and written to a local temp file. */
export interface Staged {
  path: string;
  size: number;
  sha256: string;
  rows: number;
  columns: Column[];
  cleanup(): Promise<void>;
}

/**
 * Reads an upload once: hashes it, writes it to a temp file under `tmpDir`
 * and, for CSV and JSONL, infers the schema from the same chunks. Parquet is
 * inspected from the temp file afterwards (it needs random access). A file
 * that fails inspection leaves nothing behind.
 */
export async function stageUpload(body: Readable, format: Format, tmpDir: string): Promise<Staged> {
  await mkdir(tmpDir, { recursive: true });
  const path = join(tmpDir, `dataset-upload-${randomUUID()}`);
  const cleanup = () => rm(path, { force: true });
  try {
    const inspector = format === 'csv' ? csvInspector() : format === 'jsonl' ? jsonlInspector() : undefined;
    const got = await receive(body, path, inspector);
    if (got.size === 0) throw Invalid.field('body', `the file is empty; expected the bytes of a ${format} file`);
    const found = inspector ? inspector.end() : await inspectParquet(path);
    return { path, size: got.size, sha256: got.sha256, rows: found.rows, columns: found.columns, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Hashes `src` into `dest`, feeding `inspector` on the way. After the first
 * bad chunk the rest of the body is still read (and discarded): stopping
 * early would reset the connection, and the client would never see the 400
 * that says which line was wrong.
 */
async function receive(src: Readable, dest: string, inspector: ByteInspector | undefined): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const out = await open(dest, 'wx', 0o600);
  let size = 0;
  let failure: unknown;
  try {
    for await (const raw of src as AsyncIterable<Uint8Array | string>) {
      if (failure) continue;
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      hash.update(chunk);
      size += chunk.byteLength;
      try {
        inspector?.push(chunk);
        await out.write(chunk);
      } catch (e) {
        failure = e;
      }
    }
    if (!failure) await out.sync();
  } catch (e) {
    // The stream itself failed: the client went away or the connection broke mid-upload.
    throw failure ?? Invalid.field('body', `the upload stopped before its end (${(e as Error).message})`);
  } finally {
    await out.close();
  }
  if (failure) throw failure;
  return { size, sha256: hash.digest('hex') };
}
