import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, LABEL, irisCsv, shiftedRows } from '../../src/demo/data.js';
import { demoNames } from '../../src/demo/context.js';

describe('the demo data and names', () => {
  it('is the 150-row iris table from the npm package, with a binary virginica label', () => {
    const [head, ...rows] = irisCsv().trimEnd().split('\n');
    assert.equal(head, [...FEATURES, LABEL].join(','));
    assert.equal(rows.length, 150);
    assert.equal(rows[0], '5.1,3.5,1.4,0.2,0');
    assert.equal(rows.filter((r) => r.endsWith(',1')).length, 50);
  });

  it('shifts every feature beyond the training range', () => {
    for (const r of shiftedRows(20)) {
      assert.equal(r.length, FEATURES.length);
      assert.ok(r[0] >= 4.3 * 1.6 + 1.5 - 1e-9, String(r));
    }
  });

  it('names every resource with one suffix, fresh per run unless given', () => {
    const a = demoNames();
    assert.match(a.suffix, /^[0-9a-f]{4}$/);
    assert.deepEqual(demoNames('demo'), { suffix: 'demo', dataset: 'iris-demo', model: 'iris-demo', pipeline: 'iris-demo-train', endpoint: 'iris-demo', rollout: 'iris-demo-green', monitor: 'iris-demo-drift', rule: 'iris-demo-drift' });
  });
});
