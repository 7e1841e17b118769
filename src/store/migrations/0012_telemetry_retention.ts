import type { Kysely } from 'kysely';
import { runStatements } from './statements.js';

/**
 * Captures and per-minute rollups are trimmed by age (SLIPWAY_TELEMETRY_RETENTION);
 * these indexes let the periodic delete find old rows without a full scan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, `
    create index endpoint_captures_age on endpoint_captures (at);
    create index endpoint_rollups_age on endpoint_rollups (minute);
  `);
}
