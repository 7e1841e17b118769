import type { Batching, Capture, RateLimit, TrafficMap } from './schema.js';
import type { DeploymentRow, EndpointRow, TrafficHistoryRow } from './tables.js';

/** How a deployment runs, as both the API and the gateway see it. */
export interface DeploymentSettings {
  runtime: 'onnx' | 'process' | 'http';
  command: string[] | null;
  url: string | null;
  instances: number;
  maxConcurrent: number;
  timeoutMs: number;
  batching: Batching | null;
  state: string;
}

export interface DeploymentView extends DeploymentSettings {
  endpoint: string;
  name: string;
  model: { ref: string; name: string; version: number; digest: string };
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface EndpointView {
  name: string;
  workspace: string;
  auth: 'key' | 'token';
  description: string;
  traffic: TrafficMap;
  mirror: TrafficMap;
  rateLimit: RateLimit | null;
  capture: Capture | null;
  generation: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  deployments: DeploymentView[];
}

export interface HistoryView {
  endpoint: string;
  at: number;
  who: string;
  reason: string;
  traffic: TrafficMap;
  mirror: TrafficMap;
}

const json = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

export function deploymentView(endpoint: string, d: DeploymentRow): DeploymentView {
  return {
    endpoint,
    name: d.name,
    model: { ref: d.model_ref, name: d.model_name, version: Number(d.model_version), digest: d.model_digest },
    runtime: d.runtime,
    command: json<string[]>(d.command),
    url: d.url,
    instances: d.instances,
    maxConcurrent: d.max_concurrent,
    timeoutMs: d.timeout_ms,
    batching: json<Batching>(d.batching),
    state: d.state,
    createdBy: d.created_by,
    createdAt: Number(d.created_at),
    updatedAt: Number(d.updated_at),
  };
}

export function endpointView(e: EndpointRow, workspace: string, deployments: DeploymentRow[]): EndpointView {
  return {
    name: e.name,
    workspace,
    auth: e.auth,
    description: e.description,
    traffic: JSON.parse(e.traffic) as TrafficMap,
    mirror: JSON.parse(e.mirror) as TrafficMap,
    rateLimit: json<RateLimit>(e.rate_limit),
    capture: json<Capture>(e.capture),
    generation: Number(e.generation),
    createdBy: e.created_by,
    createdAt: Number(e.created_at),
    updatedAt: Number(e.updated_at),
    deployments: deployments.filter((d) => Number(d.endpoint_id) === e.id).map((d) => deploymentView(e.name, d)),
  };
}

export function historyView(h: TrafficHistoryRow): HistoryView {
  return { endpoint: h.endpoint, at: Number(h.at), who: h.who, reason: h.reason, traffic: JSON.parse(h.traffic) as TrafficMap, mirror: JSON.parse(h.mirror) as TrafficMap };
}
