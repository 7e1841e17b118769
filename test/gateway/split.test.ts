import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TrafficSplit } from '../../src/gateway/split.js';

const counts = (names: Array<string | null>) => names.reduce<Record<string, number>>((c, n) => ((c[n ?? '-'] = (c[n ?? '-'] ?? 0) + 1), c), {});

describe('traffic split rotation', () => {
  it('gives every run of 100 requests exactly the configured shares, at any phase', () => {
    for (const phase of [0, 0.37, 0.99]) {
      const s = new TrafficSplit(['blue', 'green', 'canary'], [50, 30, 20], phase);
      const picks = Array.from({ length: 300 }, () => s.next());
      for (let start = 0; start <= 200; start += 7) assert.deepEqual(counts(picks.slice(start, start + 100)), { blue: 50, green: 30, canary: 20 }, `phase ${phase} from ${start}`);
    }
  });

  it('spreads a small share evenly: 10% is one request in every ten', () => {
    const s = new TrafficSplit(['blue', 'green'], [90, 10], 0.5);
    const picks = Array.from({ length: 200 }, () => s.next());
    for (let start = 0; start <= 190; start++) assert.equal(picks.slice(start, start + 10).filter((n) => n === 'green').length, 1, `window at ${start}`);
  });

  it('answers null without traffic and recognises an unchanged split', () => {
    assert.equal(new TrafficSplit([], []).next(), null);
    const s = new TrafficSplit(['a', 'b'], [60, 40]);
    assert.ok(s.sameAs(['a', 'b'], [60, 40]));
    assert.ok(!s.sameAs(['a', 'b'], [50, 50]) && !s.sameAs(['a'], [100]));
  });
});
