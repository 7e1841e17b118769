import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DeliveryLoop } from '../../../src/alerts/channels/delivery.js';
import { startCliTestApp, type CliTestApp } from '../../helpers/app.js';
import { until } from '../../helpers/process.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';

// The API runs on both drivers in delivery.test.ts; CLI processes cost a second each, so PGlite only.
describe('slipway alert channel / alert deliveries CLI', () => {
  let t: CliTestApp;
  let rx: Receiver;
  let loop: DeliveryLoop;
  const run = (...args: string[]) => t.cli(args);

  before(async () => {
    rx = await startReceiver((path) => (path === '/gone' ? 410 : 200));
    t = await startCliTestApp('pglite', { SLIPWAY_ALERT_DELIVERY_POLL_MS: '20' });
    loop = t.platform.alertDelivery({ log: () => undefined });
    loop.start();
  });
  after(async () => {
    await loop.stop();
    await t.close();
    await rx.close();
  });

  it('applies channels, lists them without secrets, tests them and shows the delivery log', async () => {
    const file = join(t.home, 'channels.yaml');
    writeFileSync(file, [`kind: AlertChannel\nname: oncall\ntype: webhook\nurl: ${rx.url}/hook\nsecret: very-secret-key`, `kind: AlertChannel\nname: gone\ntype: alertmanager\nurl: ${rx.url}/gone`].join('\n---\n') + '\n');
    const applied = await run('apply', '-f', file);
    assert.equal(applied.code, 0, applied.stderr);
    const ls = await run('alert', 'channel', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /oncall .*webhook .*\/hook .*set/);
    assert.match(ls.stdout, /gone .*alertmanager/);
    assert.ok(!ls.stdout.includes('very-secret-key'));
    const exported = await run('export', '-w', 'default');
    assert.ok(!exported.stdout.includes('very-secret-key') && /kind: AlertChannel/.test(exported.stdout), exported.stdout + exported.stderr);

    const ok = await run('alert', 'channel', 'test', 'oncall');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^delivered: test notification \d+ to oncall: 200 in \d+ ms/);
    const bad = await run('alert', 'channel', 'test', 'gone');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /FAILED: .* 410 in \d+ ms \(HTTP 410/);

    const n = { status: 'firing' as const, repeat: false, alert: { id: 7, workspace: 'default', rule: 'r', state: 'firing' as const, severity: 'warning' as const, labels: {}, summary: 's', value: 1, threshold: 0, startsAt: new Date().toISOString(), endsAt: null, runbook: '', url: null } };
    await t.platform.store.db.transaction().execute((tx) => t.platform.notifier.enqueue(tx, 'default', ['oncall'], n));
    await until('alert 7 delivered', async () => (await t.platform.alertChannels.deliveries({ principal: { id: 0, name: 'system', kind: 'service', isAdmin: true, groupIds: [] }, requestId: 't' }, 'default', { alert: 7 }))[0]?.state === 'delivered');
    const log = await run('alert', 'deliveries', '--alert', '7');
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /oncall .*7 .*firing .*delivered .*1 .*200 in \d+ ms/);
    const all = await run('alert', 'deliveries', '--attempts', '-o', 'json');
    assert.equal(JSON.parse(all.stdout).deliveries.length, 3);
    const attempts = await run('alert', 'deliveries', '--attempts', '--channel', 'gone');
    assert.match(attempts.stdout, /gone .*1 .*410 .*HTTP 410/);
  });
});
