import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';

/** Parses Prometheus text format 0.0.4 into samples; throws on a malformed line. */
export function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    // Like Prometheus (Go's ParseFloat), NaN is case-insensitive; prom-client writes 'Nan'.
    if (Number.isNaN(value) && !/^nan$/i.test(m[4])) throw new Error(`bad value: ${line}`);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

describe('/metrics', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('pglite');
  });
  after(() => t.close());

  it('needs metrics.read: 401 without a token, 403 without the role, 200 for a metrics-reader', async () => {
    assert.equal((await t.call({ method: 'GET', url: '/metrics', token: null })).statusCode, 401);
    const token = await principalWithToken(t, 'prom', 'service');
    const denied = await t.call({ method: 'GET', url: '/metrics', token });
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.json().action, 'metrics.read');
    await t.call({ method: 'POST', url: '/api/v1/workspaces/default/roles', payload: { principal: 'prom', role: 'metrics-reader' } });
    const ok = await t.call({ method: 'GET', url: '/metrics', token });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.headers['content-type'] as string, /text\/plain/);
  });

  it('counts requests by route and status, exactly', async () => {
    const before = parsePrometheus((await t.call({ method: 'GET', url: '/metrics' })).body);
    const count = (samples: typeof before, status: string) =>
      samples.find((s) => s.name === 'slipway_http_requests_total' && s.labels.route === '/api/v1/workspaces/:name' && s.labels.status_code === status)?.value ?? 0;
    for (let i = 0; i < 7; i++) await t.call({ method: 'GET', url: '/api/v1/workspaces/default' });
    for (let i = 0; i < 3; i++) await t.call({ method: 'GET', url: '/api/v1/workspaces/missing' });
    const after = parsePrometheus((await t.call({ method: 'GET', url: '/metrics' })).body);
    assert.equal(count(after, '200') - count(before, '200'), 7);
    assert.equal(count(after, '404') - count(before, '404'), 3);
    assert.ok(after.some((s) => s.name === 'slipway_process_cpu_user_seconds_total'));
    assert.ok(after.some((s) => s.name === 'slipway_http_request_duration_seconds_bucket'));
  });
});
