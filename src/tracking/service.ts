import type { Authorizer } from '../access/authorizer.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { Db } from '../store/db.js';
import { ExperimentService } from './experiments.js';
import { RunReader } from './runs.read.js';
import { RunWriter } from './runs.write.js';
import { ExperimentStore } from './store.experiments.js';
import { MetricStore } from './store.metrics.js';
import { RunStore } from './store.runs.js';

/** The tracking domain as the composition root hands it to HTTP plugins and the CLI. */
export interface Tracking {
  experiments: ExperimentService;
  runs: RunWriter;
  reads: RunReader;
  /** Direct store access for benchmarks and other domains' lineage reads. */
  stores: { experiments: ExperimentStore; runs: RunStore; metrics: MetricStore };
}

export function createTracking(db: Db, authz: Authorizer, artifacts: ArtifactStore): Tracking {
  const stores = { experiments: new ExperimentStore(db), runs: new RunStore(db), metrics: new MetricStore(db) };
  const experiments = new ExperimentService(authz, stores.experiments);
  return {
    experiments,
    runs: new RunWriter(authz, stores.runs, stores.metrics, stores.experiments, experiments),
    reads: new RunReader(authz, stores.runs, stores.metrics, experiments, artifacts),
    stores,
  };
}
