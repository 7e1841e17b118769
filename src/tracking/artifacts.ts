import { validatePrefix } from '../artifacts/keys.js';

/**
 * Where tracking artifacts live, shared with the artifact proxy
 * (`/api/2.0/mlflow-artifacts/artifacts/<path>`).
 *
 * An experiment's artifact_location is `mlflow-artifacts:/<scope path>`:
 *   default workspace: `<experiment_id>`            (exactly as MLflow: `mlflow-artifacts:/1`)
 *   other workspaces:  `w/<workspace>/<experiment_id>`
 * A run's artifact_uri appends `/<run_id>/artifacts`. The bytes of
 * `mlflow-artifacts:/<path>` are stored under the ArtifactStore key
 * `mlflow-artifacts/<path>`.
 */
export const ARTIFACT_SCHEME = 'mlflow-artifacts:';
export const ARTIFACT_KEY_PREFIX = 'mlflow-artifacts';

export interface ArtifactScope {
  /** The workspace that owns the path. */
  workspace: string;
  /** The owning experiment's id (a numeric string). */
  experimentId: string;
  /** The run id when the path is inside `<exp>/<run_id>/…`. */
  runId?: string;
  /** The normalised path (no leading/trailing slash). */
  path: string;
  /** The ArtifactStore key of the path. */
  key: string;
}

const EXPERIMENT_ID = /^\d{1,18}$/;
const RUN_ID = /^[0-9a-f]{32}$/;

/** The scope path of an experiment's artifacts (what follows `mlflow-artifacts:/`). */
export function experimentArtifactPath(workspace: string, experimentId: number | string): string {
  return workspace === 'default' ? String(experimentId) : `w/${workspace}/${experimentId}`;
}

export function experimentArtifactLocation(workspace: string, experimentId: number | string): string {
  return `${ARTIFACT_SCHEME}/${experimentArtifactPath(workspace, experimentId)}`;
}

/**
 * Maps a proxy path (`1/<run>/artifacts/model/MLmodel`, `w/team/7/...`) to its
 * owning workspace and experiment, or null when the path is not under any
 * experiment. Throws `Invalid` (field `path`) on traversal or malformed paths.
 * Pure: the caller checks that the workspace matches the request's and that
 * the caller may read or write it.
 */
export function artifactScope(path: string): ArtifactScope | null {
  const norm = validatePrefix(path);
  const parts = norm.split('/');
  let workspace = 'default';
  let rest = parts;
  if (parts[0] === 'w') {
    if (parts.length < 3) return null;
    workspace = parts[1];
    rest = parts.slice(2);
  }
  if (!EXPERIMENT_ID.test(rest[0] ?? '')) return null;
  const runId = RUN_ID.test(rest[1] ?? '') ? rest[1] : undefined;
  return { workspace, experimentId: rest[0], runId, path: norm, key: artifactKey(norm) };
}

/** The ArtifactStore key for a normalised scope path. */
export function artifactKey(path: string): string {
  const norm = validatePrefix(path);
  return norm ? `${ARTIFACT_KEY_PREFIX}/${norm}` : ARTIFACT_KEY_PREFIX;
}

/** The scope path inside an `mlflow-artifacts:` URI, or null for other schemes. */
export function pathOfUri(uri: string): string | null {
  if (!uri.startsWith(ARTIFACT_SCHEME)) return null;
  return uri.slice(ARTIFACT_SCHEME.length).replace(/^\/+/, '');
}
