import { Invalid } from '../../shared/errors.js';

/**
 * Five-field cron (minute hour day-of-month month day-of-week) read in a
 * time zone: `*`, lists, ranges and steps (`*\/15`, `1-5`, `0,30`); day of
 * week 0-7 with 0 and 7 both Sunday. As in Vixie cron, when both day fields
 * are restricted a day matching either one matches.
 */
export interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domAny: boolean;
  dowAny: boolean;
}

const RANGES: Array<[string, number, number]> = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

function field(text: string, [label, lo, hi]: [string, number, number], where: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw Invalid.field(where, `a cron expression; '${part}' is not a valid ${label}`);
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? hi : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1) throw Invalid.field(where, `a cron expression; ${label} '${part}' is outside ${lo}-${hi}`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

export function checkCron(expr: string, where = 'schedule'): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw Invalid.field(where, `a cron expression of five fields (minute hour day-of-month month day-of-week), got '${expr}'`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => field(p, RANGES[i], where));
  if (dow.has(7)) dow.add(0);
  return { minute, hour, dom, month, dow, domAny: parts[2] === '*', dowAny: parts[4] === '*' };
}

const formats = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock fields of an instant in a time zone. */
function wallClock(ms: number, timeZone: string) {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { minute: Number(p.minute), hour: Number(p.hour), dom: Number(p.day), month: Number(p.month), dow: WEEKDAY[p.weekday] };
}

/** Whether the minute starting at `ms` (a whole minute) is a tick of `cron` in `timeZone`. */
export function matches(cron: Cron, ms: number, timeZone: string): boolean {
  const w = wallClock(ms, timeZone);
  if (!cron.minute.has(w.minute) || !cron.hour.has(w.hour) || !cron.month.has(w.month)) return false;
  const dom = cron.dom.has(w.dom);
  const dow = cron.dow.has(w.dow);
  if (cron.domAny || cron.dowAny) return (cron.domAny || dom) && (cron.dowAny || dow);
  return dom || dow;
}

/** Ticks in (after, upTo], whole minutes, oldest first. */
export function ticksBetween(cron: Cron, timeZone: string, after: number, upTo: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(after / 60_000) * 60_000 + 60_000; t <= upTo; t += 60_000) if (matches(cron, t, timeZone)) out.push(t);
  return out;
}
