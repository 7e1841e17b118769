import type { Command } from 'commander';
import { ApiClient, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

type Obj = Record<string, unknown>;

export function registerRoleCommands(program: Command) {
  const role = program.command('role').description('roles per workspace');
  role
    .command('assign <principal> <role>')
    .requiredOption('-w, --workspace <workspace>')
    .action(async (principal: string, r: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().post(`/api/v1/workspaces/${enc(o.workspace)}/roles`, { principal, role: r });
      process.stdout.write(`${principal} is ${r} in ${o.workspace}\n`);
    });
  role
    .command('remove <principal> <role>')
    .requiredOption('-w, --workspace <workspace>')
    .action(async (principal: string, r: string, o: { workspace: string }) => {
      await ApiClient.fromEnv().delete(`/api/v1/workspaces/${enc(o.workspace)}/roles/${enc(principal)}/${enc(r)}`);
      process.stdout.write(`removed ${r} of ${principal} in ${o.workspace}\n`);
    });
  role
    .command('ls')
    .requiredOption('-w, --workspace <workspace>')
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ assignments: Obj[] }>(`/api/v1/workspaces/${enc(o.workspace)}/roles`);
      printRows(fmt(cmd), r.assignments, ['principal', 'kind', 'role', 'createdAt'], r);
    });

  const persona = program.command('persona').description('persona templates: roles by environment type across a project');
  persona
    .command('apply <principal> <persona>')
    .requiredOption('--project <project>')
    .action(async (principal: string, p: string, o: { project: string }) => {
      await ApiClient.fromEnv().post('/api/v1/personas/bindings', { principal, persona: p, project: o.project });
      process.stdout.write(`${principal} is ${p} in project ${o.project}\n`);
    });
  persona
    .command('remove <principal> <persona>')
    .requiredOption('--project <project>')
    .action(async (principal: string, p: string, o: { project: string }) => {
      await ApiClient.fromEnv().delete('/api/v1/personas/bindings', { principal, persona: p, project: o.project });
      process.stdout.write(`removed ${p} of ${principal} in project ${o.project}\n`);
    });
  persona.command('ls').description('the persona templates').action(async (_o, cmd: Command) => {
    const r = await ApiClient.fromEnv().get<{ personas: Array<{ name: string; roles: Record<string, string[]>; description: string }> }>('/api/v1/personas');
    const rows = r.personas.map((p) => ({ name: p.name, dev: p.roles.dev.join(' ') || '—', staging: p.roles.staging.join(' ') || '—', prod: p.roles.prod.join(' ') || '—' }));
    printRows(fmt(cmd), rows, ['name', 'dev', 'staging', 'prod'], r);
  });

  program
    .command('elevate')
    .description('take a role for a limited time (platform support), with a reason; audited')
    .requiredOption('-w, --workspace <workspace>')
    .option('--role <role>', 'role to take', 'owner')
    .option('--for <duration>', 'how long, up to 8h', '1h')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action(async (o: { workspace: string; role: string; for: string; reason: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().post<Obj>(`/api/v1/workspaces/${enc(o.workspace)}/elevations`, { role: o.role, duration: o.for, reason: o.reason });
      printObject(fmt(cmd), r);
    });
}
