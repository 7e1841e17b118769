import type { Command } from 'commander';
import { ApiClient, CliError } from './client.js';
import { fmt, printObject, printRows } from './output.js';

type Obj = Record<string, unknown>;

export function registerAuditCommands(program: Command) {
  const audit = program.command('audit').description('the hash-chained audit trail');
  audit
    .command('ls')
    .option('--principal <name>')
    .option('--action <action>')
    .option('-w, --workspace <workspace>')
    .option('--since <iso>')
    .option('--until <iso>')
    .option('--limit <n>', 'at most n records', '100')
    .action(async (o: Record<string, string | undefined>, cmd: Command) => {
      const q = new URLSearchParams();
      for (const k of ['principal', 'action', 'workspace', 'since', 'until', 'limit']) if (o[k]) q.set(k, o[k]!);
      const r = await ApiClient.fromEnv().get<{ records: Obj[] }>(`/api/v1/audit?${q}`);
      printRows(fmt(cmd), r.records, ['seq', 'at', 'principal', 'action', 'workspace', 'target', 'outcome'], r);
    });
  audit
    .command('verify')
    .description('check the hash chain; exits 1 and names the first bad record if it is broken')
    .action(async (_o, cmd: Command) => {
      const v = await ApiClient.fromEnv().get<{ ok: boolean; checked: number; firstBad?: { seq: number; reason: string } }>('/api/v1/audit/verify');
      if (fmt(cmd) === 'json') printObject('json', v);
      if (!v.ok) throw new CliError(`audit chain broken at record ${v.firstBad!.seq}: ${v.firstBad!.reason} (${v.checked} records before it are intact)`);
      if (fmt(cmd) !== 'json') process.stdout.write(`audit chain intact: ${v.checked} records verified\n`);
    });
}
