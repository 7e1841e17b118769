import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CsvParser } from '../../src/datasets/csv.js';
import { classifyText, isIsoDatetime } from '../../src/datasets/infer.js';
import { JsonlParser } from '../../src/datasets/jsonl.js';
import { checkRefresh, parseDatasetUri, resolveFormat } from '../../src/datasets/names.js';
import { csvInspector, jsonlInspector } from '../../src/datasets/text.js';

function csv(text: string, chunk = text.length): Array<[string[], number]> {
  const out: Array<[string[], number]> = [];
  const p = new CsvParser((f, line) => out.push([f, line]));
  for (let i = 0; i < text.length; i += chunk) p.push(text.slice(i, i + chunk));
  p.end();
  return out;
}

function invalidBody(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (e: { code?: string; message: string }) => e.code === 'invalid' && pattern.test(e.message));
}

describe('CSV parser (RFC 4180)', () => {
  const text = 'a,b,c\r\n1,"x, ""quoted""",\r\n2,"multi\nline",z\n\n3,,"" \n';
  it('handles quotes, escaped quotes, CRLF, embedded newlines and blank lines, in any chunking', () => {
    for (const chunk of [1, 2, 3, 7, 1000]) {
      const records = csv('a,b,c\r\n1,"x, ""quoted""",\r\n2,"multi\nline",z\n\n3,,""\n', chunk);
      assert.deepEqual(
        records.map((r) => r[0]),
        [
          ['a', 'b', 'c'],
          ['1', 'x, "quoted"', ''],
          ['2', 'multi\nline', 'z'],
          ['3', '', ''],
        ],
        `chunk ${chunk}`,
      );
      assert.deepEqual(
        records.map((r) => r[1]),
        [1, 2, 3, 6],
      );
    }
  });

  it('refuses text after a closing quote and an unterminated quote, naming the line', () => {
    invalidBody(() => csv(text), /line 6: expected ',' or the end of the line after a closing quote/);
    invalidBody(() => csv('a\n"open\n'), /line 2: a quoted field opened here is never closed/);
  });

  it('names the line and row of a ragged record', () => {
    const i = csvInspector();
    invalidBody(() => i.push(Buffer.from('x,y,z\n1,2,3\n4,5\n')), /line 3 \(row 2\): expected 3 fields as in the header, found 2/);
  });

  it('refuses bytes that are not UTF-8', () => {
    const i = csvInspector();
    invalidBody(() => i.push(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a])), /not valid UTF-8/);
  });

  it('names empty header columns and refuses duplicates', () => {
    const i = csvInspector();
    i.push(Buffer.from(',a\n0,1\n'));
    assert.deepEqual(i.end().columns.map((c) => c.name), ['column_1', 'a']);
    const d = csvInspector();
    invalidBody(() => d.push(Buffer.from('a,a\n1,2\n')), /column 'a' twice/);
  });
});

describe('type inference', () => {
  it('classifies cells', () => {
    assert.equal(classifyText(''), null);
    assert.equal(classifyText('42'), 'integer');
    assert.equal(classifyText('-7'), 'integer');
    assert.equal(classifyText('007'), 'string');
    assert.equal(classifyText('3.5e-2'), 'number');
    assert.equal(classifyText('NaN'), 'number');
    assert.equal(classifyText('TRUE'), 'boolean');
    assert.equal(classifyText('2024-02-29'), 'datetime');
    assert.equal(classifyText('2024-02-29T10:20:30.123Z'), 'datetime');
    assert.equal(classifyText('2024-13-01'), 'string');
    assert.equal(classifyText('NA'), 'string');
    assert.ok(isIsoDatetime('2024-01-01 00:00:00+02:00'));
  });

  it('widens integer to number, mixed to string, and tracks nulls', () => {
    const i = csvInspector();
    i.push(Buffer.from('i,n,s,b,e\n1,1,1,true,\n2,2.5,x,false,\n,3,2,true,\n'));
    const r = i.end();
    assert.equal(r.rows, 3);
    assert.deepEqual(r.columns, [
      { name: 'i', type: 'integer', nullable: true },
      { name: 'n', type: 'number', nullable: false },
      { name: 's', type: 'string', nullable: false },
      { name: 'b', type: 'boolean', nullable: false },
      { name: 'e', type: 'string', nullable: true },
    ]);
  });

  it('infers JSONL schemas with keys missing in some lines as nullable', () => {
    const j = jsonlInspector();
    j.push(Buffer.from('{"a":1,"b":"x"}\n{"a":2.5,"c":true}\r\n\n{"a":3,"b":null,"c":false,"d":{"k":1}}'));
    const r = j.end();
    assert.equal(r.rows, 3);
    assert.deepEqual(r.columns, [
      { name: 'a', type: 'number', nullable: false },
      { name: 'b', type: 'string', nullable: true },
      { name: 'c', type: 'boolean', nullable: true },
      { name: 'd', type: 'string', nullable: true },
    ]);
  });

  it('names the line of bad JSON and of a non-object', () => {
    const lines: number[] = [];
    const p = new JsonlParser((_o, line) => lines.push(line));
    invalidBody(() => p.push('{"a":1}\n{"a":\n'), /line 2: invalid JSON .*expected one JSON object per line/);
    invalidBody(() => new JsonlParser(() => undefined).push('[1,2]\n'), /line 1: expected a JSON object, found an array/);
  });
});

describe('names', () => {
  it('validates refresh frequencies', () => {
    for (const ok of ['daily', '1h', '30m', '7d', '@daily', '0 3 * * *', '*/15 9-17 * * mon-fri', '0 0 1 jan,jul *']) assert.equal(typeof checkRefresh(ok), 'string', ok);
    for (const bad of ['sometimes', '0h', '61 * * * *', '* * * *', '0 0 32 * *', '5-1 * * * *', '*/0 * * * *']) {
      assert.throws(() => checkRefresh(bad), (e: { issues: Array<{ field: string }> }) => e.issues[0].field === 'refreshFrequency', bad);
    }
  });

  it('parses datasets:/ URIs', () => {
    assert.deepEqual(parseDatasetUri('datasets:/cancer-train/1'), { name: 'cancer-train', version: 1 });
    assert.deepEqual(parseDatasetUri('datasets:/x/latest'), { name: 'x', version: 'latest' });
    for (const bad of ['datasets:/x', 'datasets:/x/0', 'datasets://x/1', 'models:/x/1', 'datasets:/../1', 'datasets:/x/1/2']) assert.throws(() => parseDatasetUri(bad), /uri/, bad);
  });

  it('resolves the format from the explicit value, the extension, then the content type', () => {
    assert.equal(resolveFormat('parquet', 'a.csv', undefined), 'parquet');
    assert.equal(resolveFormat(undefined, 'a.NDJSON', undefined), 'jsonl');
    assert.equal(resolveFormat(undefined, undefined, 'text/csv; charset=utf-8'), 'csv');
    assert.throws(() => resolveFormat(undefined, 'a.txt', 'application/octet-stream'), /format/);
    assert.throws(() => resolveFormat('xlsx', undefined, undefined), /format: one of csv, jsonl, parquet/);
  });
});
