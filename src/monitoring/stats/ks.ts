/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp
 * with method='auto' computes it: the exact distribution when both samples
 * have at most 10 000 values (the statistic is then rounded to h/lcm(n1, n2)
 * as SciPy does), otherwise the asymptotic one, kstwo.sf(D, round(n1·n2/(n1+n2))).
 */
import { ecdfDistances } from './distance.js';
import { kolmogorovSf } from './kolmogorov.js';

const MAX_EXACT_N = 10_000;

export interface KsResult {
  statistic: number;
  pValue: number;
  mode: 'exact' | 'asymp';
}

/** `statistic` may be given when a merge pass already computed it. */
export function ksTwoSample(a: Float64Array, b: Float64Array, statistic?: number): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (!n1 || !n2) return { statistic: NaN, pValue: NaN, mode: 'exact' };
  let d = statistic ?? ecdfDistances(a, b).ks;
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, mode: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideInside(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: d, pValue: p, mode: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: clip(kolmogorovSf(roundHalfEven(en), d)), mode: 'asymp' };
}

const clip = (p: number) => Math.min(1, Math.max(0, p));

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D_{n,n} >= h/n): an alternating binomial series evaluated Horner-style to avoid cancellation. */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * 1 − (share of lattice paths from (0,0) to (m,n) staying strictly inside
 * |x/m − y/n| < h/lcm), by Hodges' inside method in the form that carries
 * 1 − p directly (Viehmann 2021), keeping one sliding column.
 */
function probOutsideInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1];
}
