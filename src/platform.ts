import { join } from 'node:path';
import type { Config } from './config.js';
import { bootstrapAdmin, createAccess, type Access } from './access/service.js';
import { joinKey, openArtifactStore, type ArtifactStore } from './artifacts/index.js';
import { REGISTRY_ROOT } from './registry/storage.js';
import { DatasetService } from './datasets/service.js';
import { createRegistry, trackingLookups, type Registry } from './registry/registry.js';
import { openStore, type Store } from './store/db.js';
import { createApply, type ApplyEngine } from './apply/index.js';
import { registryResolver } from './serving/deployments.model.js';
import { createServing, type Serving } from './serving/service.js';
import { RolloutService } from './rollout/service.js';
import { createTelemetry, type Telemetry } from './telemetry/service.js';
import { monitorHandler } from './monitoring/apply.js';
import { MonitoringService } from './monitoring/service.js';
import { createTracking, type Tracking } from './tracking/service.js';
import { JobService } from './jobs/service.js';
import { JobWorker } from './jobs/worker.js';
import { pipelineHandler } from './jobs/pipelines/apply.js';
import { PipelineScheduler } from './jobs/pipelines/scheduler.js';
import { PipelineService } from './jobs/pipelines/service.js';
import { batchEndpointHandler } from './batch/apply.js';
import { BatchScorer } from './batch/scorer.js';
import { BatchService } from './batch/service.js';
import { AlertActions } from './alerts/actions.js';
import { alertRuleHandler } from './alerts/apply.js';
import { AlertEvaluator, type EvaluatorOptions } from './alerts/evaluator.js';
import type { Notifier } from './alerts/notification.js';
import { Readings } from './alerts/readings.js';
import { AlertService } from './alerts/service.js';
import { alertChannelHandler } from './alerts/channels/apply.js';
import { DeliveryLoop } from './alerts/channels/delivery.js';
import { createNotifier } from './alerts/channels/notifier.js';
import { ChannelService } from './alerts/channels/service.js';
import { MonitorScheduler } from './monitoring/scheduler.js';

export { createNotifier, DeliveryLoop };

/**
 * The composition root: builds the store and every service once from the
 * parsed Config and hands them to whichever process role runs.
 */
export interface Platform {
  config: Config;
  store: Store;
  access: Access;
  artifacts: ArtifactStore;
  datasets: DatasetService;
  tracking: Tracking;
  registry: Registry;
  serving: Serving;
  telemetry: Telemetry;
  monitoring: MonitoringService;
  rollouts: RolloutService;
  apply: ApplyEngine;
  jobs: JobService;
  pipelines: PipelineService;
  batch: BatchService;
  /** Plans, scores and writes out batch runs, mini-batch by mini-batch (worker role and `up`). */
  batchScorer(opts: { log: (msg: string) => void }): BatchScorer;
  alerts: AlertService;
  /** Evaluates alert rules, queues notifications and runs actions (worker role and `up`). */
  alertEvaluator(opts: EvaluatorOptions): AlertEvaluator;
  alertChannels: ChannelService;
  /** Queues alert notifications in the caller's transaction: the outbox `alertDelivery` sends. */
  notifier: Notifier;
  /** Sends queued alert notifications with retries and logs every attempt (worker role and `up`). */
  alertDelivery(opts: { log: (msg: string) => void }): DeliveryLoop;
  /** Runs monitors on their cron schedules (worker role and `up`). */
  monitorScheduler(opts: { log: (msg: string) => void; now?: () => number }): MonitorScheduler;
  /** A job worker over this platform (worker role and `up`); `serverUrl` is where jobs reach the API. */
  jobWorker(opts: { serverUrl?: string; log: (msg: string) => void }): JobWorker;
  /** Advances pipeline runs and fires their schedules (worker role and `up`). */
  pipelineScheduler(opts: { log: (msg: string) => void; now?: () => number }): PipelineScheduler;
  close(): Promise<void>;
}

