import assert from 'node:assert/strict';
import type { TestApp } from '../helpers/app.js';

/** Small MLflow-client-shaped calls the registry tests share. */
export function mlflow(t: TestApp, prefix = '') {
  const api = `${prefix}/api/2.0/mlflow`;
  const art = `${prefix}/api/2.0/mlflow-artifacts/artifacts`;
  return {
    api,
    art,
    async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: Record<string, unknown>, token?: string) {
      if (method === 'GET') {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(payload ?? {})) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, String(x));
        return t.call({ method, url: `${api}/${path}${qs.size ? `?${qs}` : ''}`, token });
      }
      return t.call({ method, url: `${api}/${path}`, payload: payload ?? {}, token });
    },
    async ok(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: Record<string, unknown>) {
      const r = await this.call(method, path, payload);
      assert.equal(r.statusCode, 200, `${method} ${path}: ${r.body}`);
      return r.json();
    },
    async experiment(name: string): Promise<string> {
      return (await this.ok('POST', 'experiments/create', { name })).experiment_id as string;
    },
    async run(experimentId: string): Promise<{ runId: string; artifactUri: string }> {
      const r = await this.ok('POST', 'runs/create', { experiment_id: experimentId, start_time: Date.now() });
      return { runId: r.run.info.run_id, artifactUri: r.run.info.artifact_uri };
    },
    /** PUT raw bytes through the proxy, as http_artifact_repo does. */
    async upload(path: string, bytes: Buffer | string, contentType = 'application/octet-stream') {
      const r = await t.call({ method: 'PUT', url: `${art}/${path}`, payload: bytes, headers: { 'content-type': contentType } });
      assert.equal(r.statusCode, 200, `PUT ${path}: ${r.body}`);
      return r;
    },
  };
}

/** The proxy path inside an `mlflow-artifacts:` URI. */
export const proxyPath = (uri: string) => uri.replace(/^mlflow-artifacts:\/+/, '');
