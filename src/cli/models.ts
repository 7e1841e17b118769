import type { Command } from 'commander';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { writeTar, type TarSource } from '../registry/tar.js';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';
import { Progress } from './progress.js';

type Obj = Record<string, unknown>;
interface Version extends Obj {
  name: string;
  version: number;
  digest: string | null;
  status: string;
  aliases: string[];
  signature: { inputs: Array<{ name: string; type: string | null; shape: unknown[] }>; outputs: Array<{ name: string; type: string | null; shape: unknown[] }> } | null;
  tags?: Array<{ key: string; value: string }>;
}

/** Evaluation results the pipeline `evaluate` step stored as `slipway.metrics.*` tags, as one line. */
function metricsOf(v: Version): Record<string, string> {
  const tags = v.tags ?? [];
  const m = tags.filter((t) => t.key.startsWith('slipway.metrics.') && t.key !== 'slipway.metrics.dataset').map((t) => `${t.key.slice(16)}=${Math.round(Number(t.value) * 1e4) / 1e4}`);
  const on = tags.find((t) => t.key === 'slipway.metrics.dataset')?.value;
  return m.length ? { metrics: `${m.join(' ')}${on ? ` (on ${on})` : ''}` } : {};
}
interface FileCheck {
  path: string;
  expected: string | null;
  actual: string | null;
  status: string;
}

const modelPath = (ws: string, name: string) => `/api/v1/workspaces/${enc(ws)}/models/${enc(name)}`;
const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;

