import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ProcessPredictor } from '../../src/serving/runtimes/process.js';
import type { Tensor } from '../../src/serving/predictor.js';
import { isSlipwayError } from '../../src/shared/errors.js';
import { expectedOutput } from '../helpers/onnx.js';
import { until } from '../helpers/process.js';

const server = fileURLToPath(new URL('./fixtures/oip-server.mjs', import.meta.url));
const rows = [
  [1, 2, 3, 4],
  [-1, 0.5, 2, -3],
];
const x = (): Tensor => ({ type: 'float32', dims: [2, 4], data: Float32Array.from(rows.flat()) });
const env = { PATH: process.env.PATH ?? '' };

function close(got: Tensor): void {
  const want = expectedOutput(rows, { sigmoid: true });
  assert.deepEqual(got.dims, [2, 1]);
  (got.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
}

describe('process runtime', () => {
  it('starts the model server, reads its signature and serves over OIP', async () => {
    const p = new ProcessPredictor({ name: 'lr', command: [process.execPath, server], env, instances: 2 });
    try {
      await p.ready;
      assert.deepEqual(p.signature.inputs, [{ name: 'input', type: 'float32', shape: [-1, 4] }]);
      const outs = await Promise.all([p.predict({ input: x() }), p.predict({ input: x() }), p.predict({ input: x() })]);
      for (const o of outs) close(o.output);
      await until('both instances healthy', async () => p.stats().healthyInstances === 2);
      assert.ok(p.logs().some((l) => /listening on/.test(l)));
    } finally {
      await p.close();
    }
  });

  it('survives SIGKILL of its child: Unavailable meanwhile (never a hang), then service resumes', async () => {
    const p = new ProcessPredictor({ name: 'lr', command: [process.execPath, server], env, backoffMs: 100 });
    try {
      await p.ready;
      close((await p.predict({ input: x() })).output);
      const child = p.children[0];
      const before = child.pid!;
      process.kill(before, 'SIGKILL');
      await until('the death to be seen', async () => p.stats().healthyInstances === 0, 5_000, 5);
      // The restart waits out its 100 ms backoff: meanwhile predict refuses at once.
      const t0 = Date.now();
      const e = await p.predict({ input: x() }, { timeoutMs: 5_000 }).catch((err: unknown) => err);
      assert.ok(isSlipwayError(e), String(e));
      assert.equal(e.code, 'unavailable');
      assert.ok((e as { retryAfterSeconds?: number }).retryAfterSeconds! >= 1);
      assert.ok(Date.now() - t0 < 100);
      const started = Date.now();
      const out = await until('service to resume', async () => p.predict({ input: x() }, { timeoutMs: 2_000 }).catch(() => undefined), 5_000, 25);
      close(out.output);
      assert.ok(Date.now() - started < 5_000);
      assert.notEqual(child.pid, before);
      assert.equal(p.stats().restarts, 1);
      assert.ok(p.logs().some((l) => /exited \(SIGKILL\); restarting/.test(l)));
    } finally {
      await p.close();
    }
  });

  it('rejects predict with Unavailable while no instance is ready, and ready fails after the start timeout', async () => {
    const p = new ProcessPredictor({
      name: 'lr',
      command: [process.execPath, server],
      env: { ...env, NOT_READY: '1' },
      startTimeoutMs: 300,
      signature: { inputs: [{ name: 'input', type: 'float32', shape: [-1, 4] }], outputs: [] },
    });
    try {
      const t0 = Date.now();
      await assert.rejects(p.predict({ input: x() }), (e) => isSlipwayError(e) && e.code === 'unavailable' && /no ready instance/.test(e.message));
      assert.ok(Date.now() - t0 < 200);
      await assert.rejects(p.ready, (e) => isSlipwayError(e) && e.code === 'unavailable' && /not ready within 300 ms/.test(e.message));
    } finally {
      await p.close();
    }
  });

  it('a command that cannot start is logged and retried, never thrown at the caller', async () => {
    const p = new ProcessPredictor({ name: 'lr', command: ['/nonexistent/model-server'], env, startTimeoutMs: 300, backoffMs: 20, maxBackoffMs: 40 });
    try {
      await assert.rejects(p.ready, (e) => isSlipwayError(e) && e.code === 'unavailable');
      await assert.rejects(p.predict({ input: x() }), (e) => isSlipwayError(e) && e.code === 'unavailable');
      await until('a retry', async () => p.stats().restarts >= 2, 5_000, 10);
      assert.ok(p.logs().some((l) => /could not start \/nonexistent\/model-server: .*ENOENT/.test(l)), p.logs().join('\n'));
    } finally {
      await p.close();
    }
  });

  it('restarts a child that crashes on its own, with a model server 4xx passed on as invalid', async () => {
    const p = new ProcessPredictor({ name: 'lr', command: [process.execPath, server], env, backoffMs: 50 });
    try {
      await p.ready;
      const bad: Tensor = { type: 'float32', dims: [1, 3], data: new Float32Array(3) };
      await assert.rejects(p.predict({ input: bad }), (e) => isSlipwayError(e) && e.code === 'invalid' && /FP32 \[-1, 4\]/.test(e.message));
      await fetch(`${p.children[0].client!.base}/crash`).catch(() => undefined);
      await until('the restart', async () => p.stats().restarts === 1 && p.stats().healthyInstances === 1, 5_000, 10);
      close((await p.predict({ input: x() })).output);
    } finally {
      await p.close();
    }
  });
});
