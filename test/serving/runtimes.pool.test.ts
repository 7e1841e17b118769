import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cancellation, InstancePool, type Instance } from '../../src/serving/runtimes/pool.js';
import type { Tensors } from '../../src/serving/predictor.js';
import { isSlipwayError } from '../../src/shared/errors.js';

/** An instance whose runs finish only when the test says so. */
class Manual implements Instance {
  healthy = true;
  runs: Array<{ inputs: Tensors; finish(): void; fail(e: unknown): void; cancel: Cancellation }> = [];
  run(inputs: Tensors, cancel: Cancellation): Promise<Tensors> {
    return new Promise((resolve, reject) => this.runs.push({ inputs, cancel, finish: () => resolve(inputs), fail: reject }));
  }
}

const t = (k: number): Tensors => ({ x: { type: 'float32', dims: [1], data: Float32Array.of(k) } });
const pool = (instances: Instance[], over: Partial<ConstructorParameters<typeof InstancePool>[1]> = {}) =>
  new InstancePool(instances, { name: 'm', maxConcurrent: 1, maxQueue: 2, timeoutMs: 0, ...over });
const code = (e: unknown) => (isSlipwayError(e) ? e.code : String(e));

describe('instance pool', () => {
  it('uses the least-loaded healthy instance, queues in order, refuses past the bound', async () => {
    const a = new Manual();
    const b = new Manual();
    const p = pool([a, b]);
    const r = [1, 2, 3, 4].map((k) => p.submit(t(k)));
    assert.equal(a.runs.length + b.runs.length, 2);
    assert.equal(p.queued, 2);
    const refused = await p.submit(t(5)).catch((e: unknown) => e);
    assert.equal(code(refused), 'unavailable');
    assert.ok((refused as { retryAfterSeconds: number }).retryAfterSeconds >= 1);
    a.runs[0].finish();
    assert.deepEqual(await r[0], t(1));
    assert.equal(a.runs.length, 2, 'the freed instance took the first queued request');
    assert.deepEqual(a.runs[1].inputs, t(3));
    b.runs[0].finish();
    a.runs[1].finish();
    await r[1];
    await r[2];
    assert.deepEqual(b.runs[1].inputs, t(4));
    b.runs[1].finish();
    assert.deepEqual(await r[3], t(4));
    assert.equal(p.running, 0);
  });

  it('times out a running request at once and frees its slot only when the instance finishes', async () => {
    const a = new Manual();
    const p = pool([a], { timeoutMs: 5 });
    const running = p.submit(t(1));
    const queued = p.submit(t(2));
    assert.equal(code(await running.catch((e: unknown) => e)), 'timeout');
    assert.ok(a.runs[0].cancel.aborted, 'the instance is told');
    assert.equal(code(await queued.catch((e: unknown) => e)), 'timeout');
    assert.equal(p.queued, 0, 'a timed-out request leaves the queue');
    assert.equal(p.running, 1);
    a.runs[0].finish();
    await new Promise((r) => setImmediate(r));
    assert.equal(p.running, 0);
  });

  it('honours the caller signal, queued or running', async () => {
    const a = new Manual();
    const p = pool([a]);
    const ac = new AbortController();
    const running = p.submit(t(1), { signal: ac.signal });
    const queued = p.submit(t(2), { signal: ac.signal });
    ac.abort(new Error('gone'));
    await assert.rejects(running, /gone/);
    await assert.rejects(queued, /gone/);
    assert.equal(p.queued, 0);
  });

  it('makes an AbortSignal only for a runtime that asks, aborted with the same reason', () => {
    const c = new Cancellation();
    const seen: string[] = [];
    c.onCancel((r) => seen.push(String(r)));
    const early = c.signal;
    c.cancel('deadline');
    c.cancel('again');
    assert.deepEqual(seen, ['deadline']);
    assert.equal(early.reason, 'deadline');
    assert.equal(c.signal.aborted, true);
    // Asked for after the fact, the signal is already aborted, and late callbacks run at once.
    const late = new Cancellation();
    late.cancel('gone');
    assert.equal(late.signal.reason, 'gone');
    late.onCancel((r) => seen.push(String(r)));
    assert.deepEqual(seen, ['deadline', 'gone']);
  });

  it('refuses with Unavailable when nothing is healthy, and fails the queue when the last instance goes', async () => {
    const a = new Manual();
    const p = pool([a]);
    const running = p.submit(t(1));
    const queued = p.submit(t(2));
    a.healthy = false;
    p.drain();
    assert.equal(code(await queued.catch((e: unknown) => e)), 'unavailable');
    assert.equal(code(await p.submit(t(3)).catch((e: unknown) => e)), 'unavailable');
    a.runs[0].fail(new Error('connection reset'));
    await assert.rejects(running, /connection reset/);
  });
});