/** Regular files under `dir`, relative with `/` separators, sorted (symlinks and specials are skipped). */
function filesOf(dir: string): TarSource[] {
  const out: TarSource[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push({ path: relative(dir, full).split(sep).join('/'), size: statSync(full).size, open: () => createReadStream(full) });
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

const sig = (specs: Array<{ name: string; type: string | null; shape: unknown[] }> | undefined) =>
  (specs ?? []).map((s) => `${s.name}: ${s.type ?? '?'}[${s.shape.join(', ')}]`).join('; ');

/** `slipway model ls|show|register|alias|verify`: the model registry through the native API. */
export function registerModelCommands(program: Command) {
  const model = program.command('model').description('registered models: versions with immutable files, digests, ONNX signatures, aliases');

  model
    .command('register <name> <path>')
    .description('register PATH (an .onnx file or an MLflow model directory with MLmodel and model.onnx) as a new version of NAME; prints the new version')
    .option(...wsOption)
    .option('--alias <alias>', 'point this alias at the new version')
    .option('--description <text>', 'what this version is')
    .option('--run <runId>', 'the run that produced it (lineage)')
    .action(async (name: string, path: string, o: { workspace: string; alias?: string; description?: string; run?: string }, cmd: Command) => {
      let st;
      try {
        st = statSync(path);
      } catch {
        throw new CliError(`${path}: no such file or directory`);
      }
      const query = new URLSearchParams();
      for (const [k, v] of [['alias', o.alias], ['description', o.description], ['runId', o.run]] as const) if (v) query.set(k, v);
      let body: Readable;
      let type: string;
      let total: number;
      if (st.isDirectory()) {
        const files = filesOf(path);
        if (!files.some((f) => f.path.toLowerCase().endsWith('.onnx'))) throw new CliError(`${path}: expected an MLflow model directory with MLmodel and model.onnx`);
        body = Readable.from(writeTar(files));
        type = 'application/x-tar';
        total = files.reduce((s, f) => s + f.size, 0);
      } else {
        if (!path.toLowerCase().endsWith('.onnx')) throw new CliError(`${path}: expected an .onnx file or an MLflow model directory`);
        query.set('filename', basename(path));
        body = createReadStream(path);
        type = 'application/octet-stream';
        total = st.size;
      }
      const progress = new Progress(`upload ${basename(path)}`, total);
      const v = await ApiClient.fromEnv().upload<Version>(`${modelPath(o.workspace, name)}/versions?${query}`, body.pipe(progress.meter()), type);
      progress.finish();
      if (fmt(cmd) === 'json') return printObject('json', v);
      printObject('table', { model: v.name, version: v.version, status: v.status, digest: v.digest, aliases: v.aliases, inputs: sig(v.signature?.inputs), outputs: sig(v.signature?.outputs) });
      process.stdout.write(`${v.version}\n`);
    });

  model
    .command('ls')
    .description('list the registered models of a workspace')
    .option(...wsOption)
    .option('--filter <filter>', "MLflow filter, such as \"name LIKE 'cancer%'\"")
    .action(async (o: { workspace: string; filter?: string }, cmd: Command) => {
      const qs = o.filter ? `?${new URLSearchParams({ filter: o.filter })}` : '';
      const r = await ApiClient.fromEnv().get<{ models: Array<Obj & { latestVersions: Version[]; aliases: Array<{ alias: string; version: number }> }> }>(`/api/v1/workspaces/${enc(o.workspace)}/models${qs}`);
      const rows = r.models.map((m) => ({
        name: m.name,
        latest: Math.max(0, ...m.latestVersions.map((v) => v.version)) || '',
        aliases: m.aliases.map((a) => `${a.alias}→${a.version}`),
        description: m.description,
        updated: new Date(Number(m.updatedAt)).toISOString(),
      }));
      printRows(fmt(cmd), rows, ['name', 'latest', 'aliases', 'description', 'updated'], r);
    });

  model
    .command('show <name> [version]')
    .description('show a model and its versions, or one version with its files and signature')
    .option(...wsOption)
    .action(async (name: string, version: string | undefined, o: { workspace: string }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      if (version === undefined) {
        const m = await api.get<Obj & { versions: Version[] }>(modelPath(o.workspace, name));
        if (fmt(cmd) === 'json') return printObject('json', m);
        printObject('table', { name: m.name, description: m.description, aliases: (m.aliases as Array<{ alias: string; version: number }>).map((a) => `${a.alias}→${a.version}`), tags: m.tags });
        return printRows('table', m.versions.map((v) => ({ ...v, digest: v.digest?.slice(0, 16) })), ['version', 'status', 'stage', 'aliases', 'digest', 'source', 'runId']);
      }
      const v = await api.get<Version & { files: Obj[] }>(`${modelPath(o.workspace, name)}/versions/${enc(version)}`);
      if (fmt(cmd) === 'json') return printObject('json', v);
      printObject('table', { model: v.name, version: v.version, status: v.status, stage: v.stage, aliases: v.aliases, digest: v.digest, source: v.source, run: v.runId, inputs: sig(v.signature?.inputs), outputs: sig(v.signature?.outputs), ...metricsOf(v) });
      printRows('table', v.files, ['path', 'size', 'sha256']);
    });

  const alias = model.command('alias').description('aliases such as @champion');
  alias
    .command('set <name> <alias> <version>')
    .description('point ALIAS of model NAME at VERSION')
    .option(...wsOption)
    .action(async (name: string, a: string, version: string, o: { workspace: string }) => {
      const n = Number(version);
      if (!Number.isInteger(n) || n < 1) throw new CliError(`version: expected a positive integer, got '${version}'`);
      await ApiClient.fromEnv().put(`${modelPath(o.workspace, name)}/aliases/${enc(a)}`, { version: n });
      process.stdout.write(`${name}@${a} → version ${n}\n`);
    });
  alias
    .command('delete <name> <alias>')
    .description('remove ALIAS from model NAME')
    .option(...wsOption)
    .action(async (name: string, a: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().delete(`${modelPath(o.workspace, name)}/aliases/${enc(a)}`);
      process.stdout.write(`removed ${name}@${a}\n`);
    });

  model
    .command('verify <name> <version>')
    .description("re-read a version's stored files and recompute their digests; exits 1 naming any altered file")
    .option(...wsOption)
    .action(async (name: string, version: string, o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().post<{ ok: boolean; digest: string; recomputed: string; files: FileCheck[] }>(`${modelPath(o.workspace, name)}/versions/${enc(version)}/verify`);
      if (fmt(cmd) === 'json') printObject('json', r);
      const bad = r.files.filter((f) => f.status !== 'ok');
      if (r.ok) {
        if (fmt(cmd) !== 'json') process.stdout.write(`ok: ${name} version ${version}, ${r.files.length} files, digest ${r.digest}\n`);
        return;
      }
      for (const f of bad) process.stderr.write(`${f.status}: ${f.path} (recorded ${f.expected ?? '-'}, stored ${f.actual ?? '-'})\n`);
      throw new CliError(`${name} version ${version} does not match its digest: ${bad.map((f) => `${f.status} ${f.path}`).join(', ') || `digest ${r.recomputed} != ${r.digest}`}`);
    });
}
