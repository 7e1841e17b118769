import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Invalid } from '../shared/errors.js';
import { mlflowRoute, mlflowWorkspace } from '../server/mlflow.js';
import * as W from './mlflow-api.js';
import { LIMITS } from './model.js';
import type { Tracking } from './service.js';
import { checkMaxResults, checkStatus, checkViewType } from './validate.js';

type Q = Record<string, unknown>;
const q = (req: FastifyRequest) => req.query as Q;
const b = (req: FastifyRequest) => W.body(req.body);
const ws = mlflowWorkspace;

/**
 * MLflow REST API 2.0, tracking part: experiments, runs, metrics and the
 * run artifact listing, at the root (default workspace) and under /w/{ws}.
 */
export async function mlflowTrackingRoutes(app: FastifyInstance, { tracking }: { tracking: Tracking }) {
  const { experiments, runs, reads } = tracking;

  // Experiments
  mlflowRoute(app, 'POST', '/experiments/create', async (req) => {
    const x = b(req);
    const id = await experiments.create(req.ctx, ws(req), { name: W.str(x.name, 'name'), artifactLocation: W.str(x.artifact_location, 'artifact_location'), tags: W.keyValues(x.tags, 'tags') });
    return { experiment_id: id };
  });
  mlflowRoute(app, 'GET', '/experiments/get', async (req) => ({ experiment: W.experimentJson(await experiments.get(req.ctx, ws(req), W.str(q(req).experiment_id, 'experiment_id'))) }));
  mlflowRoute(app, 'GET', '/experiments/get-by-name', async (req) => ({
    experiment: W.experimentJson(await experiments.getByName(req.ctx, ws(req), W.str(q(req).experiment_name, 'experiment_name'))),
  }));
  const searchExperiments = async (req: FastifyRequest, x: Q) => {
    const page = await experiments.search(req.ctx, ws(req), {
      filter: W.str(x.filter, 'filter'),
      viewType: checkViewType(x.view_type, 'view_type'),
      maxResults: checkMaxResults(W.int(x.max_results, 'max_results'), 'max_results', LIMITS.searchDefault, LIMITS.searchMax),
      orderBy: W.strings(x.order_by, 'order_by'),
      pageToken: W.str(x.page_token, 'page_token'),
    });
    return W.withToken(page.items.length ? { experiments: page.items.map(W.experimentJson) } : {}, page.nextPageToken);
  };
  mlflowRoute(app, 'POST', '/experiments/search', (req) => searchExperiments(req, b(req)));
  mlflowRoute(app, 'GET', '/experiments/search', (req) => searchExperiments(req, q(req)));
  mlflowRoute(app, 'POST', '/experiments/update', async (req) => {
    const x = b(req);
    await experiments.rename(req.ctx, ws(req), x.experiment_id, W.str(x.new_name, 'new_name'));
    return {};
  });
  mlflowRoute(app, 'POST', '/experiments/delete', async (req) => {
    await experiments.setLifecycle(req.ctx, ws(req), b(req).experiment_id, 'deleted');
    return {};
  });
  mlflowRoute(app, 'POST', '/experiments/restore', async (req) => {
    await experiments.setLifecycle(req.ctx, ws(req), b(req).experiment_id, 'active');
    return {};
  });
  mlflowRoute(app, 'POST', '/experiments/set-experiment-tag', async (req) => {
    const x = b(req);
    await experiments.setTag(req.ctx, ws(req), x.experiment_id, x.key, x.value);
    return {};
  });
  mlflowRoute(app, 'POST', '/experiments/delete-experiment-tag', async (req) => {
    const x = b(req);
    await experiments.deleteTag(req.ctx, ws(req), x.experiment_id, x.key);
    return {};
  });

  // Runs
  mlflowRoute(app, 'POST', '/runs/create', async (req) => {
    const x = b(req);
    const r = await runs.create(req.ctx, ws(req), {
      experimentId: x.experiment_id,
      userId: W.str(x.user_id, 'user_id'),
      runName: W.str(x.run_name, 'run_name'),
      startTime: W.int(x.start_time, 'start_time'),
      tags: W.keyValues(x.tags, 'tags'),
    });
    return { run: { info: W.runInfoJson(r.info), data: { tags: r.tags } } };
  });
  mlflowRoute(app, 'GET', '/runs/get', async (req) => ({ run: W.runJson(await reads.get(req.ctx, ws(req), W.runIdOf(q(req)))) }));
  mlflowRoute(app, 'POST', '/runs/update', async (req) => {
    const x = b(req);
    const info = await runs.update(req.ctx, ws(req), W.runIdOf(x), {
      status: x.status === undefined || x.status === null ? undefined : checkStatus(x.status),
      endTime: W.int(x.end_time, 'end_time'),
      runName: W.str(x.run_name, 'run_name'),
    });
    return { run_info: W.runInfoJson(info) };
  });
  mlflowRoute(app, 'POST', '/runs/delete', async (req) => {
    await runs.setLifecycle(req.ctx, ws(req), W.runIdOf(b(req)), 'deleted');
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/restore', async (req) => {
    await runs.setLifecycle(req.ctx, ws(req), W.runIdOf(b(req)), 'active');
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/search', async (req) => {
    const x = b(req);
    const page = await reads.search(req.ctx, ws(req), {
      experimentIds: W.strings(x.experiment_ids, 'experiment_ids'),
      filter: W.str(x.filter, 'filter'),
      viewType: checkViewType(x.run_view_type, 'run_view_type'),
      maxResults: checkMaxResults(W.int(x.max_results, 'max_results'), 'max_results', LIMITS.searchDefault, LIMITS.searchMax),
      orderBy: W.strings(x.order_by, 'order_by'),
      pageToken: W.str(x.page_token, 'page_token'),
    });
    return W.withToken(page.items.length ? { runs: page.items.map(W.runJson) } : {}, page.nextPageToken);
  });
  mlflowRoute(app, 'POST', '/runs/log-metric', async (req) => {
    const x = b(req);
    await runs.logBatch(req.ctx, ws(req), W.runIdOf(x), { metrics: [W.metricOf(x, 'metric')], params: [], tags: [] });
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/log-parameter', async (req) => {
    const x = b(req);
    if (typeof x.key !== 'string' || !x.key) throw Invalid.field('key', "missing value for required parameter 'key'");
    await runs.logBatch(req.ctx, ws(req), W.runIdOf(x), { metrics: [], params: [{ key: x.key, value: x.value as string }], tags: [] });
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/set-tag', async (req) => {
    const x = b(req);
    if (typeof x.key !== 'string' || !x.key) throw Invalid.field('key', "missing value for required parameter 'key'");
    await runs.logBatch(req.ctx, ws(req), W.runIdOf(x), { metrics: [], params: [], tags: [{ key: x.key, value: x.value as string }] });
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/delete-tag', async (req) => {
    const x = b(req);
    await runs.deleteTag(req.ctx, ws(req), W.runIdOf(x), W.str(x.key, 'key'));
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/log-batch', async (req) => {
    const x = b(req);
    await runs.logBatch(req.ctx, ws(req), W.runIdOf(x), W.batchOf(x));
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/log-inputs', async (req) => {
    const x = b(req);
    await runs.logInputs(req.ctx, ws(req), W.runIdOf(x), W.datasetInputsOf(x.datasets), W.modelInputsOf(x.models));
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/log-model', async (req) => {
    const x = b(req);
    await runs.logModel(req.ctx, ws(req), W.runIdOf(x), parseModelJson(x.model_json));
    return {};
  });

  // Metrics
  mlflowRoute(app, 'GET', '/metrics/get-history', async (req) => {
    const x = q(req);
    const page = await reads.history(req.ctx, ws(req), W.runIdOf(x), W.str(x.metric_key, 'metric_key'), W.int(x.max_results, 'max_results'), W.str(x.page_token, 'page_token'));
    // Empty lists are omitted, as protobuf JSON does: no points is `{}`.
    return W.withToken(page.items.length ? { metrics: page.items.map(W.metricJson) } : {}, page.nextPageToken);
  });
  mlflowRoute(app, 'GET', '/metrics/get-history-bulk-interval', async (req) => {
    const x = q(req);
    const metrics = await reads.bulkInterval(req.ctx, ws(req), {
      runIds: W.strings(x.run_ids, 'run_ids'),
      metricKey: W.str(x.metric_key, 'metric_key'),
      startStep: W.int(x.start_step, 'start_step'),
      endStep: W.int(x.end_step, 'end_step'),
      maxResults: W.int(x.max_results, 'max_results'),
    });
    return metrics.length ? { metrics: metrics.map(W.metricWithRunJson) } : {};
  });

  // Artifacts (the older, non-proxy listing)
  mlflowRoute(app, 'GET', '/artifacts/list', async (req) => {
    const x = q(req);
    return W.artifactListJson(await reads.listArtifacts(req.ctx, ws(req), W.runIdOf(x), W.str(x.path, 'path')));
  });
}

/** MLflow refuses an MLmodel JSON that lacks these fields. */
const MODEL_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'];

function parseModelJson(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string' || !raw) throw Invalid.field('model_json', "missing value for required parameter 'model_json'");
  let model: unknown;
  try {
    model = JSON.parse(raw);
  } catch {
    throw Invalid.field('model_json', 'malformed model info: not valid JSON');
  }
  if (typeof model !== 'object' || model === null || Array.isArray(model)) throw Invalid.field('model_json', 'malformed model info: a JSON object is expected');
  const missing = MODEL_FIELDS.filter((f) => !(f in model));
  if (missing.length) throw Invalid.field('model_json', `model json is missing mandatory fields: ${missing.join(', ')}`);
  return model as Record<string, unknown>;
}
