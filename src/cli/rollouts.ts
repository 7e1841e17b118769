import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface GateReading {
  gate: string;
  ok: boolean;
  text: string;
}
interface Side {
  requests: number;
  errorRate: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}
interface StepView {
  index: number;
  description: string;
  status: 'done' | 'current' | 'pending';
  gates?: Record<string, number>;
}
interface Rollout extends Record<string, unknown> {
  name: string;
  endpoint: string;
  candidate: string;
  stable: string | null;
  state: string;
  step: number;
  steps: StepView[];
  stepElapsedMs: number | null;
  stepStartedAt: number | null;
  reason: string;
  retireAt: number | null;
  readings: { candidate: Side; stable: Side; compared: number; agreement: number | null; meanAbsDiff: number | null; gates: GateReading[] } | null;
  events: Array<{ at: number; kind: string; message: string }>;
}

const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;
const base = (ws: string) => `/api/v1/workspaces/${enc(ws)}/rollouts`;

/** Gate flags, shared by every step that names none of its own. */
const GATE_FLAGS: Array<[flag: string, key: string, what: string]> = [
  ['--max-error-rate <fraction>', 'maxErrorRate', "candidate's 5xx rate may not exceed it, such as 0.05"],
  ['--error-rate-tolerance <fraction>', 'errorRateTolerance', "candidate's 5xx rate may exceed the stable's by this fraction"],
  ['--max-p95 <ms>', 'maxP95Ms', 'p95 latency limit of the candidate'],
  ['--max-p99 <ms>', 'maxP99Ms', 'p99 latency limit of the candidate'],
  ['--latency-tolerance <fraction>', 'latencyTolerance', "candidate's p95/p99 may exceed the stable's by this fraction, such as 0.2"],
  ['--min-agreement <fraction>', 'minAgreement', 'shadow steps: share of mirrored outputs equal to the live ones'],
  ['--max-mean-abs-diff <number>', 'maxMeanAbsDiff', 'shadow steps: mean absolute difference of mirrored outputs'],
];
const optionKey = (flag: string) => flag.slice(2, flag.indexOf(' ')).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function gatesFrom(o: Record<string, unknown>): Record<string, number> | undefined {
  const gates: Record<string, number> = {};
  for (const [flag, key] of GATE_FLAGS) {
    const v = o[optionKey(flag)];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new CliError(`${flag.split(' ')[0]}: expected a number, got '${String(v)}'`);
    gates[key] = n;
  }
  return Object.keys(gates).length ? gates : undefined;
}

const fixed = (v: number | null, d = 3) => (v === null ? '-' : String(Math.round(v * 10 ** d) / 10 ** d));

/** The steps as a table: the current one marked, its gate readings beside it. */
function printStatus(r: Rollout) {
  const elapsed = r.stepStartedAt === null ? ` (waiting for ${r.candidate} to be Ready)` : ` (${Math.round((r.stepElapsedMs ?? 0) / 1000)}s in step)`;
  printObject('table', {
    rollout: r.name,
    endpoint: r.endpoint,
    change: `${r.stable ?? '(stable at start)'} → ${r.candidate}`,
    state: `${r.state}${r.state === 'running' || r.state === 'paused' ? elapsed : ''}`,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.retireAt ? { retires: `${r.stable} at ${new Date(r.retireAt).toISOString()}` } : {}),
  });
  const current = r.readings?.gates ?? [];
  const rows = r.steps.map((s) => ({
    '': s.status === 'current' ? '▶' : s.status === 'done' ? '✓' : '',
    step: s.index + 1,
    plan: s.description,
    gates: Object.entries(s.gates ?? {}).map(([k, v]) => `${k}=${v}`).join(' '),
    readings: s.status === 'current' ? current.map((g) => `${g.ok ? 'ok' : 'FAIL'} ${g.text}`).join('; ') : '',
  }));
  rows.push({ '': r.state === 'succeeded' ? '✓' : '', step: r.steps.length + 1, plan: `promote ${r.candidate} to 100%`, gates: '', readings: '' });
  printRows('table', rows, ['', 'step', 'plan', 'gates', 'readings']);
  const w = r.readings;
  if (w && (r.state === 'running' || r.state === 'paused' || r.state === 'rolled_back')) {
    const side = (name: string, s: Side) => ({ deployment: name, requests: s.requests, errorRate: fixed(s.errorRate, 4), p95Ms: fixed(s.p95Ms), p99Ms: fixed(s.p99Ms) });
    printRows('table', [side(r.candidate, w.candidate), side(r.stable ?? '', w.stable)]);
    if (w.compared) process.stdout.write(`mirrored and compared: ${w.compared}, agreement ${fixed(w.agreement, 4)}, mean abs diff ${fixed(w.meanAbsDiff, 6)}\n`);
  }
}

