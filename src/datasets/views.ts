import type { DatasetOut, VersionOut } from './schema.js';
import { datasetUri } from './names.js';
import type { DatasetRow, VersionRow } from './store.js';

/** Row → API shape mappers, shared by the service and the handle other domains use. */

export function datasetView(workspace: string, d: DatasetRow): DatasetOut {
  return {
    name: d.name,
    workspace,
    owner: d.owner,
    source: d.source,
    refreshFrequency: d.refresh_frequency,
    description: d.description,
    latestVersion: d.latest_version === null ? null : Number(d.latest_version),
    createdAt: d.created_at.toISOString(),
    updatedAt: d.updated_at.toISOString(),
  };
}

export function versionView(workspace: string, dataset: string, v: VersionRow): VersionOut {
  return {
    dataset,
    workspace,
    version: v.version,
    uri: datasetUri(dataset, v.version),
    format: v.format,
    filename: v.filename,
    sha256: v.sha256,
    size: Number(v.size_bytes),
    rowCount: Number(v.row_count),
    // jsonb comes back parsed from both drivers; text would be a driver difference.
    schema: { columns: typeof v.columns === 'string' ? JSON.parse(v.columns) : v.columns },
    createdBy: v.created_by,
    createdAt: v.created_at.toISOString(),
  };
}
