import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { registerDeploymentLogsCommand } from './deployment-logs.js';
import { registerInvokeCommand } from './invoke.js';
import { fmt, printObject, printRows } from './output.js';

type Obj = Record<string, unknown>;
interface Deployment extends Obj {
  name: string;
  model: { ref: string; name: string; version: number; digest: string };
  runtime: string;
  instances: number;
  maxConcurrent: number;
  timeoutMs: number;
  state: string;
}
interface Endpoint extends Obj {
  name: string;
  auth: string;
  traffic: Record<string, number>;
  mirror: Record<string, number>;
  deployments: Deployment[];
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const endpointPath = (ws: string, name: string) => `/api/v1/workspaces/${enc(ws)}/endpoints/${enc(name)}`;
const pct = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ');
const depRow = (d: Deployment) => ({ name: d.name, model: `${d.model.name}/${d.model.version}`, ref: d.model.ref, runtime: d.runtime, instances: d.instances, maxConcurrent: d.maxConcurrent, timeoutMs: d.timeoutMs, state: d.state });

/** `NAME=PERCENT` words into a map; the server checks names and the sum. */
export function parsePercents(words: string[], what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of words) {
    const m = /^([^=]+)=(\d{1,3})$/.exec(w);
    if (!m) throw new CliError(`${what}: expected DEPLOYMENT=PERCENT such as blue=90, got '${w}'`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** `slipway endpoint ls|show|key|traffic|history|invoke` and `slipway deployment ls|show|delete`. */
export function registerEndpointCommands(program: Command) {
  const endpoint = program.command('endpoint').description('online endpoints: keys, traffic and mirror maps over deployments');

  endpoint
    .command('ls')
    .description('list the endpoints of a workspace')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ endpoints: Endpoint[] }>(`/api/v1/workspaces/${enc(o.workspace)}/endpoints`);
      const rows = r.endpoints.map((e) => ({ name: e.name, auth: e.auth, traffic: pct(e.traffic), mirror: pct(e.mirror), deployments: e.deployments.map((d) => d.name) }));
      printRows(fmt(cmd), rows, ['name', 'auth', 'traffic', 'mirror', 'deployments'], r);
    });

  endpoint
    .command('show <name>')
    .description('show an endpoint and its deployments')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }, cmd: Command) => {
      const e = await ApiClient.fromEnv().get<Endpoint>(endpointPath(o.workspace, name));
      if (fmt(cmd) === 'json') return printObject('json', e);
      const { deployments, ...rest } = e;
      printObject('table', { ...rest, traffic: pct(e.traffic), mirror: pct(e.mirror) });
      printRows('table', deployments.map(depRow));
    });

  endpoint
    .command('key <name>')
    .description('print the endpoint keys (the primary alone on the last line); --regenerate replaces one')
    .option(...wsOption)
    .option('--regenerate <which>', 'primary or secondary')
    .action(async (name: string, o: { workspace: string; regenerate?: string }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      if (o.regenerate !== undefined && o.regenerate !== 'primary' && o.regenerate !== 'secondary') throw new CliError(`--regenerate: expected primary or secondary, got '${o.regenerate}'`);
      const k = o.regenerate
        ? await api.request<{ primary: string; secondary: string }>('POST', `${endpointPath(o.workspace, name)}/keys/regenerate`, { key: o.regenerate })
        : await api.get<{ primary: string; secondary: string }>(`${endpointPath(o.workspace, name)}/keys`);
      if (fmt(cmd) === 'json') return printObject('json', k);
      process.stdout.write(`secondary: ${k.secondary}\n${k.primary}\n`);
    });

  endpoint
    .command('traffic <name> [splits...]')
    .description('set the traffic map, such as `blue=90 green=10` (sums to 100); with no splits, show it')
    .option(...wsOption)
    .option('--mirror <splits...>', 'mirror map, such as green=20 (percent of live traffic copied)')
    .option('--reason <text>', 'why (kept in the traffic history)')
    .action(async (name: string, splits: string[], o: { workspace: string; mirror?: string[]; reason?: string }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      const e = splits.length || o.mirror
        ? await api.put<Endpoint>(`${endpointPath(o.workspace, name)}/traffic`, {
            traffic: splits.length ? parsePercents(splits, 'traffic') : (await api.get<Endpoint>(endpointPath(o.workspace, name))).traffic,
            ...(o.mirror ? { mirror: parsePercents(o.mirror, 'mirror') } : {}),
            ...(o.reason ? { reason: o.reason } : {}),
          })
        : await api.get<Endpoint>(endpointPath(o.workspace, name));
      if (fmt(cmd) === 'json') return printObject('json', { traffic: e.traffic, mirror: e.mirror });
      process.stdout.write(`traffic: ${pct(e.traffic) || '(none)'}\nmirror: ${pct(e.mirror) || '(none)'}\n`);
    });

  endpoint
    .command('history <name>')
    .description('traffic and mirror changes, newest first, with who and why')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ history: Array<Obj & { at: number; traffic: Record<string, number>; mirror: Record<string, number> }> }>(`${endpointPath(o.workspace, name)}/history`);
      const rows = r.history.map((h) => ({ at: new Date(h.at).toISOString(), who: h.who, reason: h.reason, traffic: pct(h.traffic), mirror: pct(h.mirror) }));
      printRows(fmt(cmd), rows, ['at', 'who', 'reason', 'traffic', 'mirror'], r);
    });

  registerInvokeCommand(endpoint);

  const deployment = program.command('deployment').description('deployments of an endpoint: pinned model versions with their runtime settings');
  deployment
    .command('ls <endpoint>')
    .description('list the deployments of an endpoint')
    .option(...wsOption)
    .action(async (ep: string, o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ deployments: Deployment[] }>(`${endpointPath(o.workspace, ep)}/deployments`);
      printRows(fmt(cmd), r.deployments.map(depRow), undefined, r);
    });
  deployment
    .command('show <endpoint> <name>')
    .description('show a deployment')
    .option(...wsOption)
    .action(async (ep: string, name: string, o: { workspace: string }, cmd: Command) => {
      const d = await ApiClient.fromEnv().get<Deployment>(`${endpointPath(o.workspace, ep)}/deployments/${enc(name)}`);
      printObject(fmt(cmd), fmt(cmd) === 'json' ? d : { ...depRow(d), digest: d.model.digest, batching: d.batching, command: d.command, url: d.url });
    });
  deployment
    .command('delete <endpoint> <name>')
    .description('delete a deployment that takes no traffic or mirror')
    .option(...wsOption)
    .action(async (ep: string, name: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().delete(`${endpointPath(o.workspace, ep)}/deployments/${enc(name)}`);
      process.stdout.write(`deleted deployment ${ep}/${name}\n`);
    });
  registerDeploymentLogsCommand(deployment);
}
