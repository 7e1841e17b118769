import type { Readable } from 'node:stream';
import { Invalid } from '../shared/errors.js';
import { CsvParser, headerNames, raggedRow } from './csv.js';
import { classifyJson, classifyText, ColumnObserver, jsonValue, textValue, type Column, type Row } from './infer.js';
import { JsonlParser } from './jsonl.js';

/** What a scan of a whole file found. */
export interface Inspection {
  rows: number;
  columns: Column[];
}

/** Takes the bytes of a CSV or JSONL file chunk by chunk and infers its schema on the way. */
export interface ByteInspector {
  push(chunk: Uint8Array): void;
  end(): Inspection;
}

/** UTF-8 text from byte chunks, refusing bytes that are not UTF-8; a leading BOM is dropped. */
class Utf8 {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private offset = 0;

  decode(chunk?: Uint8Array): string {
    try {
      const text = chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode();
      this.offset += chunk?.byteLength ?? 0;
      return text;
    } catch {
      throw Invalid.field('body', `the bytes near offset ${this.offset} are not valid UTF-8; expected UTF-8 text`);
    }
  }
}

export function csvInspector(): ByteInspector {
  const utf8 = new Utf8();
  let names: string[] | undefined;
  let observers: ColumnObserver[] = [];
  let rows = 0;
  const parser = new CsvParser((fields, line) => {
    if (!names) {
      names = headerNames(fields);
      observers = names.map((n) => new ColumnObserver(n));
      return;
    }
    rows++;
    if (fields.length !== names.length) throw raggedRow(line, rows, names.length, fields.length);
    for (let i = 0; i < fields.length; i++) observers[i].observe(classifyText(fields[i]));
  });
  return {
    push: (chunk) => parser.push(utf8.decode(chunk)),
    end() {
      parser.push(utf8.decode());
      parser.end();
      if (!names) throw Invalid.field('body', 'the file is empty; expected a header row naming the columns');
      return { rows, columns: observers.map((o) => o.column()) };
    },
  };
}

export function jsonlInspector(): ByteInspector {
  const utf8 = new Utf8();
  const observers = new Map<string, ColumnObserver>();
  let rows = 0;
  const parser = new JsonlParser((obj) => {
    for (const [key, v] of Object.entries(obj)) {
      let o = observers.get(key);
      if (!o) observers.set(key, (o = new ColumnObserver(key, rows > 0)));
      o.observe(classifyJson(v));
    }
    // A key that earlier lines had and this one lacks is a missing value.
    for (const [key, o] of observers) if (!Object.hasOwn(obj, key)) o.observe(null);
    rows++;
  });
  return {
    push: (chunk) => parser.push(utf8.decode(chunk)),
    end() {
      parser.push(utf8.decode());
      parser.end();
      if (rows === 0) throw Invalid.field('body', 'the file holds no JSON object; expected one JSON object per line');
      return { rows, columns: [...observers.values()].map((o) => o.column()) };
    },
  };
}

/** Feeds a byte stream to a push parser and yields the rows it emits, chunk by chunk. */
async function* drain(stream: Readable, parser: { push(text: string): void; end(): void }, emitted: Row[]): AsyncGenerator<Row> {
  const utf8 = new Utf8();
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    parser.push(utf8.decode(chunk));
    yield* emitted.splice(0);
  }
  parser.push(utf8.decode());
  parser.end();
  yield* emitted.splice(0);
}

/** Rows of a stored CSV version, each cell converted to its column's type. */
export function csvRows(stream: Readable, columns: Column[]): AsyncGenerator<Row> {
  let header = true;
  const emitted: Row[] = [];
  const parser = new CsvParser((fields) => {
    if (header) {
      header = false;
      return;
    }
    const row: Row = {};
    for (let i = 0; i < columns.length; i++) row[columns[i].name] = textValue(fields[i] ?? '', columns[i].type);
    emitted.push(row);
  });
  return drain(stream, parser, emitted);
}

/** Rows of a stored JSONL version, with every schema column present (missing ones as null). */
export function jsonlRows(stream: Readable, columns: Column[]): AsyncGenerator<Row> {
  const emitted: Row[] = [];
  const parser = new JsonlParser((obj) => {
    const row: Row = {};
    for (const c of columns) row[c.name] = jsonValue(obj[c.name]);
    emitted.push(row);
  });
  return drain(stream, parser, emitted);
}
