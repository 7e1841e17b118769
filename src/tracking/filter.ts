import { Invalid } from '../shared/errors.js';

/**
 * MLflow's search filter grammar, parsed into a small AST with no SQL in it:
 * `metrics.acc > 0.9 AND params.opt = 'adam' AND tags.\`my key\` LIKE 'x%'`.
 * The store compiles the AST to Kysely expressions with bound values.
 */
export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface Condition {
  entity: Entity;
  key: string;
  op: Comparator;
  value: string | number | string[] | null;
}

export interface OrderTerm {
  entity: Entity;
  key: string;
  desc: boolean;
}

type Tok =
  | { t: 'word'; v: string }
  | { t: 'str'; v: string }
  | { t: 'dq'; v: string }
  | { t: 'bt'; v: string }
  | { t: 'num'; v: number }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: string };

const PREFIXES: Record<string, Entity> = {
  metric: 'metric', metrics: 'metric',
  param: 'param', params: 'param', parameter: 'param', parameters: 'param',
  tag: 'tag', tags: 'tag',
  attribute: 'attribute', attributes: 'attribute', attr: 'attribute', run: 'attribute',
  dataset: 'dataset', datasets: 'dataset',
};

function fail(field: string, message: string): never {
  throw Invalid.field(field, message);
}

function tokenize(text: string, field: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= text.length) fail(field, `unterminated quote starting at position ${i}`);
        const d = text[j];
        if (d === '\\' && j + 1 < text.length) { v += text[j + 1]; j += 2; continue; }
        if (d === c) {
          if (text[j + 1] === c) { v += c; j += 2; continue; }
          break;
        }
        v += d;
        j++;
      }
      out.push({ t: c === "'" ? 'str' : c === '"' ? 'dq' : 'bt', v });
      i = j + 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['<=', '>=', '!=', '<>', '=='].includes(two)) { out.push({ t: 'op', v: two === '<>' ? '!=' : two === '==' ? '=' : two }); i += 2; continue; }
    if ('=<>'.includes(c)) { out.push({ t: 'op', v: c }); i++; continue; }
    if ('(),'.includes(c)) { out.push({ t: 'punct', v: c }); i++; continue; }
    const num = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(i));
    if (num && (c !== '+' && c !== '-' ? true : out.length === 0 || out[out.length - 1].t === 'op')) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][\w.\-:/]*/.exec(text.slice(i));
    if (word) { out.push({ t: 'word', v: word[0] }); i += word[0].length; continue; }
    fail(field, `unexpected character '${c}' at position ${i}`);
  }
  return out;
}

class Cursor {
  i = 0;
  constructor(readonly toks: Tok[], readonly field: string) {}
  peek(): Tok | undefined { return this.toks[this.i]; }
  next(): Tok | undefined { return this.toks[this.i++]; }
  isWord(w: string, at = 0): boolean {
    const t = this.toks[this.i + at];
    return t?.t === 'word' && t.v.toUpperCase() === w;
  }
}

/** An identifier: `prefix.key`, ``prefix.`quoted key` ``, `prefix."quoted key"`, or a bare attribute. */
function identifier(cur: Cursor): { entity: Entity; key: string } {
  const t = cur.next();
  if (!t) fail(cur.field, 'expected an identifier such as metrics.<key>, params.<key>, tags.<key> or attributes.<name>');
  if (t.t === 'bt' || t.t === 'dq') return { entity: 'attribute', key: t.v };
  if (t.t !== 'word') fail(cur.field, `expected an identifier, got '${String(t.v)}'`);
  const dot = t.v.indexOf('.');
  if (dot === -1) return { entity: 'attribute', key: t.v };
  const prefix = t.v.slice(0, dot).toLowerCase();
  const entity = PREFIXES[prefix];
  if (!entity) fail(cur.field, `invalid entity type '${t.v.slice(0, dot)}'; expected metrics, params, tags, attributes or datasets`);
  let key = t.v.slice(dot + 1);
  if (key === '') {
    const q = cur.next();
    if (!q || (q.t !== 'bt' && q.t !== 'dq')) fail(cur.field, `expected a key after '${t.v}'`);
    key = q.v;
  }
  return { entity, key };
}

function literal(cur: Cursor): string | number {
  const t = cur.next();
  if (t?.t === 'str' || t?.t === 'dq') return t.v;
  if (t?.t === 'num') return t.v;
  fail(cur.field, `expected a quoted string or a number${t ? `, got '${String(t.v)}'` : ' at the end'}`);
}

function comparator(cur: Cursor): Comparator {
  const t = cur.peek();
  if (t?.t === 'op') { cur.next(); return t.v as Comparator; }
  if (cur.isWord('LIKE') || cur.isWord('ILIKE') || cur.isWord('IN')) return (cur.next()!.v as string).toUpperCase() as Comparator;
  if (cur.isWord('NOT') && cur.isWord('IN', 1)) { cur.i += 2; return 'NOT IN'; }
  if (cur.isWord('IS') && cur.isWord('NULL', 1)) { cur.i += 2; return 'IS NULL'; }
  if (cur.isWord('IS') && cur.isWord('NOT', 1) && cur.isWord('NULL', 2)) { cur.i += 3; return 'IS NOT NULL'; }
  fail(cur.field, `expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)${t ? `, got '${String(t.v)}'` : ' at the end'}`);
}

function list(cur: Cursor): string[] {
  const open = cur.next();
  if (open?.t !== 'punct' || open.v !== '(') fail(cur.field, "IN expects a parenthesised list of quoted strings, such as ('a', 'b')");
  const out: string[] = [];
  for (;;) {
    const t = cur.next();
    if (t?.t !== 'str' && t?.t !== 'dq') fail(cur.field, 'IN lists hold quoted strings');
    out.push(t.v);
    const sep = cur.next();
    if (sep?.t === 'punct' && sep.v === ')') return out;
    if (sep?.t !== 'punct' || sep.v !== ',') fail(cur.field, "IN list items are separated by ',' and closed by ')'");
  }
}

/** Parses a filter string; an empty or missing filter is no condition. */
export function parseFilter(text: string | undefined, field = 'filter'): Condition[] {
  if (!text || !text.trim()) return [];
  const cur = new Cursor(tokenize(text, field), field);
  const out: Condition[] = [];
  for (;;) {
    const { entity, key } = identifier(cur);
    const op = comparator(cur);
    let value: Condition['value'] = null;
    if (op === 'IN' || op === 'NOT IN') value = list(cur);
    else if (op !== 'IS NULL' && op !== 'IS NOT NULL') value = literal(cur);
    out.push({ entity, key, op, value });
    if (cur.peek() === undefined) return out;
    if (!cur.isWord('AND')) fail(field, `conditions are joined with AND (OR is not supported), got '${String(cur.peek()!.v)}'`);
    cur.next();
  }
}

/** Parses `order_by` items such as `metrics.acc DESC` or `attributes.start_time`. */
export function parseOrderBy(items: string[], field = 'order_by'): OrderTerm[] {
  return items.map((item) => {
    const cur = new Cursor(tokenize(item, field), field);
    const { entity, key } = identifier(cur);
    let desc = false;
    if (cur.isWord('DESC')) { desc = true; cur.next(); } else if (cur.isWord('ASC')) cur.next();
    if (cur.peek() !== undefined) fail(field, `'${item}': expected '<identifier> [ASC|DESC]'`);
    return { entity, key, desc };
  });
}
