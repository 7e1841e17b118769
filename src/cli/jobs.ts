import type { Command } from 'commander';
import { stringify } from 'yaml';
import { readDocuments } from './apply.js';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

interface LogLine {
  id: number;
  attempt: number;
  at: number;
  stream: string;
  line: string;
}
interface LogPage {
  lines: LogLine[];
  next: number | null;
  state: string;
  exitCode: number | null;
}
interface Job extends Record<string, unknown> {
  id: number;
  name: string;
  state: string;
  attempt: number;
  exitCode: number | null;
  error: string;
  command: string[];
  usage: { cpuSeconds: number; wallMs: number; peakRssBytes: number; cost: number };
}

const FINAL = ['succeeded', 'failed', 'cancelled'];
const FOLLOW_MS = 500;
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

const jobsPath = (ws: string) => `/api/v1/workspaces/${enc(ws)}/jobs`;

function collect(value: string, prev: string[] = []) {
  return [...prev, value];
}

/** `K=V` pairs into a map; a pair without '=' is refused naming the option. */
function pairs(list: string[] | undefined, option: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliError(`${option}: expected NAME=VALUE, got '${p}'`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

interface RunOpts {
  workspace: string;
  name?: string;
  timeout?: string;
  retries?: string;
  priority?: string;
  resources?: string;
  experiment?: string;
  image?: string;
  env?: string[];
  input?: string[];
  wait?: boolean;
  file?: string;
  target?: string;
}

function intOption(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new CliError(`${option}: expected a whole number, got '${text}'`);
  return n;
}

/** The job body from flags and the command after `--`. */
function jobBody(cmd: string[], o: RunOpts): Record<string, unknown> {
  if (!cmd.length) throw new CliError('give the command after --, such as: slipway job run -- python train.py');
  const body: Record<string, unknown> = {
    command: cmd,
    name: o.name,
    timeout: o.timeout,
    retries: intOption(o.retries, '--retries'),
    priority: intOption(o.priority, '--priority'),
    resources: o.resources,
    experiment: o.experiment,
    image: o.image,
    env: pairs(o.env, '--env'),
    inputs: pairs(o.input, '--input'),
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

/**
 * A status line on stderr while waiting: a spinner redrawn in place on a
 * terminal, one line per change of state otherwise (logs stay readable).
 */
class Status {
  private text = '';
  private frame = 0;
  private drawn = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly since = Date.now();

  constructor() {
    if (this.tty) this.timer = setInterval(() => this.draw(), 100);
  }

  set(text: string) {
    if (text === this.text) return;
    this.text = text;
    if (!this.tty) process.stderr.write(`${text}\n`);
  }

  private draw() {
    const secs = Math.floor((Date.now() - this.since) / 1000);
    process.stderr.write(`\r\x1b[2K${SPINNER[this.frame++ % SPINNER.length]} ${this.text} (${secs}s)`);
    this.drawn = true;
  }

  /** Clears the line before other output. */
  clear() {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }

  stop() {
    clearInterval(this.timer);
    this.clear();
  }
}

function printLine(l: LogLine, json: boolean) {
  if (json) return void process.stdout.write(`${JSON.stringify(l)}\n`);
  if (l.stream === 'stdout') process.stdout.write(`${l.line}\n`);
  else if (l.stream === 'stderr') process.stderr.write(`${l.line}\n`);
  else process.stderr.write(`[slipway] ${l.line}\n`);
}

/** Prints a job's lines from the start and, when following, until it reaches a final state; answers the last page. */
async function followLogs(client: ApiClient, ws: string, id: number, follow: boolean, json: boolean, status?: Status): Promise<LogPage> {
  let after = 0;
  for (;;) {
    const page = await client.get<LogPage>(`${jobsPath(ws)}/${id}/logs?after=${after}&limit=1000`);
    status?.clear();
    for (const l of page.lines) printLine(l, json);
    after = page.next ?? after;
    if (page.lines.length === 1000) continue;
    if (!follow || FINAL.includes(page.state)) return page;
    status?.set(`job ${id} ${page.state}`);
    await new Promise((r) => setTimeout(r, FOLLOW_MS));
  }
}

function usageText(u: Job['usage']): string {
  return `${u.cpuSeconds.toFixed(2)} CPU-s, ${(u.wallMs / 1000).toFixed(2)} s wall, ${(u.peakRssBytes / 1_048_576).toFixed(1)} MiB peak, cost ${u.cost}`;
}

export function registerJobCommands(program: Command) {
  const job = program.command('job').description('run commands as jobs on the workers: logs, retries, timeouts, cancellation, compute accounting');
  const common = (c: Command) =>
    c
      .option('-w, --workspace <workspace>', 'workspace', 'default')
      .option('--name <name>', 'a label for the job (default: the program name)')
      .option('--timeout <duration>', 'kill the job after this long (90s, 10m, 2h)')
      .option('--retries <n>', 'attempts after a failure, with exponential backoff')
      .option('--priority <n>', 'higher runs first (-100..100, default 0)')
      .option('--resources <class>', 'resource class: small, medium, large (prices from SLIPWAY_PRICES)')
      .option('--experiment <name>', "experiment of the job's tracking run (default 'jobs')")
      .option('--image <image>', 'container image when rendered for Kubernetes')
      .option('-e, --env <NAME=VALUE>', 'an environment variable (repeatable)', collect)
      .option('-i, --input <NAME=URI>', 'an input: datasets:/NAME/VERSION or models:/NAME/VERSION; its path is in SLIPWAY_INPUT_<NAME> (repeatable)', collect);

  common(job.command('run').description('submit a job and print its id; with --wait, stream its logs and exit with its exit code'))
    .argument('<command...>', 'the program and its arguments, after --')
    .option('--wait', 'stream the logs until the job ends; exit with its exit code')
    .action(async (cmd: string[], o: RunOpts, c: Command) => {
      const client = ApiClient.fromEnv();
      const created = await client.post<Job>(jobsPath(o.workspace), jobBody(cmd, o));
      process.stdout.write(`${created.id}\n`);
      if (!o.wait) return;
      const status = new Status();
      status.set(`job ${created.id} queued`);
      let last: LogPage;
      try {
        last = await followLogs(client, o.workspace, created.id, true, fmt(c) === 'json', status);
      } finally {
        status.stop();
      }
      const done = await client.get<Job>(`${jobsPath(o.workspace)}/${created.id}`);
      process.stderr.write(`[slipway] job ${done.id} ${done.state}${done.error ? `: ${done.error}` : ''} (${usageText(done.usage)})\n`);
      process.exit(last.exitCode ?? (done.state === 'succeeded' ? 0 : 1));
    });

  job
    .command('ls')
    .description('jobs of a workspace, newest first')
    .option('-w, --workspace <workspace>', 'workspace', 'default')
    .option('--state <state>', 'only jobs in this state (queued, running, succeeded, failed, cancelled)')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { workspace: string; state?: string; limit: string }, c: Command) => {
      const q = new URLSearchParams({ limit: o.limit, ...(o.state ? { state: o.state } : {}) });
      const r = await ApiClient.fromEnv().get<{ jobs: Job[] }>(`${jobsPath(o.workspace)}?${q}`);
      const rows = r.jobs.map((j) => ({ id: j.id, name: j.name, state: j.state, attempt: j.attempt, exit: j.exitCode, command: j.command.join(' ').slice(0, 60), cpu_s: j.usage.cpuSeconds.toFixed(2), cost: j.usage.cost }));
      printRows(fmt(c), rows, undefined, r);
    });

  job
    .command('show <id>')
    .description('a job: state, attempts, exit code, run, usage and cost')
    .option('-w, --workspace <workspace>', 'workspace', 'default')
    .action(async (id: string, o: { workspace: string }, c: Command) => {
      const j = await ApiClient.fromEnv().get<Job & { attempts: Array<Record<string, unknown>> }>(`${jobsPath(o.workspace)}/${enc(id)}`);
      if (fmt(c) === 'json') return printObject('json', j);
      const { attempts, usage, ...rest } = j;
      printObject('table', { ...rest, usage: usageText(usage) });
      printRows('table', attempts.map((a) => ({ attempt: a.attempt, outcome: a.outcome, exit: a.exitCode, worker: a.worker, wall_s: (Number(a.wallMs) / 1000).toFixed(2), cpu_s: Number(a.cpuSeconds).toFixed(2), error: a.error })));
    });

  job
    .command('logs <id>')
    .description("a job's stdout/stderr and the worker's notes; -f follows until it ends")
    .option('-w, --workspace <workspace>', 'workspace', 'default')
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .action(async (id: string, o: { workspace: string; follow?: boolean }, c: Command) => {
      const n = intOption(id, 'id')!;
      await followLogs(ApiClient.fromEnv(), o.workspace, n, Boolean(o.follow), fmt(c) === 'json');
    });

  for (const [name, what] of [
    ['cancel', 'cancel a job: a queued one at once, a running one has its process group terminated'],
    ['retry', 'queue a failed or cancelled job again'],
  ] as const) {
    job
      .command(`${name} <id>`)
      .description(what)
      .option('-w, --workspace <workspace>', 'workspace', 'default')
      .action(async (id: string, o: { workspace: string }, c: Command) => {
        const j = await ApiClient.fromEnv().post<Job>(`${jobsPath(o.workspace)}/${enc(id)}/${name}`);
        if (fmt(c) === 'json') return printObject('json', j);
        process.stdout.write(`job ${j.id} ${j.state}${j.state === 'running' ? ' (cancel requested)' : ''}\n`);
      });
  }

  common(job.command('render').description('print the Kubernetes batch/v1 Job a cluster would run for a job (from -f FILE, a kind: Job document, or the command after --)'))
    .argument('[command...]', 'the program and its arguments, after --')
    .option('--target <target>', 'what to render for', 'kubernetes')
    .option('-f, --file <file>', 'a YAML file with a kind: Job document (- for stdin)')
    .action(async (cmd: string[], o: RunOpts, c: Command) => {
      if (o.target !== 'kubernetes') throw new CliError(`--target: only 'kubernetes' is supported, got '${o.target}'`);
      let body: Record<string, unknown>;
      let ws = o.workspace;
      if (o.file) {
        const docs = readDocuments(o.file) as Array<Record<string, unknown>>;
        if (docs.length !== 1 || docs[0].kind !== 'Job') throw new CliError(`${o.file}: expected one document of kind: Job`);
        body = docs[0];
        if (typeof body.workspace === 'string') ws = body.workspace;
      } else body = jobBody(cmd, o);
      const manifest = await ApiClient.fromEnv().post<Record<string, unknown>>(`${jobsPath(ws)}/render?target=kubernetes`, body);
      process.stdout.write(fmt(c) === 'json' ? `${JSON.stringify(manifest, null, 2)}\n` : stringify(manifest));
    });
}
