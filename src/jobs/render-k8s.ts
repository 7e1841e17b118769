import type { ResourceClass } from './config.js';
import { trackingUri, type CheckedJob } from './spec.js';

export interface RenderOptions {
  workspace: string;
  /** Image when the job names none. */
  image: string;
  classes: Record<string, ResourceClass>;
  /** Slipway as the cluster reaches it; a placeholder service name otherwise. */
  serverUrl?: string;
}

/** The Secret a cluster keeps the job's Slipway token in (a service principal's, made with `slipway token create`). */
export const TOKEN_SECRET = { name: 'slipway-job-token', key: 'token' };
const PLACEHOLDER_URL = 'http://slipway.slipway.svc:8080';

/** A DNS-1123 label from a job name: lowercase alphanumerics and '-', at most 52 characters (room for the generated suffix). */
function dnsLabel(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 52).replace(/-+$/, '');
  return s || 'job';
}

/** A label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric. */
function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'x';
}

function memory(gb: number): string {
  return Number.isInteger(gb) ? `${gb}Gi` : `${Math.round(gb * 1024)}Mi`;
}

/**
 * The batch/v1 Job a cluster would run for a job definition: the same
 * command and environment, requests and limits from the resource class,
 * secrets by reference (secretKeyRef, never values), retries as
 * backoffLimit and the timeout as activeDeadlineSeconds. Inputs are passed
 * as their URIs (SLIPWAY_INPUT_<NAME>_URI): the cluster has no local copies.
 */
export function renderKubernetesJob(job: CheckedJob, opts: RenderOptions): Record<string, unknown> {
  const c = opts.classes[job.resourceClass];
  const server = opts.serverUrl ?? PLACEHOLDER_URL;
  const name = dnsLabel(job.name);
  const labels = { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/workspace': labelValue(opts.workspace), 'slipway.dev/job': labelValue(name) };
  const env: Array<Record<string, unknown>> = [
    { name: 'MLFLOW_TRACKING_URI', value: trackingUri(server, opts.workspace) },
    { name: 'MLFLOW_EXPERIMENT_NAME', value: job.spec.experiment },
    { name: 'MLFLOW_TRACKING_TOKEN', valueFrom: { secretKeyRef: { ...TOKEN_SECRET } } },
    { name: 'SLIPWAY_URL', value: server },
    { name: 'SLIPWAY_TOKEN', valueFrom: { secretKeyRef: { ...TOKEN_SECRET } } },
    { name: 'SLIPWAY_WORKSPACE', value: opts.workspace },
    ...Object.entries(job.spec.inputs).map(([k, uri]) => ({ name: `SLIPWAY_INPUT_${k.toUpperCase()}_URI`, value: uri })),
    ...Object.entries(job.spec.env).map(([k, value]) => ({ name: k, value })),
    ...Object.entries(job.spec.secretEnv).map(([k, ref]) => ({ name: k, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } })),
  ];
  const quantities = { cpu: String(c.cpu), memory: memory(c.memoryGb) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { generateName: `${name}-`, namespace: dnsLabel(opts.workspace), labels },
    spec: {
      backoffLimit: job.maxRetries,
      ...(job.timeoutMs !== null ? { activeDeadlineSeconds: Math.ceil(job.timeoutMs / 1000) } : {}),
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'job',
              image: job.spec.image ?? opts.image,
              command: job.spec.command,
              workingDir: '/work',
              env,
              resources: { requests: quantities, limits: quantities },
              volumeMounts: [{ name: 'work', mountPath: '/work' }],
            },
          ],
          volumes: [{ name: 'work', emptyDir: {} }],
        },
      },
    },
  };
}
