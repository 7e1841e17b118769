import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { principalWithToken, startTestApp, type TestApp } from '../helpers/app.js';
import { parseExposition, parsePrometheus } from '../helpers/prometheus.js';

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

describe('the strict Prometheus text parser (test/helpers/prometheus.ts)', () => {
  const ok = [
    '# HELP up_total Requests, with a \\ and a\\nnewline',
    '# TYPE up_total counter',
    'up_total{path="/a\\"b\\\\c\\nd",code="200"} 3 1700000000000',
    'up_total{code="500",} 1',
    '# TYPE lat histogram',
    'lat_bucket{le="0.1"} 1',
    'lat_bucket{le="+Inf"} 2',
    'lat_sum 0.3',
    'lat_count 2',
    'temp NaN',
    'temp2 -Inf',
    '',
  ].join('\n');

  it('reads HELP, TYPE, escaped label values, timestamps and special values', () => {
    const { families, samples } = parseExposition(ok);
    assert.equal(families.get('up_total')?.help, 'Requests, with a \\ and a\nnewline');
    assert.equal(families.get('lat')?.type, 'histogram');
    assert.deepEqual(samples[0], { name: 'up_total', labels: { path: '/a"b\\c\nd', code: '200' }, value: 3, timestamp: 1700000000000, family: 'up_total', type: 'counter' });
    assert.equal(samples.find((s) => s.name === 'lat_count')?.family, 'lat');
    assert.ok(Number.isNaN(samples.find((s) => s.name === 'temp')!.value));
    assert.equal(samples.find((s) => s.name === 'temp2')!.value, -Infinity);
  });

  it('fails on malformed text', () => {
    const bad: Array<[string, RegExp]> = [
      ['x{a="1"} \n', /bad value|expected a value/],
      ['x{a="1} 1\n', /unterminated value/],
      ['x{a="\\q"} 1\n', /bad escape/],
      ['x{a=1} 1\n', /expected ="…"/],
      ['x{a="1" b="2"} 1\n', /expected , or }/],
      ['x 1e\n', /bad value/],
      ['x 1 12.5\n', /bad timestamp/],
      ['x 1 2 3\n', /expected a value and an optional timestamp/],
      ['9x 1\n', /expected a metric name/],
      ['# TYPE x countr\n', /unknown type/],
      ['# TYPE x counter\n# TYPE x counter\n', /second TYPE/],
      ['# TYPE x counter\nx -1\n', /non-negative/],
      ['x 1\nx 2\n', /duplicate series/],
      ['x 1\ny 1\nx{a="b"} 2\n', /continues after other families/],
      ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n', /bucket le=Infinity is below/],
      ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n', /no le="\+Inf" bucket/],
      ['x 1', /must end with a newline/],
    ];
    for (const [text, why] of bad) assert.throws(() => parsePrometheus(text), why, JSON.stringify(text));
  });
});