/** `slipway rollout start|status|pause|resume|promote|abort|delete`. */
export function registerRolloutCommands(program: Command) {
  const rollout = program.command('rollout').description('safe rollouts: shadow and canary steps with gates, automatic rollback');

  const start = rollout
    .command('start <name>')
    .description('create and start a rollout (with --endpoint, --candidate and --plan), or start a pending one')
    .option(...wsOption)
    .option('--endpoint <endpoint>', 'the endpoint to change')
    .option('--candidate <deployment>', 'the deployment rolled out')
    .option('--stable <deployment>', 'the deployment replaced (default: the one taking 100% of traffic)')
    .option('--plan <steps>', "steps such as 'shadow 20% 10m, canary 10% 5m, 50% 5m'")
    .option('--retire-stable', 'delete the stable deployment after promotion and the drain')
    .option('--drain <duration>', 'wait before retiring the stable (default 30s)');
  for (const [flag, , what] of GATE_FLAGS) start.option(flag, what);
  start.action(async (name: string, o: Record<string, string | boolean | undefined> & { workspace: string }, cmd: Command) => {
    const api = ApiClient.fromEnv();
    let r: Rollout;
    if (o.endpoint === undefined) {
      if (o.candidate !== undefined || o.plan !== undefined) throw new CliError('--endpoint is needed to create a rollout (without it, start resumes a pending one by name)');
      r = await api.post<Rollout>(`${base(o.workspace)}/${enc(name)}/start`, {});
    } else {
      if (o.candidate === undefined || o.plan === undefined) throw new CliError('creating a rollout needs --candidate and --plan');
      const body = { name, endpoint: o.endpoint, candidate: o.candidate, stable: o.stable, plan: o.plan, gates: gatesFrom(o), retireStable: o.retireStable === true ? true : undefined, drain: o.drain };
      r = await api.post<Rollout>(base(o.workspace), body);
    }
    if (fmt(cmd) === 'json') return printObject('json', r);
    printStatus(r);
  });

  rollout
    .command('status [name]')
    .description('a rollout: steps with the current one marked, gate readings, events (--events); without a name, all rollouts')
    .option(...wsOption)
    .option('--events', 'also print the events')
    .action(async (name: string | undefined, o: { workspace: string; events?: boolean }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      if (name === undefined) {
        const r = await api.get<{ rollouts: Rollout[] }>(base(o.workspace));
        const rows = r.rollouts.map((x) => ({ name: x.name, endpoint: x.endpoint, change: `${x.stable ?? '?'} → ${x.candidate}`, state: x.state, step: `${Math.min(x.step + 1, x.steps.length + 1)}/${x.steps.length + 1}`, reason: x.reason }));
        return printRows(fmt(cmd), rows, ['name', 'endpoint', 'change', 'state', 'step', 'reason'], r);
      }
      const r = await api.get<Rollout>(`${base(o.workspace)}/${enc(name)}`);
      if (fmt(cmd) === 'json') return printObject('json', r);
      printStatus(r);
      if (o.events) printRows('table', r.events.map((e) => ({ at: new Date(e.at).toISOString(), event: e.kind, message: e.message })));
    });

  const actions: Array<[string, string]> = [
    ['pause', 'hold the current step (time paused does not count)'],
    ['resume', 'continue a paused rollout'],
    ['promote', 'send all traffic to the candidate now, skipping the remaining steps'],
    ['abort', 'send all traffic back to the stable and stop'],
  ];
  for (const [action, what] of actions) {
    rollout
      .command(`${action} <name>`)
      .description(what)
      .option(...wsOption)
      .option('--reason <text>', 'why (kept in the rollout and the endpoint history)')
      .action(async (name: string, o: { workspace: string; reason?: string }, cmd: Command) => {
        const r = await ApiClient.fromEnv().post<Rollout>(`${base(o.workspace)}/${enc(name)}/${action}`, o.reason ? { reason: o.reason } : {});
        if (fmt(cmd) === 'json') return printObject('json', r);
        printStatus(r);
      });
  }

  rollout
    .command('delete <name>')
    .description('delete a rollout that is not running or paused')
    .option(...wsOption)
    .action(async (name: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().delete(`${base(o.workspace)}/${enc(name)}`);
      process.stdout.write(`deleted rollout ${name}\n`);
    });
}
