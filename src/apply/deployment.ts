import type { Ctx } from '../access/principal.js';

import { checkBatching, checkInt, checkLabel, parseModelRef } from '../serving/endpoints.rules.js';
import type { DeploymentView } from '../serving/endpoints.views.js';
import type { Batching, DeploymentCreate } from '../serving/schema.js';
import type { Serving } from '../serving/service.js';
import { Invalid, isSlipwayError } from '../shared/errors.js';
import { optString, refuseUnknown, type Batch, type Doc, type KindHandler, type Step } from './engine.js';
import type { EndpointSpec } from './endpoint.js';

/** A Deployment document. Omitted settings are left as they are (created with defaults). */
export interface DeploymentSpec {
  endpoint: string;
  name: string;
  /** Explicit, else the Endpoint document's of the same file, else 'default'. */
  workspace?: string;
  model: string;
  runtime?: 'onnx' | 'process' | 'http';
  command?: string[];
  url?: string;
  instances?: number;
  maxConcurrent?: number;
  timeoutMs?: number;
  batching?: Batching | null;
}

const FIELDS = ['endpoint', 'name', 'workspace', 'model', 'runtime', 'command', 'url', 'instances', 'maxConcurrent', 'timeoutMs', 'batching'];
const SETTINGS = ['runtime', 'command', 'url', 'instances', 'maxConcurrent', 'timeoutMs', 'batching'] as const;

export function deploymentHandler(serving: Serving): KindHandler<DeploymentSpec> {
  const { endpoints, deployments } = serving;
  const workspaceOf = (p: DeploymentSpec, batch: Batch) => p.workspace ?? batch.of<EndpointSpec>('Endpoint').find((e) => e.name === p.endpoint)?.workspace ?? 'default';
  return {
    kind: 'Deployment',
    permission: 'endpoint.deploy',
    parse(doc: Doc): DeploymentSpec {
      refuseUnknown(doc, FIELDS);
      const runtime = doc.runtime;
      if (runtime !== undefined && runtime !== 'onnx' && runtime !== 'process' && runtime !== 'http') throw Invalid.field('runtime', 'must be onnx, process or http');
      const command = doc.command;
      if (command !== undefined && (!Array.isArray(command) || command.some((c) => typeof c !== 'string'))) throw Invalid.field('command', 'must be a list of strings (argv)');
      const model = optString(doc, 'model');
      if (!model) throw Invalid.field('model', 'is required: models:/NAME/VERSION or models:/NAME@ALIAS');
      parseModelRef(model);
      return {
        endpoint: checkLabel(doc.endpoint, 'endpoint'),
        name: checkLabel(doc.name, 'name'),
        workspace: optString(doc, 'workspace'),
        model,
        runtime: runtime as DeploymentSpec['runtime'],
        command: command as string[] | undefined,
        url: optString(doc, 'url'),
        instances: doc.instances === undefined ? undefined : checkInt(doc.instances, 'instances', 1, 64, 1),
        maxConcurrent: doc.maxConcurrent === undefined ? undefined : checkInt(doc.maxConcurrent, 'maxConcurrent', 1, 10_000, 1),
        timeoutMs: doc.timeoutMs === undefined ? undefined : checkInt(doc.timeoutMs, 'timeoutMs', 1, 3_600_000, 1),
        batching: doc.batching === undefined ? undefined : checkBatching(doc.batching),
      };
    },
    key: (p) => `${p.endpoint}/${p.name}`,
    label: (p) => `${p.endpoint}/${p.name}`,
    // After the file's traffic (30) moved off it; gone already when its pruned endpoint took it along.
    remove: {
      phase: 95,
      run: (c, p) => deployments.delete(c, p.workspace ?? 'default', p.endpoint, p.name, 'slipway apply --prune').catch((e) => (isSlipwayError(e) && e.code === 'not_found' ? undefined : Promise.reject(e))),
    },
    async plan(ctx: Ctx, p: DeploymentSpec, batch: Batch): Promise<Step> {
      const ws = workspaceOf(p, batch);
      const ep = await endpoints.find(ctx, ws, p.endpoint);
      if (!ep && !batch.of<EndpointSpec>('Endpoint').some((e) => e.name === p.endpoint && e.workspace === ws)) {
        throw Invalid.field('endpoint', `no endpoint '${p.endpoint}' in workspace '${ws}' nor in this file`);
      }
      const cur = ep?.deployments.find((d) => d.name === p.name);
      const { workspace: _w, endpoint: _e, ...body } = p;
      const desired = { ...(cur ? current(cur) : {}), ...defined(body) } as DeploymentCreate;
      // The model is pinned: the same reference is never re-resolved, even when its alias moved.
      const modelChanged = !cur || cur.model.ref !== p.model;
      await deployments.preview(ctx, ws, desired, modelChanged);
      const changes = cur ? [...(modelChanged ? ['model'] : []), ...SETTINGS.filter((k) => p[k] !== undefined && JSON.stringify(p[k]) !== JSON.stringify(current(cur)[k]))] : ['model', ...SETTINGS.filter((k) => p[k] !== undefined)];
      const action = !cur ? 'create' : changes.length ? 'update' : 'unchanged';
      const run = !cur
        ? async (c: Ctx) => void (await deployments.create(c, ws, p.endpoint, desired))
        : async (c: Ctx) => void (await deployments.update(c, ws, p.endpoint, p.name, defined(body)));
      return { row: { kind: 'Deployment', workspace: ws, name: `${p.endpoint}/${p.name}`, action, changes }, ops: action === 'unchanged' ? [] : [{ phase: 20, run }] };
    },
    async export(ctx: Ctx, workspace: string): Promise<Doc[]> {
      const out: Doc[] = [];
      for (const e of await endpoints.list(ctx, workspace)) for (const d of e.deployments) out.push({ kind: 'Deployment', endpoint: e.name, workspace, ...current(d) });
      return out;
    },
  };
}

/** A deployment's settings in document form; unset optional ones are left out. */
function current(d: DeploymentView): Omit<DeploymentSpec, 'endpoint' | 'workspace'> {
  const out: Omit<DeploymentSpec, 'endpoint' | 'workspace'> = { name: d.name, model: d.model.ref, runtime: d.runtime, instances: d.instances, maxConcurrent: d.maxConcurrent, timeoutMs: d.timeoutMs };
  if (d.command) out.command = d.command;
  if (d.url) out.url = d.url;
  if (d.batching) out.batching = d.batching;
  return out;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

