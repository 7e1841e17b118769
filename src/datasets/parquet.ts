import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaElement, type SchemaTree } from 'hyparquet';
import { compressors as allCompressors } from 'hyparquet-compressors';
import { Invalid } from '../shared/errors.js';
import type { Column, ColumnType, Row, Value } from './infer.js';
import type { Inspection } from './text.js';

/**
 * Parquet through hyparquet (pure JS). Parquet needs random access to its
 * footer, so it is read from a local file, never from a request stream.
 * Types come from the file's own schema; nullability from the values seen.
 */

// hyparquet-compressors types zstd with an optional output buffer; hyparquet passes a length. Same function.
const compressors = allCompressors as NonNullable<Parameters<typeof parquetRead>[0]['compressors']>;

function bad(message: string): Invalid {
  return Invalid.field('body', message);
}

/** Errors from the reader are the file's fault, unless the OS reported them. */
function asClientError(e: unknown, what: string): unknown {
  if (e instanceof Invalid || (e as NodeJS.ErrnoException).syscall) return e;
  return bad(`${what}: ${(e as Error).message}`);
}

async function open(path: string): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  const file = await asyncBufferFromFile(path);
  if (file.byteLength === 0) throw bad('the file is empty; expected a Parquet file');
  try {
    return { file, metadata: await parquetMetadataAsync(file) };
  } catch (e) {
    throw asClientError(e, 'not a Parquet file (expected the PAR1 format)');
  }
}

/** Our column type for a Parquet schema element. */
export function parquetType(el: SchemaElement, nested: boolean): ColumnType {
  if (nested) return 'string';
  const logical = el.logical_type?.type;
  const converted = el.converted_type;
  if (logical === 'DATE' || logical === 'TIMESTAMP' || converted === 'DATE' || converted?.startsWith('TIMESTAMP')) return 'datetime';
  if (el.type === 'INT96') return 'datetime';
  if (logical === 'DECIMAL' || converted === 'DECIMAL' || logical === 'FLOAT16') return 'number';
  switch (el.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
      return logical === 'TIME' || converted?.startsWith('TIME_') ? 'string' : 'integer';
    case 'FLOAT':
    case 'DOUBLE':
      return 'number';
    default:
      return 'string';
  }
}

function topColumns(metadata: FileMetaData): Array<{ tree: SchemaTree; type: ColumnType }> {
  return parquetSchema(metadata).children.map((tree) => ({ tree, type: parquetType(tree.element, tree.children.length > 0) }));
}

/** Scans every value once (column by column, row group by row group) to learn which columns hold nulls. */
export async function inspectParquet(path: string): Promise<Inspection> {
  const { file, metadata } = await open(path);
  const cols = topColumns(metadata);
  const sawNull = new Set<string>();
  try {
    await parquetRead({
      file,
      metadata,
      compressors,
      onChunk: ({ columnName, columnData }) => {
        if (sawNull.has(columnName) || ArrayBuffer.isView(columnData)) return; // typed arrays hold no nulls
        for (let i = 0; i < columnData.length; i++) {
          if (columnData[i] === null || columnData[i] === undefined) {
            sawNull.add(columnName);
            return;
          }
        }
      },
    });
  } catch (e) {
    throw asClientError(e, 'the Parquet data could not be decoded');
  }
  const columns: Column[] = cols.map(({ tree, type }) => ({ name: tree.element.name, type, nullable: sawNull.has(tree.element.name) }));
  return { rows: Number(metadata.num_rows), columns };
}

/** Rows of a local Parquet file, one row group in memory at a time. */
export async function* parquetRows(path: string, columns: Column[]): AsyncGenerator<Row> {
  const { file, metadata } = await open(path);
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    const objects = await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: end });
    for (const o of objects) {
      const row: Row = {};
      for (const c of columns) row[c.name] = cell(o[c.name]);
      yield row;
    }
    start = end;
  }
}

/** Parquet values as JSON-safe cells: int64 as a number when exact, dates as ISO text, nested values as JSON. */
function cell(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}
