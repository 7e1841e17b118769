import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { bootstrap, createPlatform, type Platform } from '../../src/platform.js';
import { buildApp } from '../../src/server/app.js';
import { runCli, type CliResult } from './process.js';
import { testStore, type DriverName, type TestStore } from './stores.js';

/** A whole platform with its HTTP app, for `app.inject()` tests. */
export interface TestApp {
  app: FastifyInstance;
  platform: Platform;
  store: TestStore;
  adminToken: string;
  dataDir: string;
  /** inject with a bearer token (the admin's unless given). */
  call(opts: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startTestApp(driver: DriverName, env: Record<string, string> = {}): Promise<TestApp> {
  const store = await testStore(driver);
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-data-'));
  const config = loadConfig({ dataDir, port: 0 }, { SLIPWAY_LOG_LEVEL: 'silent', ...env });
  config.store = store.target;
  const platform = await createPlatform(config);
  await bootstrap(platform);
  const adminToken = env.SLIPWAY_ADMIN_TOKEN ?? readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const app = await buildApp(platform, { role: 'all', logLevel: 'silent' });
  await app.ready();
  return {
    app,
    platform,
    store,
    adminToken,
    dataDir,
    call: ({ token, ...opts }) => {
      const t = token === undefined ? adminToken : token;
      const headers = { ...(opts.headers ?? {}), ...(t ? { authorization: `Bearer ${t}` } : {}) };
      return app.inject({ ...opts, headers });
    },
    close: async () => {
      await app.close();
      await platform.close();
      await store.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A TestApp listening on loopback, with the built CLI pointed at it from a home directory of its own. */
export interface CliTestApp extends TestApp {
  url: string;
  home: string;
  /** Runs `slipway ARGS…` as the admin (or with `token`). */
  cli(args: string[], opts?: { token?: string; env?: Record<string, string> }): Promise<CliResult>;
}

export async function startCliTestApp(driver: DriverName, env: Record<string, string> = {}): Promise<CliTestApp> {
  const t = await startTestApp(driver, env);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  const home = mkdtempSync(join(tmpdir(), 'slipway-cli-home-'));
  return {
    ...t,
    url,
    home,
    cli: (args, opts = {}) => runCli(args, { HOME: home, SLIPWAY_CONFIG: join(home, 'config.json'), SLIPWAY_URL: url, SLIPWAY_TOKEN: opts.token ?? t.adminToken, ...opts.env }),
    close: async () => {
      await t.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Creates a principal and returns a token for it. */
export async function principalWithToken(t: TestApp, name: string, kind: 'user' | 'service' = 'user'): Promise<string> {
  const c = await t.call({ method: 'POST', url: '/api/v1/users', payload: { name, kind } });
  if (c.statusCode !== 201) throw new Error(`create ${name}: ${c.statusCode} ${c.body}`);
  const r = await t.call({ method: 'POST', url: `/api/v1/users/${name}/tokens`, payload: {} });
  if (r.statusCode !== 201) throw new Error(`token ${name}: ${r.statusCode} ${r.body}`);
  return r.json().token as string;
}
