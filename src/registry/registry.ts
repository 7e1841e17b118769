import type { Ctx } from '../access/principal.js';
import { ArtifactProxy } from '../artifacts/proxy.js';
import { isSlipwayError } from '../shared/errors.js';
import type { Run } from '../tracking/model.js';
import type { Tracking } from '../tracking/service.js';
import { LoggedModelService } from './logged-models.js';
import { ModelService, type RegistryDeps } from './service.js';
import type { SourceLookups } from './sources.js';
import { VersionReader } from './versions.read.js';
import { UploadService } from './upload.js';
import { VersionWriter } from './versions.write.js';

/** What the registry needs from tracking: authorized reads, null when absent. */
export interface TrackingLookups {
  experimentExists(ctx: Ctx, workspace: string, experimentId: string): Promise<boolean>;
  run(ctx: Ctx, workspace: string, runId: string): Promise<Run | null>;
}

/** The registry domain as the composition root hands it to HTTP plugins. */
export interface Registry {
  models: ModelService;
  versions: VersionWriter;
  reads: VersionReader;
  loggedModels: LoggedModelService;
  uploads: UploadService;
  /** The MLflow artifact proxy (src/artifacts/routes.ts), which also serves registry files. */
  proxy: ArtifactProxy;
}

const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
  try {
    return await p;
  } catch (e) {
    if (isSlipwayError(e) && e.code === 'not_found') return null;
    throw e;
  }
};

/** Adapts tracking's services to the lookups the registry and the proxy use. */
export function trackingLookups(tracking: Tracking): TrackingLookups {
  return {
    experimentExists: async (ctx, ws, id) => (await orNull(tracking.experiments.get(ctx, ws, id))) !== null,
    run: (ctx, ws, runId) => orNull(tracking.reads.get(ctx, ws, runId)),
  };
}

export function createRegistry(deps: RegistryDeps, tracking: TrackingLookups): Registry {
  const models = new ModelService(deps);
  const loggedModels = new LoggedModelService({ ...deps, experimentExists: tracking.experimentExists });
  const lookups: SourceLookups = {
    experimentExists: tracking.experimentExists,
    run: async (ctx, ws, runId) => {
      const r = await tracking.run(ctx, ws, runId);
      return r ? { artifactUri: r.info.artifactUri } : null;
    },
    loggedModel: async (workspace, id) => {
      const wsId = await models.store.workspaceId(workspace);
      const lm = wsId === null ? null : await loggedModels.lookup(wsId, id);
      return lm ? { artifactUri: lm.artifact_uri, sourceRunId: lm.source_run_id } : null;
    },
    registeredVersion: async (workspace, name, ref) => {
      const wsId = await models.store.workspaceId(workspace);
      const m = wsId === null ? null : await models.store.model(wsId, name);
      if (!m) return null;
      const versionId = ref.startsWith('@') ? await models.store.aliasTarget(deps.db, Number(m.id), ref.slice(1)) : null;
      const all = await models.store.versionsOf(deps.db, [Number(m.id)]);
      const v = ref.startsWith('@') ? all.find((x) => Number(x.id) === versionId) : all.find((x) => String(x.version) === ref);
      return v && v.status === 'READY' ? v.storage_prefix : null;
    },
  };
  const versions = new VersionWriter(deps, models.store, models.storage, lookups);
  return {
    models,
    versions,
    uploads: new UploadService(versions, models.storage),
    reads: new VersionReader(deps, models.store, models.storage, tracking.run),
    loggedModels,
    proxy: new ArtifactProxy({
      store: deps.artifacts,
      authz: deps.authz,
      experimentExists: tracking.experimentExists,
      versionStored: async (workspace, modelId, version) => {
        const wsId = await models.store.workspaceId(workspace);
        const m = wsId === null ? null : await models.store.modelById(Number(modelId));
        if (!m || Number(m.workspace_id) !== wsId) return false;
        const v = (await models.store.versionsOf(deps.db, [Number(m.id)])).find((x) => String(x.version) === version);
        return v?.status === 'READY';
      },
    }),
  };
}
