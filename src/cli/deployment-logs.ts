import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt } from './output.js';

interface LogLine {
  id: number;
  at: number;
  stream: string;
  line: string;
}

const FOLLOW_EVERY_MS = 1_000;
const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration ago (30s, 10m, 2h, 1d), else passed on as an ISO 8601 time or epoch ms. */
export function sinceParam(text: string, now = Date.now()): string {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) return String(now - Number(m[1]) * UNITS[m[2]]);
  if (/^\d+$/.test(text) || Number.isFinite(Date.parse(text))) return text;
  throw new CliError(`--since: expected a duration such as 10m or 2h, or a time such as 2026-01-31T12:00:00Z, got '${text}'`);
}

const show = (l: LogLine) => `${new Date(l.at).toISOString()} ${l.stream.padEnd(6)} ${l.line}\n`;

/** `slipway deployment logs NAME --endpoint E [-f]`: runtime events and model-server output, as the gateway recorded them. */
export function registerDeploymentLogsCommand(deployment: Command) {
  deployment
    .command('logs <name>')
    .description("a deployment's runtime events (loading, ready, failed, restarts, with timings) and its model server's stdout/stderr")
    .requiredOption('-e, --endpoint <endpoint>', 'the endpoint the deployment belongs to')
    .option('-w, --workspace <workspace>', 'workspace', 'default')
    .option('--since <time>', 'only lines since a duration ago (10m, 2h) or a time (ISO 8601)')
    .option('-n, --tail <lines>', 'how many of the newest lines to show (at most 1000)', '200')
    .option('-f, --follow', 'keep printing new lines as they arrive (Ctrl-C to stop)')
    .action(async (name: string, o: { endpoint: string; workspace: string; since?: string; tail: string; follow?: boolean }, cmd: Command) => {
      const tail = Number(o.tail);
      if (!Number.isInteger(tail) || tail < 1 || tail > 1000) throw new CliError(`--tail: expected a whole number from 1 to 1000, got '${o.tail}'`);
      const path = `/api/v1/workspaces/${enc(o.workspace)}/endpoints/${enc(o.endpoint)}/deployments/${enc(name)}/logs`;
      const since = o.since === undefined ? undefined : sinceParam(o.since);
      const query = new URLSearchParams({ limit: String(tail), ...(since ? { since } : {}) });
      const client = ApiClient.fromEnv();
      let r = await client.get<{ lines: LogLine[]; next: number | null }>(`${path}?${query}`);
      if (fmt(cmd) === 'json' && !o.follow) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const print = (lines: LogLine[]) => lines.forEach((l) => process.stdout.write(fmt(cmd) === 'json' ? `${JSON.stringify(l)}\n` : show(l)));
      print(r.lines);
      while (o.follow) {
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
        // `since` still applies when nothing was shown yet (the cursor is then 0).
        const next = new URLSearchParams({ limit: '1000', after: String(r.next ?? 0), ...(since ? { since } : {}) });
        r = await client.get<{ lines: LogLine[]; next: number | null }>(`${path}?${next}`);
        print(r.lines);
      }
    });
}
