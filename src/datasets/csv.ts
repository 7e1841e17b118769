import { Invalid } from '../shared/errors.js';

/**
 * A push parser for CSV as RFC 4180 describes it: `,` between fields, CRLF or
 * LF between records, fields optionally in double quotes with `""` for a
 * quote inside. Text arrives in chunks of any size, so a record may span
 * chunks. Lenient where real files need it: a quote inside an unquoted field
 * is kept as text, and blank lines are skipped (as pandas does).
 */
export type RecordSink = (fields: string[], line: number) => void;

type State = 'field-start' | 'unquoted' | 'quoted' | 'quote-in-quoted';

export class CsvParser {
  private state: State = 'field-start';
  private field = '';
  private fields: string[] = [];
  /** True once the current record has any character, quoted or not. */
  private started = false;
  private afterCR = false;
  private line = 1;
  private recordLine = 1;

  constructor(private readonly sink: RecordSink) {}

  push(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (this.afterCR) {
        this.afterCR = false;
        if (ch === '\n') continue; // the LF of a CRLF already ended the record
      }
      if (this.state === 'quoted') {
        // Fast path: copy up to the next quote in one slice.
        const q = text.indexOf('"', i);
        const end = q === -1 ? text.length : q;
        const chunk = text.slice(i, end);
        this.field += chunk;
        this.line += countNewlines(chunk);
        i = end;
        if (q !== -1) this.state = 'quote-in-quoted';
        continue;
      }
      this.step(ch);
    }
  }

  private step(ch: string): void {
    if (this.state === 'quote-in-quoted') {
      if (ch === '"') {
        this.field += '"';
        this.state = 'quoted';
        return;
      }
      if (ch !== ',' && ch !== '\n' && ch !== '\r') {
        throw Invalid.field('body', `line ${this.line}: expected ',' or the end of the line after a closing quote, found '${ch}'`);
      }
    }
    if (ch === ',') {
      this.endField();
      return;
    }
    if (ch === '\n' || ch === '\r') {
      this.endRecord();
      this.line++;
      this.afterCR = ch === '\r';
      return;
    }
    this.started = true;
    if (this.state === 'field-start' && ch === '"') {
      this.state = 'quoted';
      return;
    }
    this.state = 'unquoted';
    this.field += ch;
  }

  /** Flushes the last record; throws if a quoted field never closed. */
  end(): void {
    if (this.state === 'quoted') throw Invalid.field('body', `line ${this.recordLine}: a quoted field opened here is never closed; expected a closing '"'`);
    this.endRecord();
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.state = 'field-start';
    this.started = true;
  }

  private endRecord(): void {
    if (this.started || this.fields.length > 0) {
      this.fields.push(this.field);
      this.sink(this.fields, this.recordLine);
    }
    this.fields = [];
    this.field = '';
    this.state = 'field-start';
    this.started = false;
    this.recordLine = this.line + 1;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Column names from the header record: an empty name (pandas writes one for
 * the index) becomes `column_N`; duplicates are refused, since rows are
 * handed out as objects keyed by name.
 */
export function headerNames(fields: string[]): string[] {
  const names = fields.map((f, i) => (f.trim() === '' ? `column_${i + 1}` : f));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw Invalid.field('body', `line 1: the header names column '${n}' twice; expected unique column names`);
    seen.add(n);
  }
  return names;
}

/** The 400 for a row whose field count differs from the header's. */
export function raggedRow(line: number, row: number, expected: number, found: number): Invalid {
  return Invalid.field('body', `line ${line} (row ${row}): expected ${expected} fields as in the header, found ${found}`);
}
