import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../config.js';
import type { Role } from '../server/app.js';
import { CliError } from './client.js';

const descriptions: Record<Role, string> = {
  all: 'run everything in one process on the embedded defaults (PGlite + local files)',
  server: 'run the API server (stateless; share PostgreSQL and object storage between replicas)',
  gateway: 'run the inference gateway (stateless; any number of replicas)',
  worker: 'run a job worker',
};

function explain(e: unknown, port: number): never {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE') throw new CliError(`port ${port} is taken: stop what uses it, or pick another with --port N (or SLIPWAY_PORT)`);
  if (err.code === 'EACCES' || err.code === 'EROFS') throw new CliError(`cannot write the data dir (${err.path ?? err.message}): choose a writable one with --data-dir DIR`);
  throw new CliError(err.message);
}

async function run(role: Role, flags: ConfigFlags) {
  const config = loadConfig(flags, process.env);
  // Loaded here, not at the top: every other command starts faster without the server graph.
  const { startRole, stopOnSignals } = await import('../server/run.js');
  const running = await startRole(role, config).catch((e) => explain(e, config.port));
  const out = (m: string) => process.stderr.write(m + '\n');
  out(`Slipway (${role === 'all' ? 'up' : role}) listening on ${running.url}`);
  if (running.adminToken === 'created') out(`Admin token written to ${config.dataDir}/admin-token (mode 0600).`);
  if (role === 'all' || role === 'server') {
    out(`Log the CLI in:  npx slipway login --url ${running.url} --token "$(cat ${config.dataDir}/admin-token)"`);
    out(`Then try:        npx slipway whoami`);
  }
  stopOnSignals(running, config.shutdownGraceMs, out);
}

export function registerRunCommands(program: Command) {
  const roles: Array<[string, Role]> = [
    ['up', 'all'],
    ['server', 'server'],
    ['gateway', 'gateway'],
    ['worker', 'worker'],
  ];
  for (const [name, role] of roles) {
    program
      .command(name)
      .description(descriptions[role])
      .option('--port <port>', 'port to listen on (SLIPWAY_PORT, default 8080)')
      .option('--host <host>', 'address to bind (default 127.0.0.1)')
      .option('--data-dir <dir>', 'data directory (SLIPWAY_DATA_DIR, default ./.slipway)')
      .action((opts: ConfigFlags) => run(role, opts));
  }
}
