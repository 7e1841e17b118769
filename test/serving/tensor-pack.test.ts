import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack, packable, unpack } from '../../src/serving/runtimes/tensor-pack.js';
import type { Tensors } from '../../src/serving/predictor.js';

describe('tensor packing for worker messages', () => {
  it('round-trips every numeric type, with aligned zero-copy views over one buffer', () => {
    const a: Tensors = {
      input: { type: 'float32', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
      'ünïcode name': { type: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) },
      ids: { type: 'int64', dims: [2], data: BigInt64Array.from([1n, -(2n ** 40n)]) },
    };
    const b: Tensors = {
      d: { type: 'float64', dims: [1], data: Float64Array.from([Math.PI]) },
      i: { type: 'int32', dims: [0, 4], data: new Int32Array(0) },
    };
    // A view into a larger buffer packs only its own bytes.
    const big = new Float32Array([9, 8, 7, 6]);
    const c: Tensors = { part: { type: 'float32', dims: [2], data: big.subarray(1, 3) } };
    const buf = pack([
      { id: 7, tensors: a },
      { id: 4_000_000_000, tensors: b },
      { id: 1, tensors: c },
    ]);
    const out = unpack(buf);
    assert.deepEqual(out.map((s) => s.id), [7, 4_000_000_000, 1]);
    assert.deepEqual(out[0].tensors, a);
    assert.deepEqual(out[1].tensors, b);
    assert.deepEqual([...out[2].tensors.part.data as Float32Array], [8, 7]);
    for (const s of out) for (const t of Object.values(s.tensors)) {
      const v = t.data as Float32Array;
      assert.equal(v.buffer, buf, 'a view, not a copy');
      assert.equal(v.byteOffset % 8, 0);
    }
  });

  it('refuses string tensors, which travel by structured clone instead', () => {
    assert.equal(packable({ s: { type: 'string', dims: [1], data: ['x'] } }), false);
    assert.equal(packable({ f: { type: 'float32', dims: [1], data: new Float32Array(1) } }), true);
    assert.deepEqual(unpack(pack([])), []);
  });
});
