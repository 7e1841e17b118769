import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mlflowRoute, mlflowWorkspace } from '../server/mlflow.js';
import * as W from './mlflow-api.js';
import type { Registry } from './registry.js';
import { parseVersion } from './views.js';

type Q = Record<string, unknown>;
const ws = mlflowWorkspace;
/** GET reads the query string; other methods a JSON body (DELETE included, as the MLflow client sends it). */
const args = (req: FastifyRequest): Q => (req.method === 'GET' ? (req.query as Q) : { ...(req.query as Q), ...W.body(req.body) });
const name = (x: Q) => W.str(x.name, 'name') ?? '';
const version = (x: Q) => parseVersion(W.str(x.version, 'version') ?? (typeof x.version === 'number' ? String(x.version) : undefined));

/** MLflow REST API 2.0, model registry part, plus MLflow 3 logged models. */
export async function mlflowRegistryRoutes(app: FastifyInstance, { registry }: { registry: Registry }) {
  const { models, versions, reads, loggedModels } = registry;

  // Registered models
  mlflowRoute(app, 'POST', '/registered-models/create', async (req) => {
    const x = args(req);
    return { registered_model: W.modelJson(await models.create(req.ctx, ws(req), { name: name(x), description: W.str(x.description, 'description'), tags: W.keyValues(x.tags, 'tags') })) };
  });
  mlflowRoute(app, 'GET', '/registered-models/get', async (req) => ({ registered_model: W.modelJson(await models.get(req.ctx, ws(req), name(args(req)))) }));
  mlflowRoute(app, 'POST', '/registered-models/rename', async (req) => {
    const x = args(req);
    return { registered_model: W.modelJson(await models.rename(req.ctx, ws(req), name(x), W.str(x.new_name, 'new_name') ?? '')) };
  });
  mlflowRoute(app, 'PATCH', '/registered-models/update', async (req) => {
    const x = args(req);
    return { registered_model: W.modelJson(await models.update(req.ctx, ws(req), name(x), W.str(x.description, 'description'))) };
  });
  mlflowRoute(app, 'DELETE', '/registered-models/delete', async (req) => {
    await models.delete(req.ctx, ws(req), name(args(req)));
    return {};
  });
  mlflowRoute(app, 'GET', '/registered-models/search', async (req) => {
    const x = args(req);
    const page = await models.search(req.ctx, ws(req), { filter: W.str(x.filter, 'filter'), maxResults: W.int(x.max_results, 'max_results'), orderBy: W.strings(x.order_by, 'order_by'), pageToken: W.str(x.page_token, 'page_token') });
    return W.withToken(page.items.length ? { registered_models: page.items.map(W.modelJson) } : {}, page.nextPageToken);
  });
  for (const method of ['POST', 'GET'] as const) {
    mlflowRoute(app, method, '/registered-models/get-latest-versions', async (req) => {
      const x = args(req);
      const list = await reads.latest(req.ctx, ws(req), name(x), W.strings(x.stages, 'stages'));
      return list.length ? { model_versions: list.map((v) => W.versionJson(v, { aliases: false })) } : {};
    });
  }
  mlflowRoute(app, 'POST', '/registered-models/set-tag', async (req) => {
    const x = args(req);
    await models.setTag(req.ctx, ws(req), name(x), W.str(x.key, 'key') ?? '', W.str(x.value, 'value') as string);
    return {};
  });
  mlflowRoute(app, 'DELETE', '/registered-models/delete-tag', async (req) => {
    const x = args(req);
    await models.deleteTag(req.ctx, ws(req), name(x), W.str(x.key, 'key') ?? '');
    return {};
  });
  mlflowRoute(app, 'POST', '/registered-models/alias', async (req) => {
    const x = args(req);
    await versions.setAlias(req.ctx, ws(req), name(x), W.str(x.alias, 'alias') ?? '', version(x));
    return {};
  });
  mlflowRoute(app, 'DELETE', '/registered-models/alias', async (req) => {
    const x = args(req);
    await versions.deleteAlias(req.ctx, ws(req), name(x), W.str(x.alias, 'alias') ?? '');
    return {};
  });
  mlflowRoute(app, 'GET', '/registered-models/alias', async (req) => {
    const x = args(req);
    return { model_version: W.versionJson(await reads.byAlias(req.ctx, ws(req), name(x), W.str(x.alias, 'alias') ?? '')) };
  });

  // Model versions
  mlflowRoute(app, 'POST', '/model-versions/create', async (req) => {
    const x = args(req);
    const v = await versions.create(req.ctx, ws(req), {
      name: name(x),
      source: W.str(x.source, 'source'),
      runId: W.str(x.run_id, 'run_id'),
      runLink: W.str(x.run_link, 'run_link'),
      description: W.str(x.description, 'description'),
      tags: W.keyValues(x.tags, 'tags'),
      loggedModelId: W.str(x.model_id, 'model_id'),
    });
    return { model_version: W.versionJson(v) };
  });
  mlflowRoute(app, 'GET', '/model-versions/get', async (req) => {
    const x = args(req);
    return { model_version: W.versionJson(await reads.get(req.ctx, ws(req), name(x), version(x))) };
  });
  mlflowRoute(app, 'PATCH', '/model-versions/update', async (req) => {
    const x = args(req);
    return { model_version: W.versionJson(await versions.update(req.ctx, ws(req), name(x), version(x), W.str(x.description, 'description'))) };
  });
  mlflowRoute(app, 'POST', '/model-versions/transition-stage', async (req) => {
    const x = args(req);
    const v = await versions.transition(req.ctx, ws(req), name(x), version(x), W.str(x.stage, 'stage') ?? '', W.bool(x.archive_existing_versions, 'archive_existing_versions') ?? false);
    return { model_version: W.versionJson(v) };
  });
  mlflowRoute(app, 'DELETE', '/model-versions/delete', async (req) => {
    const x = args(req);
    await versions.delete(req.ctx, ws(req), name(x), version(x));
    return {};
  });
  mlflowRoute(app, 'GET', '/model-versions/search', async (req) => {
    const x = args(req);
    const page = await reads.search(req.ctx, ws(req), { filter: W.str(x.filter, 'filter'), maxResults: W.int(x.max_results, 'max_results'), orderBy: W.strings(x.order_by, 'order_by'), pageToken: W.str(x.page_token, 'page_token') });
    return W.withToken(page.items.length ? { model_versions: page.items.map((v) => W.versionJson(v)) } : {}, page.nextPageToken);
  });
  mlflowRoute(app, 'GET', '/model-versions/get-download-uri', async (req) => {
    const x = args(req);
    return { artifact_uri: await reads.downloadUri(req.ctx, ws(req), name(x), version(x)) };
  });
  mlflowRoute(app, 'POST', '/model-versions/set-tag', async (req) => {
    const x = args(req);
    await versions.setTag(req.ctx, ws(req), name(x), version(x), W.str(x.key, 'key') ?? '', W.str(x.value, 'value') as string);
    return {};
  });
  mlflowRoute(app, 'DELETE', '/model-versions/delete-tag', async (req) => {
    const x = args(req);
    await versions.deleteTag(req.ctx, ws(req), name(x), version(x), W.str(x.key, 'key') ?? '');
    return {};
  });

  // MLflow 3 logged models
  const modelId = (req: FastifyRequest) => (req.params as { model_id: string }).model_id;
  mlflowRoute(app, 'POST', '/logged-models', async (req) => {
    const x = args(req);
    const m = await loggedModels.create(req.ctx, ws(req), {
      experimentId: W.str(x.experiment_id, 'experiment_id'),
      name: W.str(x.name, 'name'),
      modelType: W.str(x.model_type, 'model_type'),
      sourceRunId: W.str(x.source_run_id, 'source_run_id'),
      params: W.keyValues(x.params, 'params'),
      tags: W.keyValues(x.tags, 'tags'),
    });
    return { model: W.loggedModelJson(m) };
  });
  mlflowRoute(app, 'POST', '/logged-models/search', async (req) => {
    const x = args(req);
    const page = await loggedModels.search(req.ctx, ws(req), {
      experimentIds: W.strings(x.experiment_ids, 'experiment_ids'),
      filter: W.str(x.filter, 'filter'),
      maxResults: W.int(x.max_results, 'max_results'),
      pageToken: W.str(x.page_token, 'page_token'),
    });
    return W.withToken(page.items.length ? { models: page.items.map(W.loggedModelJson) } : {}, page.nextPageToken);
  });
  mlflowRoute(app, 'GET', '/logged-models/:model_id', async (req) => ({ model: W.loggedModelJson(await loggedModels.get(req.ctx, ws(req), modelId(req))) }));
  mlflowRoute(app, 'PATCH', '/logged-models/:model_id', async (req) => ({
    model: W.loggedModelJson(await loggedModels.finalize(req.ctx, ws(req), modelId(req), W.str(args(req).status, 'status'))),
  }));
  mlflowRoute(app, 'DELETE', '/logged-models/:model_id', async (req) => {
    await loggedModels.delete(req.ctx, ws(req), modelId(req));
    return {};
  });
  mlflowRoute(app, 'PATCH', '/logged-models/:model_id/tags', async (req) => {
    await loggedModels.setTags(req.ctx, ws(req), modelId(req), W.keyValues(args(req).tags, 'tags'));
    return {};
  });
  mlflowRoute(app, 'DELETE', '/logged-models/:model_id/tags/:tag_key', async (req) => {
    await loggedModels.deleteTag(req.ctx, ws(req), modelId(req), (req.params as { tag_key: string }).tag_key);
    return {};
  });
  mlflowRoute(app, 'POST', '/runs/outputs', async (req) => {
    const x = args(req);
    await loggedModels.logOutputs(req.ctx, ws(req), W.str(x.run_id, 'run_id') ?? '', W.outputsOf(x.models));
    return {};
  });
}
