import type { Command } from 'commander';
import { ApiClient, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';

type Obj = Record<string, unknown>;

export function registerPrincipalCommands(program: Command) {
  const user = program.command('user').description('users and service principals (admins manage them)');
  user
    .command('create <name>')
    .description('create a user, or a service principal with --service')
    .option('--service', 'a service principal (CI/CD, monitoring, governance processes)')
    .option('--admin', 'a server admin')
    .option('--description <text>')
    .action(async (name: string, o: { service?: boolean; admin?: boolean; description?: string }, cmd: Command) => {
      const body = { name, kind: o.service ? 'service' : 'user', admin: o.admin, description: o.description };
      printObject(fmt(cmd), await ApiClient.fromEnv().post<Obj>('/api/v1/users', body));
    });
  user.command('ls').action(async (_o, cmd: Command) => {
    const r = await ApiClient.fromEnv().get<{ users: Obj[] }>('/api/v1/users');
    printRows(fmt(cmd), r.users, ['name', 'kind', 'admin', 'source', 'createdAt'], r);
  });
  user.command('show <name>').action(async (name: string, _o, cmd: Command) => printObject(fmt(cmd), await ApiClient.fromEnv().get<Obj>(`/api/v1/users/${enc(name)}`)));
  user.command('delete <name>').action(async (name: string) => {
    await ApiClient.fromEnv().delete(`/api/v1/users/${enc(name)}`);
    process.stdout.write(`deleted ${name}\n`);
  });

  const group = program.command('group').description('groups of principals; roles given to a group apply to its members');
  group.command('create <name>').action(async (name: string, _o, cmd: Command) => printObject(fmt(cmd), await ApiClient.fromEnv().post<Obj>('/api/v1/groups', { name })));
  group.command('ls').action(async (_o, cmd: Command) => {
    const r = await ApiClient.fromEnv().get<{ groups: Obj[] }>('/api/v1/groups');
    printRows(fmt(cmd), r.groups, ['name', 'source', 'createdAt'], r);
  });
  group.command('show <name>').action(async (name: string, _o, cmd: Command) => printObject(fmt(cmd), await ApiClient.fromEnv().get<Obj>(`/api/v1/groups/${enc(name)}`)));
  group.command('delete <name>').action(async (name: string) => {
    await ApiClient.fromEnv().delete(`/api/v1/groups/${enc(name)}`);
    process.stdout.write(`deleted group ${name}\n`);
  });
  group.command('add <group> <member>').description('add a member').action(async (g: string, m: string) => {
    await ApiClient.fromEnv().put(`/api/v1/groups/${enc(g)}/members/${enc(m)}`);
    process.stdout.write(`added ${m} to ${g}\n`);
  });
  group.command('remove <group> <member>').description('remove a member').action(async (g: string, m: string) => {
    await ApiClient.fromEnv().delete(`/api/v1/groups/${enc(g)}/members/${enc(m)}`);
    process.stdout.write(`removed ${m} from ${g}\n`);
  });

  const token = program.command('token').description('API tokens: shown once, stored only as a hash');
  token
    .command('create <name>')
    .description('create a token for a principal; the token is printed alone on the last line')
    .option('--expires <duration>', "lifetime such as 30d, 12h or 'never'", 'never')
    .option('--description <text>')
    .action(async (name: string, o: { expires: string; description?: string }, cmd: Command) => {
      const t = await ApiClient.fromEnv().post<Obj & { token: string }>(`/api/v1/users/${enc(name)}/tokens`, { expires: o.expires, description: o.description });
      if (fmt(cmd) === 'json') return printObject('json', t);
      process.stdout.write(`token ${t.id} for ${name}, expires ${t.expiresAt ?? 'never'}; it is shown only now:\n${t.token}\n`);
    });
  token.command('ls <name>').description("list a principal's tokens (never the secret)").action(async (name: string, _o, cmd: Command) => {
    const r = await ApiClient.fromEnv().get<{ tokens: Obj[] }>(`/api/v1/users/${enc(name)}/tokens`);
    printRows(fmt(cmd), r.tokens, ['id', 'createdAt', 'expiresAt', 'lastUsedAt', 'revokedAt', 'description'], r);
  });
  token.command('revoke <id>').action(async (id: string) => {
    await ApiClient.fromEnv().delete(`/api/v1/tokens/${enc(id)}`);
    process.stdout.write(`revoked ${id}\n`);
  });
}
