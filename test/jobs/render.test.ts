import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { DEFAULT_CLASSES, parseJobsConfig } from '../../src/jobs/config.js';
import { renderKubernetesJob } from '../../src/jobs/render-k8s.js';
import { backoff, checkJob, priceOf } from '../../src/jobs/spec.js';

const schema = JSON.parse(readFileSync(new URL('../fixtures/kubernetes/job-batch-v1.json', import.meta.url), 'utf8'));
const ajv = new Ajv({ allErrors: true, formats: { int32: true, int64: true } });
const validate = ajv.compile(schema);

const render = (input: object, workspace = 'default') =>
  renderKubernetesJob(checkJob({ command: ['python', 'train.py'], ...input } as never, DEFAULT_CLASSES), { workspace, image: 'python:3.12-slim', classes: DEFAULT_CLASSES, serverUrl: 'https://slipway.example.com' });

const valid = (m: unknown) => {
  const ok = validate(m);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
};

describe('Kubernetes rendering of jobs', () => {
  it('emits a batch/v1 Job valid against the Kubernetes schema: image, command, env, resources, retries, deadline', () => {
    const m = render({ name: 'Train Model!', timeout: '10m', retries: 3, resources: 'medium', env: { EPOCHS: '5' }, secretEnv: { DB_PASSWORD: { secret: 'db', key: 'password' } }, inputs: { train: 'datasets:/iris/2' }, experiment: 'exp' }, 'team') as any;
    valid(m);
    assert.equal(m.metadata.generateName, 'train-model-');
    assert.equal(m.metadata.namespace, 'team');
    assert.equal(m.spec.backoffLimit, 3);
    assert.equal(m.spec.activeDeadlineSeconds, 600);
    const c = m.spec.template.spec.containers[0];
    assert.equal(m.spec.template.spec.restartPolicy, 'Never');
    assert.equal(c.image, 'python:3.12-slim');
    assert.deepEqual(c.command, ['python', 'train.py']);
    assert.deepEqual(c.resources, { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '2', memory: '8Gi' } });
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    assert.equal(env.MLFLOW_TRACKING_URI.value, 'https://slipway.example.com/w/team');
    assert.equal(env.MLFLOW_EXPERIMENT_NAME.value, 'exp');
    assert.equal(env.EPOCHS.value, '5');
    assert.equal(env.SLIPWAY_INPUT_TRAIN_URI.value, 'datasets:/iris/2');
    // Secrets by reference only: no value anywhere in the manifest.
    assert.deepEqual(env.DB_PASSWORD, { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } });
    assert.deepEqual(env.MLFLOW_TRACKING_TOKEN.valueFrom, { secretKeyRef: { name: 'slipway-job-token', key: 'token' } });
  });

  it('defaults: no deadline without a timeout, the job image when given, fractional memory in Mi', () => {
    const classes = parseJobsConfig({ SLIPWAY_PRICES: '{"tiny":{"cpu":0.5,"memoryGb":0.5,"cpuHour":0.01,"gbHour":0.001}}' }).classes;
    const m = renderKubernetesJob(checkJob({ command: ['sh', '-c', 'true'], image: 'busybox:1.36', resources: 'tiny' }, classes), { workspace: 'default', image: 'x', classes }) as any;
    valid(m);
    assert.equal(m.spec.activeDeadlineSeconds, undefined);
    assert.equal(m.spec.backoffLimit, 0);
    const c = m.spec.template.spec.containers[0];
    assert.equal(c.image, 'busybox:1.36');
    assert.deepEqual(c.resources.requests, { cpu: '0.5', memory: '512Mi' });
  });

  it('the schema is strict: misspelt or mistyped fields are refused', () => {
    const m = render({}) as any;
    const broken = structuredClone(m);
    broken.spec.backofLimit = 2;
    assert.equal(validate(broken), false);
    const typed = structuredClone(m);
    typed.spec.activeDeadlineSeconds = '600';
    assert.equal(validate(typed), false);
    const secret = structuredClone(m);
    secret.spec.template.spec.containers[0].env.push({ name: 'X', valueFrom: { secretKeyRef: { name: 'only-a-name' } } });
    assert.equal(validate(secret), false);
  });

  it('prices attempts by their class reservation and backs off exponentially', () => {
    assert.equal(priceOf(DEFAULT_CLASSES.small, 3_600_000), 0.05);
    assert.equal(priceOf(DEFAULT_CLASSES.large, 1_800_000), 0.24);
    assert.deepEqual([1, 2, 3, 20].map((n) => backoff(1000, n)), [1000, 2000, 4000, 600_000]);
    assert.throws(() => parseJobsConfig({ SLIPWAY_PRICES: '{"small":{"cpu":-1}}' }), /small\.cpu/);
    assert.throws(() => parseJobsConfig({ SLIPWAY_WORKER_SLOTS: 'many' }), /SLIPWAY_WORKER_SLOTS/);
  });
});
