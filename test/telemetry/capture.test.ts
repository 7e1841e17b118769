import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Registry } from 'prom-client';
import { redact, toFeatures, toRecord, type PendingCapture } from '../../src/gateway/capture.js';
import { gatewayMetrics } from '../../src/gateway/metrics.js';
import { TelemetryWriter } from '../../src/gateway/telemetry.js';
import { decodeScoring } from '../../src/serving/codec.js';
import type { ModelSignature } from '../../src/serving/predictor.js';
import { bucketOf, BUCKETS, emptyHistogram, quantile } from '../../src/telemetry/histogram.js';
import type { TelemetryBatch } from '../../src/telemetry/sink.js';

const matrix: ModelSignature = { inputs: [{ name: 'input', type: 'float32', shape: [-1, 3] }], outputs: [{ name: 'y', type: 'float32', shape: [-1, 1] }] };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function pending(over: Partial<PendingCapture> = {}): PendingCapture {
  const d = decodeScoring({ dataframe_split: { columns: ['age', 'email', 'zip'], data: [[1, 2, 3], [4, 5, 6]] } }, matrix);
  return {
    endpointId: 1,
    endpoint: 'e',
    policy: { sample: 1 },
    deployment: 'blue',
    model: { name: 'm', version: 1 },
    requestId: 'r1',
    at: 0,
    format: d.format,
    columns: d.columns,
    inputs: d.inputs,
    outputs: { y: { type: 'float32', dims: [2, 1], data: new Float32Array([0.5, 0.25]) } },
    status: 200,
    latencyMs: 3,
    ...over,
  };
}

describe('capture records', () => {
  it('names the features of a single matrix by the request columns, dataframe_split and dataframe_records alike', () => {
    const split = decodeScoring({ dataframe_split: { columns: ['a', 'b', 'c'], data: [[1, 2, 3]] } }, matrix);
    assert.deepEqual(toFeatures(split.inputs, split.columns), { columns: ['a', 'b', 'c'], rows: [[1, 2, 3]] });
    const records = decodeScoring({ dataframe_records: [{ a: 1, b: 2, c: 3 }] }, matrix);
    assert.deepEqual(toFeatures(records.inputs, records.columns)?.columns, ['a', 'b', 'c']);
  });

  it('falls back to f0…fN without column names, and to input names for one column per input', () => {
    const lists = decodeScoring({ instances: [[1, 2, 3]] }, matrix);
    assert.deepEqual(toFeatures(lists.inputs, undefined), { columns: ['f0', 'f1', 'f2'], rows: [[1, 2, 3]] });
    const multi: ModelSignature = { inputs: [{ name: 'x', type: 'float64', shape: [-1] }, { name: 'k', type: 'string', shape: [-1, 1] }], outputs: [] };
    const d = decodeScoring({ dataframe_split: { columns: ['k', 'x'], data: [['u', 1], ['v', 2]] } }, multi);
    assert.deepEqual(toFeatures(d.inputs, d.columns), { columns: ['x', 'k'], rows: [[1, 'u'], [2, 'v']] });
  });

  it('drops and hashes fields before the record leaves the writer', () => {
    const rec = toRecord(pending({ policy: { sample: 1, drop: ['zip'], hash: ['email', 'y'] } }));
    assert.deepEqual(rec.features, { columns: ['age', 'email'], rows: [[1, sha('2')], [4, sha('5')]] });
    assert.deepEqual(rec.outputs, { y: [[sha('0.5')], [sha('0.25')]] });
    assert.equal(rec.inputs, null);
    const plain = toRecord(pending());
    assert.deepEqual(plain.features?.columns, ['age', 'email', 'zip']);
    assert.deepEqual(redact(plain, { sample: 1, drop: [], hash: [] }), plain);
  });
});

describe('latency histogram', () => {
  it('puts a latency in a bucket whose middle is within ~10%, and percentiles in order', () => {
    for (const ms of [0.3, 1, 7.5, 42, 900, 20_000]) {
      const h = emptyHistogram();
      h[bucketOf(ms)]++;
      const q = quantile(h, 0.5)!;
      assert.ok(Math.abs(q - ms) / ms < 0.1, `${ms} → ${q}`);
    }
    assert.equal(bucketOf(1e9), BUCKETS - 1);
    const h = emptyHistogram();
    for (let i = 1; i <= 100; i++) h[bucketOf(i)]++;
    const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => quantile(h, q)!);
    assert.ok(p50 > 45 && p50 < 56 && p95 > 85 && p95 < 105 && p99 >= p95, `${p50} ${p95} ${p99}`);
    assert.equal(quantile(emptyHistogram(), 0.5), null);
  });
});

describe('telemetry writer', () => {
  const setup = (sink: (b: TelemetryBatch) => Promise<void>, maxBuffer = 2, maxBufferBytes?: number) => {
    const registry = new Registry();
    const metrics = gatewayMetrics(registry);
    const writer = new TelemetryWriter({ sink: { write: sink }, metrics, maxBuffer, maxBufferBytes, log: { warn: () => undefined }, now: () => 120_000 });
    const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
    return { writer, value };
  };

  it('samples by rate: 1 always, 0 never', () => {
    const { writer } = setup(async () => undefined);
    assert.ok(Array.from({ length: 100 }).every(() => writer.sampled({ sample: 1 })));
    assert.ok(!Array.from({ length: 100 }).some(() => writer.sampled({ sample: 0 })));
    assert.equal(writer.sampled(null), false);
  });

  it('drops and counts captures past a full buffer, and writes the rest', async () => {
    const batches: TelemetryBatch[] = [];
    const { writer, value } = setup(async (b) => void batches.push(b));
    for (let i = 0; i < 5; i++) writer.capture(pending({ requestId: `r${i}` }));
    assert.equal(await value('slipway_capture_dropped_total'), 3);
    assert.equal(await value('slipway_captures_total'), 2);
    await writer.close();
    assert.deepEqual(batches.flatMap((b) => b.captures.map((c) => c.requestId)), ['r0', 'r1']);
  });

  it('bounds the buffer by tensor bytes too', async () => {
    const { writer, value } = setup(async () => undefined, 100, 40); // one capture holds 6 + 2 float32s: 32 bytes
    for (let i = 0; i < 3; i++) writer.capture(pending());
    assert.deepEqual([await value('slipway_captures_total'), await value('slipway_capture_dropped_total')], [1, 2]);
    await writer.flush();
    writer.capture(pending());
    assert.equal(await value('slipway_captures_total'), 2, 'a write frees the budget');
  });

  it('counts a failed write, never throws it, and keeps rollups for the next flush', async () => {
    let fail = true;
    const batches: TelemetryBatch[] = [];
    const { writer, value } = setup(async (b) => {
      if (fail) throw new Error('store down');
      batches.push(b);
    });
    writer.observe(1, 'blue', 200, 5);
    writer.capture(pending());
    await writer.flush();
    assert.equal(await value('slipway_telemetry_write_errors_total'), 1);
    assert.equal(await value('slipway_capture_dropped_total'), 1);
    fail = false;
    writer.observe(1, 'blue', 503, 7);
    await writer.close();
    assert.equal(batches.length, 1);
    const [r] = batches[0].rollups;
    assert.deepEqual([r.requests, r.errors5xx, r.latencyHist.reduce((s, c) => s + c, 0)], [2, 1, 2]);
  });
});
