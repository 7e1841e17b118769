import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../cli/client.js';
import type { Traffic } from './traffic.js';

/**
 * Every resource the demo makes carries one short random suffix, so a second
 * run (or two at once) on the same platform never collides with the first;
 * endpoint names are unique server-wide, so reuse could not be idempotent
 * across workspaces anyway.
 */
export interface DemoNames {
  suffix: string;
  dataset: string;
  model: string;
  pipeline: string;
  endpoint: string;
  rollout: string;
  monitor: string;
  rule: string;
}

export function demoNames(suffix = randomBytes(2).toString('hex')): DemoNames {
  const base = `iris-${suffix}`;
  return { suffix, dataset: base, model: base, pipeline: `${base}-train`, endpoint: base, rollout: `${base}-green`, monitor: `${base}-drift`, rule: `${base}-drift` };
}

export interface PipelineRunView {
  id: number;
  pipeline: string;
  state: string;
  startedBy: string;
  error: string;
  createdAt: number;
  finishedAt: number | null;
  steps?: Array<{ name: string; state: string; outputs: Record<string, unknown>; error: string }>;
}

/** What each stage produced, for the next stages and the closing table. */
export interface DemoResults {
  dataset?: { uri: string; rows: number; sha256: string };
  runs: Array<{ run: PipelineRunView; version?: number; alias?: string; accuracy?: number }>;
  endpoint?: { name: string; traffic: Record<string, number> };
  rollout?: { name: string; state: string; reason: string };
  monitor?: { name: string; runId: number; alerting: boolean; drifted: string[] };
  alert?: { id: string; state: string; runbook: string } | { skipped: string };
  retrain?: PipelineRunView;
}

export interface DemoContext {
  api: ApiClient;
  /** The platform's base URL, for inference calls. */
  url: string;
  ws: string;
  names: DemoNames;
  results: DemoResults;
  /** The live detail line of the current stage. */
  say(detail: string): void;
  traffic?: Traffic;
}

export const wsPath = (ctx: DemoContext) => `/api/v1/workspaces/${encodeURIComponent(ctx.ws)}`;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it answers a value, or fails naming what it waited for. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, deadlineMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${Math.round(deadlineMs / 1000)}s`);
    await pause(everyMs);
  }
}
