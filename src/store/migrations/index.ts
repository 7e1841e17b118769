import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './0001_access.js';
import * as m0002 from './0002_tracking.js';
import * as m0003 from './0003_registry.js';
import * as m0004 from './0004_datasets.js';
import * as m0005 from './0005_serving.js';
import * as m0006 from './0006_telemetry.js';
import * as m0007 from './0007_deployment_windows.js';
import * as m0008 from './0008_rollouts.js';
import * as m0009 from './0009_jobs.js';
import * as m0010 from './0010_pipelines.js';
import * as m0011 from './0011_monitoring.js';
import * as m0012 from './0012_telemetry_retention.js';
import * as m0013 from './0013_alerts.js';
import * as m0014 from './0014_alert_delivery.js';
import * as m0015 from './0015_batch.js';

/** Versioned migrations, in order. Append only: never edit a shipped one. */
const migrations: Record<string, Migration> = {
  '0001_access': m0001,
  '0002_tracking': m0002,
  '0003_registry': m0003,
  '0004_datasets': m0004,
  '0005_serving': m0005,
  '0006_telemetry': m0006,
  '0007_deployment_windows': m0007,
  '0008_rollouts': m0008,
  '0009_jobs': m0009,
  '0010_pipelines': m0010,
  '0011_monitoring': m0011,
  '0012_telemetry_retention': m0012,
  '0013_alerts': m0013,
  '0014_alert_delivery': m0014,
  '0015_batch': m0015,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Brings the schema up to date. Idempotent, and safe when several replicas
 * start at once (Kysely takes a lock row before migrating).
 */
export async function migrate(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '?'} failed: ${(error as Error).message ?? error}`);
  }
}
