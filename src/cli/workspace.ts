import type { Command } from 'commander';
import { ApiClient, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

type Ws = Record<string, unknown>;

export function registerWorkspaceCommands(program: Command) {
  const ws = program.command('workspace').description('workspaces: scopes with an environment type and a project');
  ws.command('create <name>')
    .description('create a workspace (admins only)')
    .requiredOption('--env <env>', 'dev | staging | prod')
    .option('--project <project>', 'project the workspace belongs to', 'default')
    .option('--description <text>', 'what it is for')
    .action(async (name: string, o: { env: string; project: string; description?: string }, cmd: Command) => {
      const w = await ApiClient.fromEnv().post<Ws>('/api/v1/workspaces', { name, env: o.env, project: o.project, description: o.description });
      printObject(fmt(cmd), w);
    });
  ws.command('ls')
    .description('list the workspaces you can read')
    .action(async (_o, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ workspaces: Ws[] }>('/api/v1/workspaces');
      printRows(fmt(cmd), r.workspaces, ['name', 'env', 'project', 'description'], r);
    });
  ws.command('show <name>')
    .description('show a workspace and your permissions in it')
    .action(async (name: string, _o, cmd: Command) => printObject(fmt(cmd), await ApiClient.fromEnv().get<Ws>(`/api/v1/workspaces/${enc(name)}`)));
  ws.command('delete <name>')
    .description('delete a workspace and everything in it (admins only)')
    .action(async (name: string) => {
      await ApiClient.fromEnv().delete(`/api/v1/workspaces/${enc(name)}`);
      process.stdout.write(`deleted workspace ${name}\n`);
    });
}
