import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '../artifacts/store.js';
import type { Row } from './infer.js';
import { parquetRows } from './parquet.js';
import type { VersionOut } from './schema.js';
import { csvRows, jsonlRows } from './text.js';

/**
 * One stored dataset version, as other domains (jobs, batch scoring,
 * monitoring references) consume it: its metadata, its bytes, and its rows
 * as objects typed by the inferred schema.
 */
export interface DatasetVersionHandle {
  meta: VersionOut;
  /** The stored bytes, byte-identical to the upload. */
  content(): Promise<Readable>;
  /** Rows in file order; cells are typed by the schema (integers and numbers as numbers, datetimes as ISO text). */
  rows(): AsyncGenerator<Row>;
}

export function versionHandle(meta: VersionOut, key: string, artifacts: ArtifactStore, tmpDir: string): DatasetVersionHandle {
  const columns = meta.schema.columns;
  return {
    meta,
    content: () => artifacts.get(key),
    async *rows() {
      if (meta.format === 'csv') return yield* csvRows(await artifacts.get(key), columns);
      if (meta.format === 'jsonl') return yield* jsonlRows(await artifacts.get(key), columns);
      // Parquet needs random access: copy it to a local temp file for the duration of the scan.
      await mkdir(tmpDir, { recursive: true });
      const path = join(tmpDir, `dataset-read-${randomUUID()}`);
      try {
        await pipeline(await artifacts.get(key), createWriteStream(path, { mode: 0o600 }));
        yield* parquetRows(path, columns);
      } finally {
        await rm(path, { force: true });
      }
    },
  };
}
