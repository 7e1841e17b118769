import type { TestApp } from '../helpers/app.js';

/** Calls an MLflow endpoint the way MLflow's client does: GET with a query string, others with a JSON body. */
export async function ml(t: TestApp, method: 'GET' | 'POST', path: string, args: Record<string, unknown> = {}, opts: { token?: string; prefix?: string } = {}) {
  const base = `${opts.prefix ?? ''}/api/2.0/mlflow/${path}`;
  if (method === 'GET') {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(args)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, String(x));
    const s = qs.toString();
    return t.call({ method, url: s ? `${base}?${s}` : base, token: opts.token });
  }
  return t.call({ method, url: base, payload: args, token: opts.token });
}
