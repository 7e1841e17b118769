import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { allNumerical, categoricalDrift, driftedShare, numericalDrift } from '../../src/monitoring/stats/drift.js';
import { chiSquared } from '../../src/monitoring/stats/categorical.js';
import { binCounts, jensenShannon, normalizedWasserstein, psi, quantileEdges, wasserstein } from '../../src/monitoring/stats/distance.js';
import { ksTwoSample } from '../../src/monitoring/stats/ks.js';
import { kolmogorovSf } from '../../src/monitoring/stats/kolmogorov.js';
import { sortedFinite } from '../../src/monitoring/stats/sort.js';
import { classification, estimatedClassification, regression, rocAuc } from '../../src/monitoring/performance.js';
import { close, FIXTURE_PATH, fixtures, sample } from './fixtures.js';

const near = (actual: number, expected: number, what: string, rel = 1e-9) =>
  assert.ok(close(actual, expected, rel), `${what}: ${actual} != SciPy ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);

describe('numerical drift statistics equal SciPy to 1e-9 relative', () => {
  for (const c of fixtures.numerical) {
    test(c.name, () => {
      const a = sortedFinite(sample(c.a));
      const b = sortedFinite(sample(c.b));
      const ks = ksTwoSample(a, b);
      near(ks.statistic, c.ks.statistic, 'ks statistic');
      near(ks.pValue, c.ks.pValue, `ks p-value (${ks.mode})`);
      near(wasserstein(a, b), c.wasserstein, 'wasserstein');
      near(normalizedWasserstein(a, b), c.wassersteinNorm, 'normalized wasserstein');
      const edges = quantileEdges(a);
      assert.equal(edges.length, c.edges.length);
      edges.forEach((e, i) => assert.ok(e === c.edges[i] || close(e, c.edges[i], 1e-12), `edge ${i}: ${e} != ${c.edges[i]}`));
      assert.deepEqual([...binCounts(a, edges)], c.refCounts);
      assert.deepEqual([...binCounts(b, edges)], c.curCounts);
      near(psi(c.refCounts, c.curCounts), c.psi, 'psi');
      near(jensenShannon(c.refCounts, c.curCounts), c.jensenShannon, 'jensen-shannon');
    });
  }
});

test('kstwo.sf equals SciPy across its algorithm regions', () => {
  for (const c of fixtures.kstwo) near(kolmogorovSf(c.n, c.x), c.sf, `kstwo.sf(${c.x}, ${c.n})`);
});

describe('categorical drift statistics equal SciPy', () => {
  for (const c of fixtures.categorical) {
    test(c.name, () => {
      const chi = chiSquared(c.reference, c.current);
      near(chi.statistic, c.chiSquared.statistic, 'chi-squared statistic');
      near(chi.pValue, c.chiSquared.pValue, 'chi-squared p-value');
      near(jensenShannon(c.reference, c.current), c.jensenShannon, 'jensen-shannon');
      near(psi(c.reference, c.current), c.psi, 'psi');
    });
  }
});

test('default methods by type and size, thresholds and the drifted share', () => {
  const small = numericalDrift('x', sample({ seed: 1, n: 500, shape: 'bell', scale: 1, shift: 0 }), sample({ seed: 2, n: 300, shape: 'bell', scale: 1, shift: 1 }));
  assert.equal(small.method, 'ks');
  assert.equal(small.threshold, 0.05);
  assert.equal(small.drifted, true);
  const large = numericalDrift('y', sample({ seed: 3, n: 5000, shape: 'bell', scale: 1, shift: 0 }), sample({ seed: 4, n: 300, shape: 'bell', scale: 1, shift: 0 }));
  assert.equal(large.method, 'wasserstein');
  assert.equal(large.threshold, 0.1);
  assert.equal(large.drifted, false);
  const override = numericalDrift('z', sample({ seed: 3, n: 5000, shape: 'bell', scale: 1, shift: 0 }), sample({ seed: 4, n: 300, shape: 'bell', scale: 1, shift: 0 }), { method: 'psi', threshold: 0.2 });
  assert.equal(override.method, 'psi');
  assert.equal(override.histogram.reference.length, override.histogram.edges!.length + 1);
  const cat = categoricalDrift('c', ['a', 'b', 'a', 'c'], ['a', 'a', 'a', 'd']);
  assert.equal(cat.method, 'chi_squared');
  assert.equal(cat.statistic, Infinity);
  assert.equal(cat.drifted, true);
  assert.deepEqual(cat.histogram.categories, ['a', 'b', 'c', 'd']);
  assert.deepEqual(driftedShare([small, large, override]), { share: 1 / 3, threshold: 0.5, drifted: false });
});

test('sorting handles NaN, -0, infinities and large arrays', () => {
  const big = sample({ seed: 5, n: 50_000, shape: 'bell', scale: 1e6, shift: -3 });
  big[0] = NaN;
  big[1] = -0;
  big[2] = Infinity;
  big[3] = -Infinity;
  const sorted = sortedFinite(big);
  assert.equal(sorted.length, big.length - 1);
  const expected = Float64Array.from(big.filter((v) => v === v)).sort();
  assert.deepEqual([...sorted], [...expected].map((v) => (v === 0 ? 0 : v)));
});

const PYTHON = '/usr/bin/python3';
const hasScipy = existsSync(PYTHON) && (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import scipy, sklearn'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('the committed fixture is what scripts/drift-fixtures.py computes now', { skip: !hasScipy && 'no /usr/bin/python3 with scipy and sklearn' }, () => {
  const script = new URL('../../scripts/drift-fixtures.py', import.meta.url).pathname;
  const fresh = execFileSync(PYTHON, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.equal(fresh, readFileSync(FIXTURE_PATH, 'utf8'), 'run: /usr/bin/python3 scripts/drift-fixtures.py > test/fixtures/drift.json');
});

test('allNumerical (one merge pass) agrees with the methods one by one', () => {
  for (const c of fixtures.numerical) {
    const a = sortedFinite(sample(c.a));
    const b = sortedFinite(sample(c.b));
    const all = allNumerical(a, b);
    near(all.ks, c.ks.statistic, 'ks');
    near(all.ksPValue, c.ks.pValue, 'ks p-value');
    near(all.wasserstein, c.wassersteinNorm, 'normalized wasserstein');
    near(all.psi, c.psi, 'psi');
    near(all.jensen_shannon, c.jensenShannon, 'jensen-shannon');
  }
});

test('classification and regression metrics equal scikit-learn (tied scores included)', () => {
  const p = fixtures.performance;
  const c = classification(p.labels, p.scores, 0.5);
  for (const k of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const) near(c[k]!, p[k], k);
  const r = regression(p.actual, p.predicted);
  near(r.mae, p.mae, 'mae');
  near(r.rmse, p.rmse, 'rmse');
  assert.equal(rocAuc([1, 1], [0.2, 0.9]), null, 'one class: no ROC AUC');
  // CBPE on perfectly confident scores is the measured confusion.
  assert.deepEqual(estimatedClassification([1, 1, 0, 0], 0.5), { accuracy: 1, precision: 1, recall: 1, f1: 1 });
});
