import type { Authorizer } from '../access/authorizer.js';
import type { Db } from '../store/db.js';
import { DeploymentService } from './deployments.js';
import type { ModelResolver } from './deployments.model.js';
import { EndpointService } from './endpoints.js';
import type { DeploymentSettings } from './endpoints.views.js';
import type { Batching, Capture, RateLimit, TrafficMap } from './schema.js';
import { ServingStore } from './store.js';

/** Everything a gateway needs to route one endpoint, read once per configuration change. */
export interface RoutedEndpoint {
  /** Telemetry rows are keyed by it: a recreated endpoint of the same name starts empty. */
  id: number;
  name: string;
  workspace: string;
  auth: 'key' | 'token';
  keys: { primary: string; secondary: string };
  traffic: TrafficMap;
  mirror: TrafficMap;
  rateLimit: RateLimit | null;
  capture: Capture | null;
  generation: number;
  deployments: RoutedDeployment[];
}

export interface RoutedDeployment extends DeploymentSettings {
  name: string;
  model: { name: string; version: number; digest: string; storagePrefix: string; file: string };
}

export interface RoutingSnapshot {
  /** The servingConfigVersion() this snapshot is at least as new as. */
  version: number;
  endpoints: RoutedEndpoint[];
}

/** The serving domain as the composition root hands it to HTTP plugins, apply handlers and gateways. */
export interface Serving {
  endpoints: EndpointService;
  deployments: DeploymentService;
  /** One single-row read: gateways poll it and refresh routing only when it moved. */
  servingConfigVersion(): Promise<number>;
  /** All endpoints with deployments, keys, maps, limits and pinned model files. No authorization: server-internal. */
  routingSnapshot(): Promise<RoutingSnapshot>;
  /**
   * Deployments serving versions of a registered model (by id: renames move
   * nothing), for registry lineage and to refuse deleting a version in service.
   */
  pinnedTo(modelId: number, version?: number, db?: Db): Promise<Array<{ endpoint: string; deployment: string; version: number }>>;
}

export function createServing(deps: { db: Db; authz: Authorizer; models: ModelResolver }): Serving {
  const store = new ServingStore(deps.db);
  const core = { db: deps.db, authz: deps.authz, store };
  return {
    endpoints: new EndpointService(core),
    deployments: new DeploymentService(core, deps.models),
    servingConfigVersion: () => store.version(),
    routingSnapshot: () => snapshot(store),
    pinnedTo: (modelId, version, db) => store.pinning(modelId, version, db),
  };
}

async function snapshot(store: ServingStore): Promise<RoutingSnapshot> {
  // The version is read first: a change landing in between makes the next poll refresh again, never miss one.
  const version = await store.version();
  const endpoints = await store.endpoints();
  const deployments = await store.deployments(endpoints.map((e) => e.id));
  const wsNames = await store.workspaceNames([...new Set(endpoints.map((e) => Number(e.workspace_id)))]);
  const json = <T>(s: string | null) => (s === null ? null : (JSON.parse(s) as T));
  return {
    version,
    endpoints: endpoints.map((e) => ({
      id: e.id,
      name: e.name,
      workspace: wsNames.get(Number(e.workspace_id)) ?? '',
      auth: e.auth,
      keys: { primary: e.primary_key, secondary: e.secondary_key },
      traffic: JSON.parse(e.traffic) as TrafficMap,
      mirror: JSON.parse(e.mirror) as TrafficMap,
      rateLimit: json<RateLimit>(e.rate_limit),
      capture: json<Capture>(e.capture),
      generation: Number(e.generation),
      deployments: deployments
        .filter((d) => Number(d.endpoint_id) === e.id)
        .map((d) => ({
          name: d.name,
          runtime: d.runtime,
          command: json<string[]>(d.command),
          url: d.url,
          instances: d.instances,
          maxConcurrent: d.max_concurrent,
          timeoutMs: d.timeout_ms,
          batching: json<Batching>(d.batching),
          state: d.state,
          model: { name: d.model_name, version: Number(d.model_version), digest: d.model_digest, storagePrefix: d.storage_prefix, file: d.model_file },
        })),
    })),
  };
}
