import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { parseFilter, parseOrderBy, decodePageToken, encodePageToken } from '../../src/registry/filter.js';
import { digestOf, onnxFlavorData } from '../../src/registry/storage.js';
import { readTar, writeTar } from '../../src/registry/tar.js';
import { readOnnxSignature } from '../../src/registry/onnx.js';
import { expectedOutput, linearOnnx, logisticRegressionOnnx, mlmodelYaml } from '../helpers/onnx.js';

describe('test ONNX models (test/helpers/onnx.ts)', () => {
  it('load in onnxruntime-node and compute what expectedOutput says', async () => {
    for (const sigmoid of [false, true]) {
      const s = await InferenceSession.create(sigmoid ? logisticRegressionOnnx() : linearOnnx());
      const x = [[1, 2, 3, 4], [0, -1, 0.5, 2]];
      const out = await s.run({ input: new Tensor('float32', Float32Array.from(x.flat()), [2, 4]) });
      const want = expectedOutput(x, { sigmoid });
      [...(out.output.data as Float32Array)].forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `${v} vs ${want[i]}`));
      await s.release();
    }
  });
  it('give their signature to the registry', async () => {
    const sig = await readOnnxSignature(linearOnnx({ weights: [1, 2], inputName: 'x', outputName: 'y' }), 'm.onnx');
    assert.deepEqual(sig.inputs, [{ name: 'x', type: 'float32', shape: ['N', 2] }]);
    assert.deepEqual(sig.outputs, [{ name: 'y', type: 'float32', shape: ['N', 1] }]);
    await assert.rejects(readOnnxSignature(Buffer.from('nope'), 'bad.onnx'), /bad\.onnx.*not an ONNX model/);
  });
  it('come with an MLmodel naming model.onnx', () => {
    assert.equal(onnxFlavorData(mlmodelYaml()), 'model.onnx');
    assert.equal(onnxFlavorData('flavors: {}\n'), undefined);
  });
});

describe('tar reader and writer', () => {
  it('round-trip files, long names included, in bounded chunks', async () => {
    const files = [
      { path: 'a.txt', data: Buffer.from('hello') },
      { path: 'dir/' + 'x'.repeat(150) + '.bin', data: Buffer.alloc(3 * 1024 * 1024 + 5, 9) },
      { path: 'empty', data: Buffer.alloc(0) },
    ];
    const tar = writeTar(files.map((f) => ({ path: f.path, size: f.data.length, open: () => Readable.from([f.data]) })));
    const got: Array<{ path: string; data: Buffer }> = [];
    for await (const e of readTar(tar)) {
      const parts: Buffer[] = [];
      for await (const c of e.body) parts.push(Buffer.from(c));
      got.push({ path: e.path, data: Buffer.concat(parts) });
    }
    assert.deepEqual(got.map((g) => g.path), files.map((f) => f.path));
    got.forEach((g, i) => assert.ok(g.data.equals(files[i].data)));
  });
  it('refuses truncated archives and links', async () => {
    const chunks: Buffer[] = [];
    for await (const c of writeTar([{ path: 'a', size: 600, open: () => Readable.from([Buffer.alloc(600)]) }])) chunks.push(Buffer.from(c));
    const whole = Buffer.concat(chunks);
    const drain = async (b: Buffer) => {
      for await (const e of readTar(Readable.from([b]))) for await (const _ of e.body) void _;
    };
    await assert.rejects(drain(whole.subarray(0, 700)), /truncated|ends/);
    const link = Buffer.from(whole);
    link[156] = '2'.charCodeAt(0);
    let sum = 0;
    link.fill(32, 148, 156);
    for (const b of link.subarray(0, 512)) sum += b;
    link.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1');
    await assert.rejects(drain(link), /not a regular file/);
  });
});

describe('registry search filter', () => {
  const keys = { keys: ['name', 'run_id', 'version_number'] };
  it('parses MLflow filters', () => {
    assert.deepEqual(parseFilter("name = 'a' AND tags.`my key` LIKE '%x%' and run_id IN ('r1', \"r2\")", keys), [
      { key: 'name', op: '=', value: 'a' },
      { key: 'tag', tag: 'my key', op: 'LIKE', value: '%x%' },
      { key: 'run_id', op: 'IN', value: ['r1', 'r2'] },
    ]);
    assert.deepEqual(parseFilter("version_number = 3", keys), [{ key: 'version_number', op: '=', value: 3 }]);
    assert.deepEqual(parseFilter("name ILIKE 'it''s'".replace("''", "\\'"), keys), [{ key: 'name', op: 'ILIKE', value: "it's" }]);
    assert.deepEqual(parseFilter('  ', keys), []);
  });
  it('names what it expected', () => {
    assert.throws(() => parseFilter("colour = 'x'", keys), /unknown key 'colour'/);
    assert.throws(() => parseFilter("name = 'x' OR name = 'y'", keys), /OR is not supported/);
    assert.throws(() => parseFilter('name =', keys), /quoted string/);
    assert.throws(() => parseFilter("name LIKE 3", keys), /quoted pattern/);
    assert.throws(() => parseOrderBy(['name sideways'], { name: 'name' }), /ASC or DESC/);
    assert.throws(() => decodePageToken('%%%'), /page token/);
    assert.equal(decodePageToken(encodePageToken(40)), 40);
  });
  it('digests a version as sha256 over sorted path NUL sha256 lines', () => {
    assert.equal(digestOf([{ path: 'b', sha256: '2' }, { path: 'a', sha256: '1' }]), digestOf([{ path: 'a', sha256: '1' }, { path: 'b', sha256: '2' }]));
    assert.notEqual(digestOf([{ path: 'a', sha256: '1' }]), digestOf([{ path: 'a', sha256: '2' }]));
  });
});
