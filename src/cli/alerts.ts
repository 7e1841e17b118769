import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface ActionRecord {
  type: string;
  at: string;
  ok: boolean;
  detail: string;
}
interface Alert extends Record<string, unknown> {
  id: number;
  rule: string;
  state: string;
  severity: string;
  labels: Record<string, string>;
  summary: string;
  pendingSince: string;
  firedAt: string | null;
  resolvedAt: string | null;
  silenced: boolean;
  actions: ActionRecord[];
  runbook?: string;
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const api = (ws: string) => `/api/v1/workspaces/${enc(ws)}`;
const collect = (v: string, prev: string[]) => [...prev, v];

/** `slipway alert ls|show|ack|resolve|silence|silences|unsilence|export` and `slipway alert rule ls|show`. */
export function registerAlertCommands(program: Command) {
  const alert = program.command('alert').description('alerts, alert rules (define them with slipway apply, kind: AlertRule), silences, channels and the delivery log');
  alert
    .command('ls')
    .description('alerts, newest first')
    .option(...wsOption)
    .option('--state <state>', 'open (not resolved) | pending | firing | acknowledged | resolved')
    .option('--rule <name>', 'only this rule\u2019s alerts')
    .action(async (o: { workspace: string; state?: string; rule?: string }, cmd: Command) => {
      const q = new URLSearchParams({ ...(o.state ? { state: o.state } : {}), ...(o.rule ? { rule: o.rule } : {}) });
      const r = await ApiClient.fromEnv().get<{ alerts: Alert[] }>(`${api(o.workspace)}/alerts${q.size ? `?${q}` : ''}`);
      const rows = r.alerts.map((a) => ({
        id: a.id,
        state: a.silenced ? `${a.state} (silenced)` : a.state,
        severity: a.severity,
        rule: a.rule,
        since: a.resolvedAt ?? a.firedAt ?? a.pendingSince,
        summary: a.summary,
        actions: a.actions.map((x) => `${x.ok ? '✓' : '✗'} ${x.type}`).join(' '),
      }));
      printRows(fmt(cmd), rows, ['id', 'state', 'severity', 'rule', 'since', 'summary', 'actions'], r);
    });
  alert
    .command('show <id>')
    .description('one alert: what crossed what, its actions and the runbook')
    .option(...wsOption)
    .action(async (id: string, o: { workspace: string }, cmd: Command) => {
      const a = await ApiClient.fromEnv().get<Alert>(`${api(o.workspace)}/alerts/${enc(id)}`);
      if (fmt(cmd) === 'json') return printObject('json', a);
      const { actions, runbook, ...rest } = a;
      printObject('table', rest);
      if (actions.length) printRows('table', actions.map((x) => ({ '': x.ok ? '✓' : '✗', action: x.type, at: x.at, detail: x.detail })));
      if (runbook) process.stdout.write(`\nRunbook:\n${runbook.trimEnd()}\n`);
    });
  alert
    .command('ack <id>')
    .description('acknowledge a firing alert: no more re-notifications; it still resolves by itself')
    .option(...wsOption)
    .option('--comment <text>', 'kept in the audit trail')
    .action(async (id: string, o: { workspace: string; comment?: string }, cmd: Command) => {
      printObject(fmt(cmd), await ApiClient.fromEnv().post<Alert>(`${api(o.workspace)}/alerts/${enc(id)}/ack`, o.comment ? { comment: o.comment } : {}));
    });
  alert
    .command('resolve <id>')
    .description('resolve an alert by hand: its channels are told; the rule opens a new alert if the condition still holds')
    .option(...wsOption)
    .option('--comment <text>', 'kept in the audit trail')
    .action(async (id: string, o: { workspace: string; comment?: string }, cmd: Command) => {
      printObject(fmt(cmd), await ApiClient.fromEnv().post<Alert>(`${api(o.workspace)}/alerts/${enc(id)}/resolve`, o.comment ? { comment: o.comment } : {}));
    });
  alert
    .command('silence')
    .description('silence matching alerts for a while: no notifications or actions, states still change')
    .option(...wsOption)
    .option('--rule <name>', 'alerts of this rule')
    .option('--label <key=value>', 'alerts with this label (repeatable)', collect, [])
    .option('--for <duration>', 'how long, such as 2h')
    .option('--until <time>', 'or until this ISO 8601 time')
    .option('--comment <text>', 'why')
    .action(async (o: { workspace: string; rule?: string; label: string[]; for?: string; until?: string; comment?: string }, cmd: Command) => {
      const matchers: Record<string, string> = o.rule ? { rule: o.rule } : {};
      for (const l of o.label) {
        const i = l.indexOf('=');
        if (i < 1) throw new CliError(`--label: expected key=value, got '${l}'`);
        matchers[l.slice(0, i)] = l.slice(i + 1);
      }
      const body = { matchers, duration: o.for, until: o.until, comment: o.comment };
      printObject(fmt(cmd), await ApiClient.fromEnv().post(`${api(o.workspace)}/silences`, body));
    });
  alert
    .command('silences')
    .description('silences in force')
    .option(...wsOption)
    .option('--all', 'expired ones too')
    .action(async (o: { workspace: string; all?: boolean }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ silences: Array<Record<string, unknown>> }>(`${api(o.workspace)}/silences${o.all ? '?all=true' : ''}`);
      const rows = r.silences.map((x) => ({ ...x, matchers: Object.entries(x.matchers as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(' ') }));
      printRows(fmt(cmd), rows, ['id', 'matchers', 'until', 'comment', 'createdBy', 'active'], r);
    });
  alert
    .command('unsilence <id>')
    .description('end a silence now')
    .option(...wsOption)
    .action(async (id: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().request('DELETE', `${api(o.workspace)}/silences/${enc(id)}`);
      process.stdout.write(`silence ${id} ended\n`);
    });
  alert
    .command('export')
    .description('Prometheus alerting rules equivalent to the endpoint-metric rules (check them with promtool check rules)')
    .option(...wsOption)
    .option('--format <format>', 'prometheus', 'prometheus')
    .option('-f, --file <path>', 'write here instead of stdout')
    .action(async (o: { workspace: string; format: string; file?: string }) => {
      if (o.format !== 'prometheus') throw new CliError(`--format: expected prometheus, got '${o.format}'`);
      const yaml = stringify(await ApiClient.fromEnv().get(`${api(o.workspace)}/alert-rules/export`), { lineWidth: 0 });
      if (o.file) writeFileSync(o.file, yaml);
      else process.stdout.write(yaml);
    });

  const rule = alert.command('rule').description('alert rules: on endpoint metrics, monitor signals and job failures');
  rule
    .command('ls')
    .description('the alert rules of a workspace')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ rules: Array<Record<string, unknown> & { source: Record<string, string>; condition?: { op: string; threshold: number } }> }>(`${api(o.workspace)}/alert-rules`);
      const source = (s: Record<string, string>) => ('endpoint' in s ? `${s.endpoint}${s.deployment ? `/${s.deployment}` : ''} ${s.metric}` : 'monitor' in s ? `monitor ${s.monitor}${s.signal ? ` ${s.signal}` : ''}` : `jobs failed${s.pipeline ? ` (${s.pipeline})` : ''}`);
      const rows = r.rules.map((x) => ({ name: x.name, source: source(x.source), condition: x.condition ? `${x.condition.op} ${x.condition.threshold}` : '', window: x.window, for: x.for ?? '0s', severity: x.severity ?? 'warning', channels: x.channels ?? [], actions: ((x.actions as Array<{ type: string }>) ?? []).map((a) => a.type) }));
      printRows(fmt(cmd), rows, ['name', 'source', 'condition', 'window', 'for', 'severity', 'channels', 'actions'], r);
    });
  rule
    .command('show <name>')
    .description('an alert rule and its open alert')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }, cmd: Command) => {
      printObject(fmt(cmd), await ApiClient.fromEnv().get(`${api(o.workspace)}/alert-rules/${enc(name)}`));
    });
}
