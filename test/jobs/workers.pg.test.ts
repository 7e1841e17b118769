import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from './helpers.js';
import { startServer, until, type ServerProcess } from '../helpers/process.js';
import { testStore, type TestStore } from '../helpers/stores.js';

const ADMIN = 'slw_jobs-acceptance-admin-token-0123456789abcdefgh';
const JOBS = 200;

interface Job {
  id: number;
  state: string;
  runId: string;
  attempts: Array<{ attempt: number; worker: string; outcome: string }>;
}

/**
 * Acceptance (issue 6): two worker processes on one PostgreSQL run 200 short
 * jobs, each exactly once; a worker SIGKILLed mid-job has that job re-run by
 * the other after the lease expires, and the job's run records the retry.
 */
describe('two workers on one PostgreSQL', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-jobs-acc-'));
  let store: TestStore;
  let server: ServerProcess;
  const workers: ServerProcess[] = [];
  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const r = await fetch(server.url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    assert.ok(r.ok, `${path}: ${r.status} ${text}`);
    return JSON.parse(text) as T;
  };

  before(async () => {
    store = await testStore('postgres');
    const shared = { SLIPWAY_DATABASE_URL: store.url!, SLIPWAY_ARTIFACTS: join(tmp, 'artifacts'), SLIPWAY_ADMIN_TOKEN: ADMIN };
    server = await startServer(['server', '--data-dir', join(tmp, 'server')], shared);
    const workerEnv = { ...shared, SLIPWAY_SERVER_URL: server.url, SLIPWAY_JOB_LEASE_MS: '3000', SLIPWAY_JOB_POLL_MS: '50', SLIPWAY_WORKER_SLOTS: '3', SLIPWAY_JOB_WORKSPACE_LIMIT: '100' };
    for (const n of [1, 2]) workers.push(await startServer(['worker', '--data-dir', join(tmp, `worker-${n}`)], workerEnv));
  });
  after(async () => {
    for (const p of [...workers, server]) await p?.kill('SIGKILL');
    await store?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs 200 jobs exactly once, and re-runs the job of a worker killed mid-job after its lease', async () => {
    const ran = join(tmp, 'ran.txt');
    const pidFile = join(tmp, 'long.pid');
    // The long job sleeps on its first attempt only, so it is mid-job when its worker dies.
    const long = await api<Job>('/api/v1/workspaces/default/jobs', {
      name: 'long',
      priority: 10,
      command: ['sh', '-c', `echo "$SLIPWAY_JOB_ID $SLIPWAY_JOB_ATTEMPT" >> ${ran}; if [ "$SLIPWAY_JOB_ATTEMPT" = 1 ]; then echo $$ > ${pidFile}; sleep 60; fi`],
    });
    const owner = await until('the long job running', async () => {
      const j = await api<Job>(`/api/v1/workspaces/default/jobs/${long.id}`);
      return j.state === 'running' && existsSync(pidFile) && j.attempts[0]?.worker;
    }, 20_000);
    const ids: number[] = [];
    for (let i = 0; i < JOBS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, JOBS - i) }, () => api<Job>('/api/v1/workspaces/default/jobs', { command: ['sh', '-c', `echo "$SLIPWAY_JOB_ID $SLIPWAY_JOB_ATTEMPT" >> ${ran}`] })),
      );
      ids.push(...batch.map((j) => j.id));
    }
    // Kill the long job's worker (its whole process group, as an OOM kill or a lost node would) while short jobs flow.
    const victim = workers.find((w) => owner.split(':')[1] === String(w.proc.pid))!;
    assert.ok(victim, `worker of ${owner}`);
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    await victim.kill('SIGKILL');

    const all = [long.id, ...ids];
    await until('every job succeeded', async () => {
      const r = await api<{ jobs: Job[] }>('/api/v1/workspaces/default/jobs?limit=1000');
      const states = new Map(r.jobs.map((j) => [j.id, j.state]));
      assert.deepEqual(all.filter((id) => states.get(id) === 'failed' || states.get(id) === 'cancelled'), [], 'no job failed');
      return all.every((id) => states.get(id) === 'succeeded');
    }, 45_000, 200);

    // Exactly once: every job has one succeeded attempt whose line is there once, no attempt ran twice,
    // and the only earlier attempts are those lost with the killed worker (a short job it was running dies with it).
    const lines = readFileSync(ran, 'utf8').trim().split('\n');
    const count = new Map<string, number>();
    for (const l of lines) count.set(l, (count.get(l) ?? 0) + 1);
    assert.ok([...count.values()].every((c) => c === 1), 'no attempt ran twice');
    let rerun = 0;
    for (const id of all) {
      const job = await api<Job>(`/api/v1/workspaces/default/jobs/${id}`);
      const last = job.attempts[job.attempts.length - 1];
      assert.equal(last.outcome, 'succeeded', `job ${id}`);
      assert.equal(count.get(`${id} ${last.attempt}`), 1, `job ${id} attempt ${last.attempt} ran exactly once`);
      for (const a of job.attempts.slice(0, -1)) {
        assert.deepEqual([a.outcome, a.worker.split(':')[1]], ['lost', String(victim.proc.pid)], `job ${id}: only the killed worker's attempts are re-run`);
        rerun++;
      }
    }
    assert.ok(lines.length >= all.length && lines.length <= all.length + rerun, `${lines.length} lines for ${all.length} jobs and ${rerun} re-runs`);

    const j = await api<Job>(`/api/v1/workspaces/default/jobs/${long.id}`);
    assert.deepEqual(j.attempts.map((a) => a.outcome), ['lost', 'succeeded']);
    assert.notEqual(j.attempts[1].worker, j.attempts[0].worker);
    assert.equal(count.get(`${long.id} 1`), 1);
    assert.equal(count.get(`${long.id} 2`), 1);
    const run = await api<{ run: { data: { tags: Array<{ key: string; value: string }> } } }>(`/api/2.0/mlflow/runs/get?run_id=${j.runId}`);
    assert.equal(run.run.data.tags.find((t) => t.key === 'slipway.job.attempt')?.value, '2');
    const hist = await api<{ metrics: Array<{ step: number }> }>(`/api/2.0/mlflow/metrics/get-history?run_id=${j.runId}&metric_key=slipway.job.attempt`);
    assert.deepEqual(hist.metrics.map((m) => m.step), [1, 2], 'the run records both attempts');
    const logs = await api<{ lines: Array<{ line: string }> }>(`/api/v1/workspaces/default/jobs/${long.id}/logs`);
    assert.ok(logs.lines.some((l) => /attempt 1 lost: worker .* stopped heartbeating/.test(l.line)), JSON.stringify(logs.lines));
    // The dead worker's orphan (same host) was killed by the worker that took the job over.
    await until('the orphaned attempt is gone', async () => !alive(orphan), 5_000);
  });
});
