import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { startCliTestApp, type CliTestApp } from '../helpers/app.js';
import { logisticRegressionOnnx } from '../helpers/onnx.js';
import { repoRoot, runCli } from '../helpers/process.js';

/**
 * examples/ stays true: train.py compiles (the mlflow package is not
 * installable here, so only its syntax is checked), slipway.yaml rendered as
 * the CI workflow renders it plans and applies on a real server, and every
 * `slipway …` command the workflow runs exists in the built CLI with the
 * options it passes.
 */

const examples = join(repoRoot, 'examples');
const PYTHON = '/usr/bin/python3';
const VARS: Record<string, string> = { STABLE_VERSION: '1', CANDIDATE_VERSION: '2', ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook', ALERT_WEBHOOK_SECRET: 'test-secret' };

/** What `envsubst '$STABLE_VERSION …'` does: the listed variables only. */
const render = (text: string) => text.replace(/\$\{([A-Z_]+)\}/g, (m, name: string) => VARS[name] ?? m);

describe('examples/', () => {
  it('train.py compiles with python3', { skip: !existsSync(PYTHON) && `no ${PYTHON}` }, () => {
    const cache = mkdtempSync(join(tmpdir(), 'slipway-pycache-'));
    const r = spawnSync(PYTHON, ['-m', 'py_compile', join(examples, 'train.py')], { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
    rmSync(cache, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const src = readFileSync(join(examples, 'train.py'), 'utf8');
    // The unmodified client, configured by its own environment variables only.
    assert.match(src, /^import mlflow$/m);
    assert.ok(!/set_tracking_uri|requests\.|urllib/.test(src), 'no Slipway-specific transport');
  });

  describe('slipway.yaml (rendered as the CI workflow renders it)', () => {
    let t: CliTestApp;
    let file: string;
    before(async () => {
      t = await startCliTestApp('pglite');
      for (const v of [1, 2]) {
        const r = await t.call({ method: 'POST', url: `/api/v1/workspaces/default/models/cancer-classifier/versions?filename=model.onnx`, payload: logisticRegressionOnnx(), headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(r.statusCode, 201, `version ${v}: ${r.body}`);
      }
      const csv = await t.call({ method: 'POST', url: '/api/v1/workspaces/default/datasets/cancer-train/versions?filename=cancer-train.csv', payload: 'a,b,c,d,label\n1,2,3,4,0\n2,3,4,5,1\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(csv.statusCode, 201, csv.body);
      file = join(t.home, 'slipway.rendered.yaml');
      writeFileSync(file, render(readFileSync(join(examples, 'slipway.yaml'), 'utf8')));
    });
    after(() => t.close());

    it('holds an Endpoint, two Deployments, a Rollout, a Monitor, an AlertChannel and AlertRules', () => {
      const kinds = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => (d.toJSON() as { kind: string }).kind);
      assert.deepEqual([...new Set(kinds)], ['Endpoint', 'Deployment', 'Rollout', 'Monitor', 'AlertChannel', 'AlertRule']);
      assert.equal(kinds.filter((k) => k === 'Deployment').length, 2);
      assert.ok(kinds.filter((k) => k === 'AlertRule').length >= 2);
    });

    it('plans with --dry-run, changing nothing, then applies', async () => {
      const plan = await t.cli(['apply', '-f', file, '--dry-run', '-o', 'json']);
      assert.equal(plan.code, 0, plan.stderr + plan.stdout);
      const rows = (JSON.parse(plan.stdout) as { plan: Array<{ kind: string; name: string; action: string }> }).plan;
      assert.deepEqual(rows.map((r) => r.action).filter((a) => a !== 'create'), [], JSON.stringify(rows));
      assert.equal(rows.length, 9);
      assert.equal((await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer' })).statusCode, 404, 'a dry run creates nothing');

      const applied = await t.cli(['apply', '-f', file]);
      assert.equal(applied.code, 0, applied.stderr + applied.stdout);
      const ep = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/endpoints/cancer' })).json();
      assert.deepEqual(ep.traffic, { v1: 100 });
      const rollout = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/rollouts/cancer-v2' })).json();
      assert.equal(rollout.candidate, 'v2');
      const rules = (await t.call({ method: 'GET', url: '/api/v1/workspaces/default/alert-rules' })).json();
      assert.deepEqual(rules.rules.map((r: { name: string }) => r.name).sort(), ['cancer-drift', 'cancer-errors', 'cancer-latency']);
    });
  });

  describe('ci/github-actions.yml', () => {
    const workflow = parse(readFileSync(join(examples, 'ci', 'github-actions.yml'), 'utf8')) as {
      on: Record<string, unknown>;
      jobs: Record<string, { 'runs-on': string; steps: Array<{ name?: string; uses?: string; run?: string; env?: Record<string, string> }> }>;
    };
    const scripts = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')).join('\n');

    it('is a GitHub Actions workflow that logs in with secrets, trains, applies and promotes', () => {
      assert.ok(workflow.on.push || workflow.on.workflow_dispatch);
      for (const job of Object.values(workflow.jobs)) {
        assert.ok(job['runs-on']);
        for (const step of job.steps) assert.ok(step.uses || step.run, JSON.stringify(step));
      }
      const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
      assert.ok(steps.some((s) => /slipway login/.test(s.run ?? '') && /secrets\.SLIPWAY_TOKEN/.test(s.env?.SLIPWAY_TOKEN ?? '')), 'logs in with a secret');
      assert.match(scripts, /python examples\/train\.py/);
      assert.match(scripts, /slipway apply -f \S+ --dry-run/);
      assert.match(scripts, /slipway model alias set "\$MODEL" champion/);
    });

    it('runs only slipway commands and options the built CLI has', async () => {
      const help = new Map<string, string>();
      const helpOf = async (words: string[]) => {
        const key = words.join(' ');
        if (!help.has(key)) {
          const r = await runCli([...words, '--help'], {});
          assert.equal(r.code, 0, r.stderr);
          help.set(key, r.stdout);
        }
        return help.get(key)!;
      };
      const invocations = [...scripts.matchAll(/(?:^|\$\(|\|)\s*slipway\s+([^|)\n]*)/gm)].map((m) => m[1].trim());
      assert.ok(invocations.length >= 8, invocations.join('\n'));
      for (const line of invocations) {
        const words = line.split(/\s+/);
        const path: string[] = [];
        // Walk the command tree while the current command has subcommands.
        for (const word of words) {
          const text = await helpOf(path);
          const commands = text.split('\nCommands:\n')[1];
          if (!commands) break;
          assert.ok(new RegExp(`^  ${word}\\b`, 'm').test(commands), `slipway ${line}: '${word}' is not a command of 'slipway ${path.join(' ')}'`);
          path.push(word);
        }
        const leaf = (await helpOf(path)) + (await helpOf([]));
        for (const flag of line.match(/(?<=\s|^)--?[a-z][a-z-]*/g) ?? []) assert.ok(leaf.includes(flag), `slipway ${line}: no option ${flag} on 'slipway ${path.join(' ')}'`);
      }
    });
  });
});
