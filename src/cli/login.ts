import type { Command } from 'commander';
import { ApiClient, CliError, writeLogin } from './client.js';
import { fmt, printObject } from './output.js';

export function registerLoginCommands(program: Command) {
  program
    .command('login')
    .description('save the server URL and token for later commands (config file mode 0600)')
    .requiredOption('--url <url>', 'server URL, e.g. http://127.0.0.1:8080')
    .requiredOption('--token <token>', 'API token')
    .action(async (opts: { url: string; token: string }) => {
      const client = new ApiClient({ url: opts.url.replace(/\/+$/, ''), token: opts.token });
      const me = await client.get<{ name: string }>('/api/v1/whoami').catch((e: Error) => {
        // A refused token is the usual newcomer mistake (a stale or mistyped copy): say where a good one is.
        if (/^401\b/.test(e.message)) throw new CliError(`login failed: ${client.login.url} refused the token (${e.message.replace(/^401 unauthenticated: | \(log in again.*$/g, '')}): pass a valid one, such as --token "$(cat .slipway/admin-token)"`);
        throw new CliError(`login failed: ${e.message}`);
      });
      const file = writeLogin({ url: client.login.url, token: opts.token });
      process.stdout.write(`Logged in to ${client.login.url} as ${me.name} (saved in ${file})\n`);
    });

  program
    .command('whoami')
    .description('show the principal behind the current token')
    .action(async (_opts, cmd: Command) => {
      const me = await ApiClient.fromEnv().get<Record<string, unknown>>('/api/v1/whoami');
      printObject(fmt(cmd), { ...me, url: ApiClient.fromEnv().login.url });
    });
}