export async function createPlatform(config: Config): Promise<Platform> {
  const store = await openStore(config.store);
  const access = createAccess(store.db, { oidc: config.oidc });
  const artifacts = openArtifactStore(config.artifacts, config.s3);
  const tracking = createTracking(store.db, access.authz, artifacts);
  // Serving resolves models through the registry, and the registry asks serving what it serves
  // (lineage, refusing to delete a served version): bound late here, so neither imports the other's routes.
  const registry = createRegistry({ db: store.db, authz: access.authz, artifacts, servedBy: (id, v, db) => serving.pinnedTo(id, v, db), onVersionReady: (ws, name, v, runId) => pipelineTrigger(() => pipelines.onModelRegistered(ws, name, v, runId)) }, trackingLookups(tracking));
  const serving: Serving = createServing({ db: store.db, authz: access.authz, models: registryResolver(registry) });
  const rollouts = new RolloutService({ db: store.db, authz: access.authz, serving });
  // A deleted workspace takes its files along, so a workspace later created
  // with the same name cannot read them: datasets, registry copies, run artifacts.
  access.workspaces.onDeleted(async (ws) => {
    for (const prefix of [joinKey('datasets', ws), joinKey(REGISTRY_ROOT, ws), joinKey('mlflow-artifacts', 'w', ws)]) await artifacts.delete(prefix);
  });
  const datasets = new DatasetService({ db: store.db, authz: access.authz, artifacts, tmpDir: join(config.dataDir, 'tmp'), onVersion: (v, source) => pipelineTrigger(() => pipelines.onDatasetVersion(v.workspace, v.dataset, v.version, source)) });
  const telemetry = createTelemetry({ db: store.db, authz: access.authz, retentionMs: config.telemetryRetentionMs });
  const monitoring = new MonitoringService({ db: store.db, authz: access.authz, datasets, registry, telemetry, retentionMs: config.telemetryRetentionMs });
  const jobs = new JobService({ db: store.db, authz: access.authz, tracking, datasets, registry, config: config.jobs });
  // Triggers (a model version or dataset version created) start pipeline runs off the caller's path.
  const pipelines: PipelineService = new PipelineService({ db: store.db, authz: access.authz, access, tracking, datasets, registry, jobs: jobs.store, config: config.jobs, cancelJob: (ctx, ws, id, reason) => jobs.cancel(ctx, ws, id, reason), log: (m) => console.warn(m) });
  // State changes queue their notifications in the outbox, in their own transaction; the delivery loop sends them.
  const notifier: Notifier = createNotifier(store.db);
  const alerts = new AlertService({ db: store.db, authz: access.authz, notifier });
  const alertChannels = new ChannelService({ db: store.db, authz: access.authz, delivery: config.alertDelivery });
  const batch = new BatchService({ db: store.db, authz: access.authz, datasets, models: registryResolver(registry), registry, config: config.jobs });
  const pipelineTrigger = (start: () => Promise<void>) => void start().catch((e) => console.warn(`pipeline trigger: ${(e as Error).message}`));
  return {
    config,
    store,
    access,
    artifacts,
    datasets,
    tracking,
    registry,
    serving,
    telemetry,
    monitoring,
    rollouts,
    apply: createApply({ serving, rollouts, authz: access.authz }).register(pipelineHandler(pipelines)).register(monitorHandler(monitoring)).register(batchEndpointHandler(batch)).register(alertRuleHandler(alerts)).register(alertChannelHandler(alertChannels)),
    jobs,
    pipelines,
    batch,
    batchScorer: (opts) => new BatchScorer({ db: store.db, artifacts, datasets, access, config: config.jobs, log: opts.log }),
    alerts,
    alertEvaluator: (opts) =>
      new AlertEvaluator(
        { db: store.db, authz: access.authz, store: alerts.store, readings: new Readings(store.db), notifier, actions: new AlertActions({ db: store.db, authz: access.authz, access, serving, pipelines, rollouts, store: alerts.store }) },
        { intervalMs: config.alertIntervalMs, retentionMs: config.telemetryRetentionMs, ...opts },
      ),
    alertChannels,
    notifier,
    alertDelivery: (opts) => new DeliveryLoop(alertChannels.store, { ...config.alertDelivery, retentionMs: config.telemetryRetentionMs, ...opts }),
    monitorScheduler: (opts) => new MonitorScheduler(monitoring, { pollMs: config.jobs.pollMs, ...opts }),
    pipelineScheduler: (opts) => new PipelineScheduler(pipelines, { pollMs: config.jobs.pollMs, ...opts }),
    jobWorker: (opts) =>
      new JobWorker({ store: jobs.store, access, tracking, artifacts, datasets, registry, config: config.jobs, workRoot: join(config.dataDir, 'jobs'), childEnv: config.childEnv, serverUrl: config.jobs.serverUrl ?? opts.serverUrl, batch, log: opts.log }),
    close: async () => {
      await artifacts.close();
      await store.close();
    },
  };
}

/** First-start work of the server role: the admin user and its token file. */
export function bootstrap(p: Platform) {
  return bootstrapAdmin(p.access, p.store.db, { tokenFile: join(p.config.dataDir, 'admin-token'), presetToken: p.config.adminToken });
}
