import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from '../../src/access/principal.js';
import type { DeploymentWindow, WindowSource } from '../../src/rollout/gates.js';
import type { RolloutCreate } from '../../src/rollout/schema.js';
import { RolloutService } from '../../src/rollout/service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { drivers } from '../helpers/stores.js';

const ws = '/api/v1/workspaces/default';

/** Numbers the tests feed to the gates, per deployment. */
class FakeWindows implements WindowSource {
  readonly by = new Map<string, DeploymentWindow>();
  set(deployment: string, w: Partial<DeploymentWindow> & { mirror?: Partial<DeploymentWindow['mirror']> }) {
    this.by.set(deployment, { requests: 0, errors5xx: 0, p95Ms: null, p99Ms: null, ...w, mirror: { compared: 0, exactMatches: 0, absDiffSum: 0, ...(w.mirror ?? {}) } });
  }
  async deploymentWindow(_e: number, deployment: string) {
    return this.by.get(deployment) ?? { requests: 0, errors5xx: 0, p95Ms: null, p99Ms: null, mirror: { compared: 0, exactMatches: 0, absDiffSum: 0 } };
  }
}

for (const driver of drivers) {
  describe(`rollout controller (${driver})`, () => {
    let t: TestApp;
    let clock = 1_000_000;
    const now = () => clock;
    let service: RolloutService;
    let admin: Ctx;
    const windows = new FakeWindows();
    let n = 0;

    /** An endpoint with blue (stable, 100%) and green (candidate). */
    async function endpoint(): Promise<string> {
      const name = `ep-${++n}`;
      const call = async (url: string, payload: object) => {
        const r = await t.call({ method: 'POST', url, payload });
        assert.equal(r.statusCode, 201, r.body);
      };
      await call(`${ws}/endpoints`, { name });
      await call(`${ws}/endpoints/${name}/deployments`, { name: 'blue', model: 'models:/clf/1' });
      await call(`${ws}/endpoints/${name}/deployments`, { name: 'green', model: 'models:/clf/2' });
      assert.equal((await t.call({ method: 'PUT', url: `${ws}/endpoints/${name}/traffic`, payload: { traffic: { blue: 100 } } })).statusCode, 200);
      // As a gateway reports once the models are loaded.
      for (const d of ['blue', 'green']) await t.platform.serving.deployments.setState(name, d, 'Ready');
      return name;
    }
    const routing = async (ep: string) => {
      const e = await t.platform.serving.endpoints.get(admin, 'default', ep);
      return { traffic: e.traffic, mirror: e.mirror };
    };
    const history = (ep: string) => t.platform.serving.endpoints.history(admin, 'default', ep);
    const create = (input: Partial<RolloutCreate> & { name: string; endpoint: string }) => service.create(admin, 'default', { candidate: 'green', ...input });
    const get = (name: string) => service.get(admin, 'default', name);

    before(async () => {
      t = await startTestApp(driver);
      for (let i = 0; i < 2; i++) {
        const r = await t.call({ method: 'POST', url: `${ws}/models/clf/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(r.statusCode, 201, r.body);
      }
      admin = { principal: { ...(await t.platform.access.authz.authenticate(t.adminToken)) }, requestId: 'test' };
      service = new RolloutService({ db: t.platform.store.db, authz: t.platform.access.authz, serving: t.platform.serving, now });
    });
    after(() => t.close());

    it('rolls back at once when the candidate errors, with the reason in status, events and endpoint history', async () => {
      const ep = await endpoint();
      const ctl = service.controller(windows, { now });
      const r0 = await create({ name: 'bad', endpoint: ep, plan: 'canary 10% 5m, 50% 5m', gates: { maxErrorRate: 0.05 } });
      assert.equal(r0.state, 'running');
      assert.equal(r0.stable, 'blue');
      assert.deepEqual((await routing(ep)).traffic, { blue: 90, green: 10 });
      // Too few requests yet to judge: the step goes on.
      windows.set('green', { requests: 10, errors5xx: 3 });
      windows.set('blue', { requests: 90, errors5xx: 0 });
      clock += 5_000;
      await ctl.tick();
      assert.equal((await get('bad')).state, 'running');
      windows.set('green', { requests: 100, errors5xx: 21 });
      clock += 5_000;
      await ctl.tick();
      const r = await get('bad');
      assert.equal(r.state, 'rolled_back');
      assert.match(r.reason, /step 1 gate failed: error rate 0.21 > 0.05/);
      assert.equal(r.readings!.candidate.errorRate, 0.21);
      assert.deepEqual(await routing(ep), { traffic: { blue: 100 }, mirror: {} });
      assert.ok(r.events.some((e) => e.kind === 'rolled_back' && /0.21 > 0.05/.test(e.message)));
      const h = await history(ep);
      assert.equal(h[0].who, 'rollout:bad');
      assert.match(h[0].reason, /rolled back: step 1 gate failed: error rate 0.21 > 0.05/);
      assert.equal(h[1].who, 'rollout:bad');
      assert.match(h[1].reason, /step 1\/2: traffic 10% for 5m/);
    });

    it('promotes a healthy candidate step by step and retires the stable after the drain', async () => {
      const ep = await endpoint();
      const ctl = service.controller(windows, { now });
      await create({ name: 'good', endpoint: ep, steps: [{ traffic: 10, duration: '1m', gates: { maxErrorRate: 0.05, latencyTolerance: 0.2 } }, { traffic: 50, minRequests: 100 }], retireStable: true, drain: '10s' });
      windows.set('green', { requests: 50, errors5xx: 1, p95Ms: 10, p99Ms: 20 });
      windows.set('blue', { requests: 450, errors5xx: 0, p95Ms: 10, p99Ms: 19 });
      clock += 30_000;
      await ctl.tick();
      let r = await get('good');
      assert.equal(r.step, 0, 'half the duration: still step 1');
      assert.equal(r.readings!.gates.every((g) => g.ok), true, JSON.stringify(r.readings));
      clock += 30_000;
      await ctl.tick();
      r = await get('good');
      assert.equal(r.step, 1);
      assert.deepEqual((await routing(ep)).traffic, { blue: 50, green: 50 });
      // Step 2 waits for 100 candidate requests, however long it takes.
      windows.set('green', { requests: 40 });
      clock += 3_600_000;
      await ctl.tick();
      assert.equal((await get('good')).step, 1);
      windows.set('green', { requests: 100 });
      await ctl.tick();
      r = await get('good');
      assert.equal(r.state, 'succeeded');
      assert.deepEqual((await routing(ep)).traffic, { green: 100 });
      assert.equal(r.retireAt, clock + 10_000);
      await ctl.tick();
      assert.ok((await t.platform.serving.deployments.list(admin, 'default', ep)).some((d) => d.name === 'blue'), 'kept during the drain');
      clock += 10_000;
      await ctl.tick();
      assert.deepEqual((await t.platform.serving.deployments.list(admin, 'default', ep)).map((d) => d.name), ['green']);
      r = await get('good');
      assert.equal(r.retireAt, null);
      assert.deepEqual(r.events.map((e) => e.kind), ['created', 'started', 'step', 'step', 'promoted', 'retired']);
      assert.deepEqual((await history(ep)).slice(0, 2).map((h) => h.who), ['rollout:good', 'rollout:good']);
    });

    it('fails a shadow step whose mirrored outputs agree 70% against minAgreement 0.95, and passes an agreeing one', async () => {
      const ep = await endpoint();
      const ctl = service.controller(windows, { now });
      await create({ name: 'shadow-bad', endpoint: ep, plan: 'shadow 20% 1m, canary 10% 1m', gates: { minAgreement: 0.95, maxErrorRate: 0.1 } });
      assert.deepEqual(await routing(ep), { traffic: { blue: 100 }, mirror: { green: 20 } });
      const r0 = await get('shadow-bad');
      assert.deepEqual(r0.steps.map((s) => [s.status, s.gates]), [['current', { minAgreement: 0.95, maxErrorRate: 0.1 }], ['pending', { maxErrorRate: 0.1 }]]);
      windows.set('blue', { requests: 500 });
      windows.set('green', { mirror: { compared: 100, exactMatches: 70, absDiffSum: 3 } });
      clock += 10_000;
      await ctl.tick();
      let r = await get('shadow-bad');
      assert.equal(r.state, 'rolled_back');
      assert.match(r.reason, /agreement 0.7 < 0.95/);
      assert.deepEqual(await routing(ep), { traffic: { blue: 100 }, mirror: {} });

      await create({ name: 'shadow-good', endpoint: ep, plan: 'shadow 20% 1m, canary 10% 1m', gates: { minAgreement: 0.95, maxMeanAbsDiff: 0.01 } });
      windows.set('green', { mirror: { compared: 100, exactMatches: 100, absDiffSum: 0 } });
      clock += 60_000;
      await ctl.tick();
      r = await get('shadow-good');
      assert.equal(r.state, 'running');
      assert.equal(r.step, 1);
      assert.deepEqual(await routing(ep), { traffic: { blue: 90, green: 10 }, mirror: {} });
      await service.act(admin, 'default', 'shadow-good', 'abort');
      assert.deepEqual(await routing(ep), { traffic: { blue: 100 }, mirror: {} });
      assert.equal((await get('shadow-good')).state, 'aborted');
    });

    it('holds a paused step (time paused does not count) and promotes on demand', async () => {
      const ep = await endpoint();
      const ctl = service.controller(windows, { now });
      windows.set('green', { requests: 5 });
      windows.set('blue', { requests: 5 });
      await create({ name: 'hold', endpoint: ep, plan: 'canary 10% 1m, 50% 1m' });
      clock += 40_000;
      await service.act(admin, 'default', 'hold', 'pause');
      clock += 600_000;
      await ctl.tick();
      let r = await get('hold');
      assert.equal(r.state, 'paused');
      assert.equal(r.step, 0);
      assert.equal(r.stepElapsedMs, 40_000);
      await service.act(admin, 'default', 'hold', 'resume');
      clock += 10_000;
      await ctl.tick();
      r = await get('hold');
      assert.equal(r.step, 0, '50 s counted of 60');
      assert.equal(r.stepElapsedMs, 50_000);
      clock += 10_000;
      await ctl.tick();
      assert.equal((await get('hold')).step, 1);
      r = await service.act(admin, 'default', 'hold', 'promote', 'looks fine');
      assert.equal(r.state, 'succeeded');
      assert.match(r.reason, /promote by admin: looks fine/);
      assert.deepEqual((await routing(ep)).traffic, { green: 100 });
      const conflict = await t.call({ method: 'POST', url: `${ws}/rollouts/hold/pause`, payload: {} });
      assert.equal(conflict.statusCode, 409, conflict.body);
    });

    it('stops a rollout whose endpoint is gone, and keeps a stable that took traffic again instead of retiring it', async () => {
      const ep = await endpoint();
      const ctl = service.controller(windows, { now });
      windows.set('green', { requests: 5 });
      await create({ name: 'keep', endpoint: ep, plan: 'canary 10% 1m', retireStable: true, drain: '5s' });
      clock += 60_000;
      await ctl.tick();
      assert.equal((await get('keep')).state, 'succeeded');
      await t.platform.serving.endpoints.setTraffic(admin, 'default', ep, { traffic: { blue: 100 }, reason: 'back to blue by hand' });
      clock += 5_000;
      await ctl.tick();
      let r = await get('keep');
      assert.equal(r.retireAt, null);
      assert.match(r.events.at(-1)!.message, /blue kept: stopped: deployment 'blue' takes 100% of traffic/);
      assert.ok((await t.platform.serving.deployments.list(admin, 'default', ep)).some((d) => d.name === 'blue'));

      const gone = await endpoint();
      await create({ name: 'orphan', endpoint: gone, plan: 'canary 10% 1m, 50% 1m' });
      await t.platform.serving.endpoints.delete(admin, 'default', gone);
      clock += 60_000;
      await ctl.tick();
      r = await get('orphan');
      assert.equal(r.state, 'aborted');
      assert.match(r.reason, /stopped: endpoint '.*' not found/);
    });

    it('sends no traffic to a candidate before it is Ready, and rolls back one that failed to start', async () => {
      const ep = await endpoint();
      const ctl = service.controller(windows, { now });
      await t.platform.serving.deployments.setState(ep, 'green', 'Pending');
      let r = await create({ name: 'patient', endpoint: ep, plan: 'canary 10% 1m' });
      assert.deepEqual([r.state, r.stepStartedAt, r.events.at(-1)!.message], ['running', null, 'waiting for green to be Ready']);
      clock += 60_000;
      await ctl.tick();
      assert.deepEqual((await routing(ep)).traffic, { blue: 100 });
      await t.platform.serving.deployments.setState(ep, 'green', 'Ready');
      await ctl.tick();
      r = await get('patient');
      assert.equal(r.stepStartedAt, clock, 'the step starts when the candidate is Ready');
      assert.deepEqual((await routing(ep)).traffic, { blue: 90, green: 10 });
      await service.act(admin, 'default', 'patient', 'abort');

      await t.platform.serving.deployments.setState(ep, 'green', 'Failed: no such file');
      await create({ name: 'doomed', endpoint: ep, plan: 'canary 10% 1m' });
      await ctl.tick();
      r = await get('doomed');
      assert.equal(r.state, 'rolled_back');
      assert.equal(r.reason, 'green did not start: Failed: no such file');
      assert.deepEqual((await routing(ep)).traffic, { blue: 100 });
    });

    it('resumes at the same step after a restart, and two controllers never advance one rollout twice', async () => {
      const ep = await endpoint();
      windows.set('green', { requests: 5 });
      await create({ name: 'restart', endpoint: ep, plan: 'canary 10% 1m, 20% 1m, 30% 1m' });
      await service.controller(windows, { now }).tick();
      clock += 60_000;
      await service.controller(windows, { now }).tick();
      const before = await get('restart');
      assert.equal(before.step, 1);
      // A new worker: new service, new controller, same store.
      const again = new RolloutService({ db: t.platform.store.db, authz: t.platform.access.authz, serving: t.platform.serving, now });
      const [a, b] = [again.controller(windows, { now }), service.controller(windows, { now })];
      clock += 30_000;
      await a.tick();
      const mid = await get('restart');
      assert.equal(mid.step, 1);
      assert.equal(mid.stepStartedAt, before.stepStartedAt);
      clock += 30_000;
      await Promise.all([a.tick(), b.tick(), a.tick()]);
      const r = await get('restart');
      assert.equal(r.step, 2, 'advanced exactly once');
      assert.equal(r.events.filter((e) => e.kind === 'step').length, 3);
      assert.deepEqual((await routing(ep)).traffic, { blue: 70, green: 30 });
      await service.act(admin, 'default', 'restart', 'abort');
    });
  });
}
