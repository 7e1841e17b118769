import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printRows } from './output.js';

interface PlanRow {
  kind: string;
  workspace: string;
  name: string;
  action: string;
  changes: string[];
}

/** The YAML documents of a file (empty ones skipped); a syntax error names the document. */
export function readDocuments(path: string): unknown[] {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`${path}: cannot read the file`);
  }
  const out: unknown[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    if (d.errors.length) throw new CliError(`${path}: document ${i + 1}: ${d.errors[0].message}`);
    const v = d.toJSON();
    if (v === null || v === undefined) return;
    if (typeof v !== 'object' || Array.isArray(v)) throw new CliError(`${path}: document ${i + 1}: expected a mapping with a kind`);
    out.push(v);
  });
  return out;
}

/** `slipway apply -f FILE [--dry-run]` and `slipway export`: the server plans; the CLI prints. */
export function registerApplyCommands(program: Command) {
  program
    .command('apply')
    .description('create or update the resources of a YAML file (Endpoint, Deployment, …); prints the plan first. Applying twice changes nothing')
    .requiredOption('-f, --file <file>', 'multi-document YAML file (- for stdin)')
    .option('--dry-run', 'print the plan only; change nothing')
    .option('--prune', "also delete resources of the file's kinds, in the workspaces it names, that it no longer describes")
    .action(async (o: { file: string; dryRun?: boolean; prune?: boolean }, cmd: Command) => {
      const documents = readDocuments(o.file);
      const r = await ApiClient.fromEnv().post<{ dryRun: boolean; plan: PlanRow[] }>('/api/v1/apply', { documents, dryRun: !!o.dryRun, prune: !!o.prune });
      const rows = r.plan.map((p) => ({ ...p, changes: p.changes.join(', ') }));
      printRows(fmt(cmd), rows, ['action', 'kind', 'workspace', 'name', 'changes'], r);
      if (fmt(cmd) === 'json') return;
      const n = (a: string) => r.plan.filter((p) => p.action === a).length;
      process.stdout.write(`${r.dryRun ? 'dry run, nothing changed: ' : ''}${n('create')} to create, ${n('update')} to update, ${o.prune ? `${n('delete')} to delete, ` : ''}${n('unchanged')} unchanged\n`);
    });

  program
    .command('export')
    .description("write a workspace's resources as YAML that `slipway apply -f` takes back unchanged")
    .option('-w, --workspace <workspace>', 'workspace', 'default')
    .action(async (o: { workspace: string }) => {
      const r = await ApiClient.fromEnv().get<{ documents: unknown[] }>(`/api/v1/export?workspace=${enc(o.workspace)}`);
      process.stdout.write(r.documents.map((d) => stringify(d)).join('---\n'));
    });
}
