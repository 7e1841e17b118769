import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ceil32 } from '../../../src/jobs/trainer/export.js';
import { train } from '../../../src/jobs/trainer/index.js';

/** The float64 → float32 rules that make tree exports decide exactly as the libraries do. */

/** The neighbouring float32 of f towards +∞ (up) or −∞ (down), for f not zero. */
function step32(f: number, up: boolean): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, f);
  v.setInt32(0, v.getInt32(0) + ((f > 0) === up ? 1 : -1));
  return v.getFloat32(0);
}
const nextUp32 = (f: number) => step32(f, true);

describe('built-in trainer: exact tree thresholds', () => {
  it('ceil32 is the smallest float32 at or above a number', () => {
    for (const t of [0.1, -0.1, 1 + 2 ** -24, -(1 + 2 ** -24), 3, 1e-45, -1e-46, 123456.789, 2 ** -130]) {
      const c = ceil32(t);
      assert.equal(Math.fround(c), c, `${t}: ${c} is a float32`);
      assert.ok(c >= t, `${t}: ${c} >= t`);
      // No float32 lies in [t, c): the one below c is under t.
      if (c !== t && c !== 0) assert.ok(step32(c, false) < t, `${t}: ${step32(c, false)} < t`);
    }
    assert.equal(ceil32(0), 0);
    assert.equal(ceil32(1), 1);
  });

  it('a split between two neighbouring float32 values decides both as the tree does', async () => {
    // ml-cart splits at the float64 midpoint; rounded to float32 (ties to even) it would equal the lower value.
    const a = 1;
    const b = nextUp32(1);
    assert.equal(Math.fround((a + b) / 2), a);
    const x = [...Array(6).fill([a]), ...Array(6).fill([b])];
    const y = [...Array(6).fill(0), ...Array(6).fill(1)];
    const r = train({ task: 'classification', algorithm: 'decision_tree', features: ['v'], label: 'y', params: { minSamples: 1 }, testFraction: 0 }, { x, y, classes: [0, 1] });
    assert.deepEqual(r.predict([[a], [b]]).labels, [0, 1]);
    const session = await ort.InferenceSession.create(r.onnx);
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from([a, b]), [2, 1]) });
    assert.deepEqual([...(out.label.data as BigInt64Array)], [0n, 1n]);
  });
});
