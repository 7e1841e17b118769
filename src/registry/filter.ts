import { Invalid } from '../shared/errors.js';

/**
 * MLflow's registry search filter: conditions joined by AND, each
 * `<key> <op> <value>`. Keys: `name`, `run_id`, `source_path`,
 * `version_number`, `tags.<key>` (backquoted when it has spaces); ops
 * `=`, `!=`, `LIKE`, `ILIKE`, and `IN (...)` for run_id. Values are quoted
 * strings or numbers.
 */
export type Op = '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN';

export interface Condition {
  /** `name`, `run_id`, `source_path`, `version_number`, or `tag` with `tag` set. */
  key: string;
  tag?: string;
  op: Op;
  value: string | number | string[];
}

const TOKEN = /\s*(?:(`[^`]*`)|('(?:[^'\\]|\\.)*')|("(?:[^"\\]|\\.)*")|(!=|<>|=|\(|\)|,)|([A-Za-z_]\w*(?:\.(?:\w+|`[^`]*`))*)|(-?\d+(?:\.\d+)?))/y;

interface Token {
  kind: 'ident' | 'string' | 'number' | 'punct';
  text: string;
}

function tokenize(filter: string, field: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < filter.length) {
    if (/^\s*$/.test(filter.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(filter);
    if (!m) throw Invalid.field(field, `cannot parse the filter near '${filter.slice(pos, pos + 20)}'`);
    pos = TOKEN.lastIndex;
    if (m[1]) out.push({ kind: 'ident', text: m[1].slice(1, -1) });
    else if (m[2] || m[3]) out.push({ kind: 'string', text: unquote((m[2] ?? m[3]) as string) });
    else if (m[4]) out.push({ kind: 'punct', text: m[4] === '<>' ? '!=' : m[4] });
    else if (m[5]) out.push({ kind: 'ident', text: m[5] });
    else out.push({ kind: 'number', text: m[6] as string });
  }
  return out;
}

function unquote(q: string): string {
  return q.slice(1, -1).replace(/\\(.)/g, '$1');
}

export interface FilterSpec {
  /** Keys this search accepts (besides tags.*). */
  keys: string[];
  field?: string;
}

/** Parses a filter into conditions; throws INVALID_PARAMETER_VALUE naming what was expected. */
export function parseFilter(filter: string | undefined, spec: FilterSpec): Condition[] {
  const field = spec.field ?? 'filter';
  if (!filter || !filter.trim()) return [];
  const toks = tokenize(filter, field);
  const out: Condition[] = [];
  let i = 0;
  const expect = (what: string): never => {
    throw Invalid.field(field, `expected ${what} at token ${i + 1} of '${filter}'`);
  };
  for (;;) {
    const k = toks[i++];
    if (!k || k.kind !== 'ident') expect(`a key (${[...spec.keys, 'tags.<key>'].join(', ')})`);
    const cond = keyOf(k!.text, spec, field);
    const opTok = toks[i++];
    const op = opTok && (opTok.kind === 'punct' || opTok.kind === 'ident') ? opTok.text.toUpperCase() : '';
    if (!['=', '!=', 'LIKE', 'ILIKE', 'IN'].includes(op)) expect('a comparison (=, !=, LIKE, ILIKE, IN)');
    if (op === 'IN') {
      if (cond.key !== 'run_id' && cond.key !== 'name') throw Invalid.field(field, `IN is supported for run_id and name only`);
      if (toks[i++]?.text !== '(') expect("'('");
      const values: string[] = [];
      for (;;) {
        const v = toks[i++];
        if (!v || v.kind !== 'string') expect('a quoted string');
        values.push(v!.text);
        const sep = toks[i++];
        if (sep?.text === ')') break;
        if (sep?.text !== ',') expect("',' or ')'");
      }
      out.push({ ...cond, op: 'IN', value: values });
    } else {
      const v = toks[i++];
      if (!v || (v.kind !== 'string' && v.kind !== 'number')) expect('a quoted string or a number');
      if ((op === 'LIKE' || op === 'ILIKE') && v!.kind !== 'string') expect('a quoted pattern');
      if (cond.key === 'version_number') {
        const n = Number(v!.text);
        if (!Number.isInteger(n)) throw Invalid.field(field, 'version_number must be compared with an integer');
        out.push({ ...cond, op: op as Op, value: n });
      } else {
        if (v!.kind !== 'string') expect('a quoted string');
        out.push({ ...cond, op: op as Op, value: v!.text });
      }
    }
    const next = toks[i];
    if (!next) break;
    if (next.kind === 'ident' && next.text.toUpperCase() === 'AND') {
      i++;
      continue;
    }
    expect("'AND' or the end of the filter (OR is not supported)");
  }
  return out;
}

function keyOf(text: string, spec: FilterSpec, field: string): Pick<Condition, 'key' | 'tag'> {
  const lower = text.toLowerCase();
  if (lower.startsWith('tags.') || lower.startsWith('tag.')) {
    const tag = text.slice(text.indexOf('.') + 1).replace(/^`|`$/g, '');
    if (!tag) throw Invalid.field(field, 'tags. needs a tag key');
    return { key: 'tag', tag };
  }
  const k = lower.replace(/^attributes?\./, '');
  if (!spec.keys.includes(k)) throw Invalid.field(field, `unknown key '${text}'; expected one of ${[...spec.keys, 'tags.<key>'].join(', ')}`);
  return { key: k };
}

export interface OrderTerm {
  key: string;
  desc: boolean;
}

/** `name`, `name DESC`, `last_updated_timestamp ASC`, ... among `allowed` (aliases map to columns). */
export function parseOrderBy(orderBy: string[] | undefined, allowed: Record<string, string>, field = 'order_by'): OrderTerm[] {
  const out: OrderTerm[] = [];
  for (const term of orderBy ?? []) {
    const m = /^\s*(?:attributes?\.)?([\w]+)\s*(ASC|DESC)?\s*$/i.exec(term);
    const col = m ? allowed[m[1].toLowerCase()] : undefined;
    if (!m || !col) throw Invalid.field(field, `'${term}': expected one of ${Object.keys(allowed).join(', ')} with an optional ASC or DESC`);
    out.push({ key: col, desc: (m[2] ?? 'ASC').toUpperCase() === 'DESC' });
  }
  return out;
}

/** Offset paging tokens, opaque to clients. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

export function decodePageToken(token: string | undefined, field = 'page_token'): number {
  if (!token) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof v.offset === 'number' && Number.isSafeInteger(v.offset) && v.offset >= 0) return v.offset;
  } catch {
    // falls through to the error below
  }
  throw Invalid.field(field, 'not a page token returned by a previous search');
}
