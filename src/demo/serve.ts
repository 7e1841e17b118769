import { sampleRows, shiftedRows } from './data.js';
import { Traffic } from './traffic.js';
import { until, wsPath, type DemoContext } from './context.js';

interface EndpointView {
  traffic: Record<string, number>;
  mirror: Record<string, number>;
}
interface RolloutView {
  state: string;
  step: number;
  steps: unknown[];
  reason: string;
  readings?: { candidate?: { requests?: number }; meanAbsDiff?: number | null } | null;
}

const served = (t: Traffic) =>
  Object.entries(t.count.byDeployment)
    .map(([d, n]) => `${d} ${n}`)
    .join(', ') || 'none yet';

/** Stage 3: an endpoint capturing every request, `blue` serving @champion, and live traffic from a client. */
export async function deployBlue(ctx: DemoContext): Promise<string> {
  const { endpoint, model } = ctx.names;
  const base = `${wsPath(ctx)}/endpoints`;
  ctx.say(`creating endpoint ${endpoint}`);
  await ctx.api.post(base, { name: endpoint, auth: 'key', description: 'slipway demo', capture: { sample: 1 } });
  await ctx.api.post(`${base}/${endpoint}/deployments`, { name: 'blue', model: `models:/${model}@champion` });
  await ctx.api.put(`${base}/${endpoint}/traffic`, { traffic: { blue: 100 }, reason: 'slipway demo: first deployment' });
  const key = (await ctx.api.get<{ primary: string }>(`${base}/${endpoint}/keys`)).primary;
  const traffic = new Traffic(ctx.url, endpoint, key);
  ctx.traffic = traffic;
  ctx.say('waiting for blue to load the model');
  await until('blue to answer /score', async () => ((await traffic.ready(sampleRows(1))) ? true : undefined), 60_000, 200);
  traffic.start(() => sampleRows(1));
  await until('traffic on blue', async () => {
    ctx.say(`requests served: ${served(traffic)}`);
    return (traffic.count.byDeployment.blue ?? 0) >= 20 ? true : undefined;
  }, 30_000, 200);
  ctx.results.endpoint = { name: endpoint, traffic: { blue: 100 } };
  return `endpoint ${endpoint}: blue = models:/${model}@champion takes 100%; ${served(traffic)} requests served so far`;
}

/**
 * Stage 4 (second half): `green` serves version 2 and a Rollout moves the
 * traffic — a shadow step (mirrored copies, answers compared), then a canary
 * step — each needing candidate requests and passing its gates, while the
 * client keeps calling. Then version 2 becomes @champion.
 */
export async function rolloutGreen(ctx: DemoContext, version: number): Promise<string> {
  const { endpoint, model, rollout } = ctx.names;
  const base = wsPath(ctx);
  await ctx.api.post(`${base}/endpoints/${endpoint}/deployments`, { name: 'green', model: `models:/${model}/${version}` });
  const plan = 'shadow 50% 2s 15 requests, canary 30% 2s 15 requests';
  await ctx.api.post(`${base}/rollouts`, { name: rollout, endpoint, candidate: 'green', plan, gates: { maxErrorRate: 0.05, maxMeanAbsDiff: 0.5 } });
  const done = await until(
    `rollout ${rollout}`,
    async () => {
      const r = await ctx.api.get<RolloutView>(`${base}/rollouts/${rollout}`);
      const step = r.state === 'running' ? `step ${r.step + 1}/${r.steps.length}` : r.state;
      ctx.say(`${plan} — ${step}; candidate requests ${r.readings?.candidate?.requests ?? 0}; served ${served(ctx.traffic!)}`);
      return ['succeeded', 'rolled_back', 'aborted'].includes(r.state) ? r : undefined;
    },
    90_000,
  );
  ctx.results.rollout = { name: rollout, state: done.state, reason: done.reason };
  if (done.state !== 'succeeded') throw new Error(`rollout ${rollout} ${done.state}: ${done.reason}`);
  await ctx.api.put(`${base}/models/${model}/aliases/champion`, { version });
  const e = await ctx.api.get<EndpointView>(`${base}/endpoints/${endpoint}`);
  ctx.results.endpoint = { name: endpoint, traffic: e.traffic };
  return `rollout ${rollout} succeeded (${plan}, gates: 5xx ≤ 5%, shadow mean abs diff ≤ 0.5); traffic ${JSON.stringify(e.traffic)}; models:/${model}@champion → ${version}`;
}

/** Stage 5: the client's world changes — every measurement arrives shifted. */
export async function sendShifted(ctx: DemoContext): Promise<string> {
  const traffic = ctx.traffic!;
  await traffic.stop();
  const requests = 40;
  const rows = 10;
  for (let i = 0; i < requests; i++) {
    await traffic.score(shiftedRows(rows));
    ctx.say(`shifted request ${i + 1}/${requests} (${rows} rows each)`);
  }
  return `${requests * rows} rows with every feature ×1.6 + 1.5 scored; ${traffic.count.sent} requests in all (${served(traffic)}), ${traffic.count.failed} failed`;
}
