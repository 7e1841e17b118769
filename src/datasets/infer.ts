/**
 * Column types and their inference. Every format reports what it sees value
 * by value to a ColumnObserver; the observer widens the type as needed
 * (integer → number → string) and remembers whether a value was missing.
 */

export const formats = ['csv', 'jsonl', 'parquet'] as const;
export type Format = (typeof formats)[number];

export const columnTypes = ['integer', 'number', 'boolean', 'string', 'datetime'] as const;
export type ColumnType = (typeof columnTypes)[number];

export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
}

/** A cell as rows hand it out: JSON-safe scalars only. */
export type Value = string | number | boolean | null;
export type Row = Record<string, Value>;

/** Widens two observed types to one that holds both. */
export function widen(a: ColumnType | undefined, b: ColumnType): ColumnType {
  if (a === undefined || a === b) return b;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  return 'string';
}

export class ColumnObserver {
  private type: ColumnType | undefined;
  private nullable: boolean;

  constructor(
    readonly name: string,
    missingBefore = false,
  ) {
    this.nullable = missingBefore;
  }

  observe(kind: ColumnType | null): void {
    if (kind === null) this.nullable = true;
    else this.type = widen(this.type, kind);
  }

  /** A column that held no value at all is reported as a string column. */
  column(): Column {
    return { name: this.name, type: this.type ?? 'string', nullable: this.nullable };
  }
}

// Leading zeros make an identifier (zip codes, account numbers), not a number.
const INTEGER = /^[+-]?(0|[1-9]\d*)$/;
const NUMBER = /^[+-]?((0|[1-9]\d*)(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL_NUMBER = /^[+-]?(nan|inf|infinity)$/i;
const BOOLEAN = /^(true|false)$/i;
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO 8601 dates and date-times (`2024-05-01`, `2024-05-01T12:30:00Z`), with the fields in range. */
export function isIsoDatetime(text: string): boolean {
  const m = ISO_DATETIME.exec(text);
  if (!m) return false;
  const [month, day] = [Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59)) return false;
  return m[6] === undefined || Number(m[6]) <= 60;
}

/** The type of one CSV cell. Only the empty cell is missing: `NA` may be a real value (North America). */
export function classifyText(text: string): ColumnType | null {
  if (text === '') return null;
  if (INTEGER.test(text)) return 'integer';
  if (NUMBER.test(text) || SPECIAL_NUMBER.test(text)) return 'number';
  if (BOOLEAN.test(text)) return 'boolean';
  if (isIsoDatetime(text)) return 'datetime';
  return 'string';
}

/** The type of one parsed JSON value; nested objects and arrays count as strings (their JSON text). */
export function classifyJson(v: unknown): ColumnType | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string') return isIsoDatetime(v) ? 'datetime' : 'string';
  return 'string';
}

/** Converts a CSV cell to the value its column's type promises. */
export function textValue(text: string, type: ColumnType): Value {
  if (text === '') return null;
  switch (type) {
    case 'integer':
    case 'number':
      return parseNumber(text);
    case 'boolean':
      return text.toLowerCase() === 'true';
    default:
      return text;
  }
}

function parseNumber(text: string): number {
  if (!SPECIAL_NUMBER.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN;
  return lower.startsWith('-') ? -Infinity : Infinity;
}

/** A parsed JSON value as a row cell: nested values become their JSON text. */
export function jsonValue(v: unknown): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}
