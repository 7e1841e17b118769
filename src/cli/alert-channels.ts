import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface Attempt {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string;
  durationMs: number;
  retryInMs: number | null;
}
interface Delivery extends Record<string, unknown> {
  id: number;
  channel: string;
  alert: number | null;
  test: boolean;
  status: string;
  repeat: boolean;
  state: string;
  error: string;
  createdAt: string;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const channels = (ws: string) => `/api/v1/workspaces/${enc(ws)}/alert-channels`;

const outcome = (a: Attempt | undefined) => (!a ? '' : `${a.statusCode ?? a.error} in ${a.durationMs} ms`);

/**
 * `slipway alert channel ls|show|test|delete` and `slipway alert deliveries`.
 * Added to the `alert` command group when one is registered already (alert
 * rules and alerts, src/cli/alerts.ts), else the group is created here; so
 * this is registered after every other group in main.ts.
 */
export function registerAlertChannelCommands(program: Command) {
  const alert = program.commands.find((c) => c.name() === 'alert') ?? program.command('alert').description('alerts, alert rules, channels and the delivery log');
  const channel = alert.command('channel').description('notification channels: webhook (signed JSON), slack, alertmanager; created with slipway apply (kind: AlertChannel)');
  channel
    .command('ls')
    .description('the alert channels of a workspace (secrets are never shown)')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ channels: Array<Record<string, unknown>> }>(channels(o.workspace));
      printRows(fmt(cmd), r.channels.map((c) => ({ name: c.name, type: c.type, url: c.url, secret: c.secretSet ? 'set' : '', updated: c.updatedAt })), ['name', 'type', 'url', 'secret', 'updated'], r);
    });
  channel
    .command('show <name>')
    .description('one alert channel')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }, cmd: Command) => {
      printObject(fmt(cmd), await ApiClient.fromEnv().get<Record<string, unknown>>(`${channels(o.workspace)}/${enc(name)}`));
    });
  channel
    .command('test <name>')
    .description('send a test notification now; exits 1 when the receiver did not accept it')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }, cmd: Command) => {
      const d = await ApiClient.fromEnv().post<Delivery>(`${channels(o.workspace)}/${enc(name)}/test`);
      if (fmt(cmd) === 'json') printObject('json', d);
      else process.stdout.write(`${d.state === 'delivered' ? 'delivered' : 'FAILED'}: test notification ${d.id} to ${name}: ${outcome(d.attempts[0])}${d.error ? ` (${d.error})` : ''}\n`);
      if (d.state !== 'delivered') throw new CliError(`channel ${name} did not accept the test notification`);
    });
  channel
    .command('delete <name>')
    .description('delete an alert channel; its pending deliveries fail')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().delete(`${channels(o.workspace)}/${enc(name)}`);
      process.stdout.write(`deleted alert channel ${name}\n`);
    });
  alert
    .command('deliveries')
    .description('the delivery log, newest first: each notification sent to a channel and its attempts')
    .option(...wsOption)
    .option('--alert <id>', 'only the deliveries of this alert')
    .option('--channel <name>', 'only the deliveries to this channel')
    .option('--limit <n>', 'at most this many', '50')
    .option('--attempts', 'one row per attempt instead of per delivery')
    .action(async (o: { workspace: string; alert?: string; channel?: string; limit: string; attempts?: boolean }, cmd: Command) => {
      const q = new URLSearchParams({ limit: o.limit, ...(o.alert ? { alert: o.alert } : {}), ...(o.channel ? { channel: o.channel } : {}) });
      const r = await ApiClient.fromEnv().get<{ deliveries: Delivery[] }>(`/api/v1/workspaces/${enc(o.workspace)}/alert-deliveries?${q}`);
      if (o.attempts) {
        const rows = r.deliveries.flatMap((d) => d.attempts.map((a) => ({ delivery: d.id, channel: d.channel, attempt: a.attempt, at: a.at, status: a.statusCode ?? '', error: a.error, ms: a.durationMs, 'retry in': a.retryInMs === null ? '' : `${a.retryInMs} ms` })));
        return printRows(fmt(cmd), rows, ['delivery', 'channel', 'attempt', 'at', 'status', 'error', 'ms', 'retry in'], r);
      }
      const rows = r.deliveries.map((d) => ({
        id: d.id,
        channel: d.channel,
        alert: d.test ? 'test' : (d.alert ?? ''),
        event: `${d.status}${d.repeat ? ' (repeat)' : ''}`,
        state: d.state,
        attempts: d.attempts.length,
        last: outcome(d.attempts.at(-1)),
        error: d.error,
        created: d.createdAt,
      }));
      printRows(fmt(cmd), rows, ['id', 'channel', 'alert', 'event', 'state', 'attempts', 'last', 'error', 'created'], r);
    });
}
