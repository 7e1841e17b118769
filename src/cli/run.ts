import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { loadConfig, type Config, type ConfigFlags } from '../config.js';
import type { Role } from '../server/app.js';
import type { Running } from '../server/run.js';
import { CliError } from './client.js';

const descriptions: Record<Role, string> = {
  all: 'run everything in one process on the embedded defaults (PGlite + local files)',
  server: 'run the API server (stateless; share PostgreSQL and object storage between replicas)',
  gateway: 'run the inference gateway (stateless; any number of replicas)',
  worker: 'run a job worker',
};

const UNWRITABLE: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOTDIR: 'a file is in the way',
  EEXIST: 'a file is in the way',
  ENOSPC: 'no space left on the device',
};

/** A start-up failure as what happened and what to do next, in a line or two. */
function explain(e: unknown, config: Config): never {
  const err = e as NodeJS.ErrnoException;
  const where = `${config.host}:${config.port}`;
  if (err.code === 'EADDRINUSE') throw new CliError(`port ${config.port} is taken (something already listens on ${where}): stop it, or pick another port with --port N (or SLIPWAY_PORT)`);
  if (err.syscall === 'listen' || err.syscall === 'bind') {
    const why = err.code === 'EACCES' ? 'permission denied: ports below 1024 need privileges' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : err.code;
    throw new CliError(`cannot listen on ${where} (${why}): pick another --port N or --host ADDRESS`);
  }
  if (err.code && UNWRITABLE[err.code]) {
    throw new CliError(`cannot write the data dir ${config.dataDir} (${UNWRITABLE[err.code]}: ${err.path ?? err.code}): choose a writable directory with --data-dir DIR (or SLIPWAY_DATA_DIR)`);
  }
  throw new CliError(err.message);
}

/** `dir/file` as the user would type it from here: relative when under the working directory. */
function shown(dir: string, file: string): string {
  const rel = relative(process.cwd(), join(dir, file));
  const path = rel.startsWith('..') || isAbsolute(rel) ? join(dir, file) : rel;
  // Pasted into a shell: quote a path with spaces or shell characters.
  return /^[\w./@+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The start banner: where it is, where the admin token is, how to log the CLI in, what to try next. */
function banner(role: Role, running: Running, config: Config): string[] {
  const lines = [`Slipway (${role === 'all' ? 'up' : role}) is running at ${running.url}`];
  if (role !== 'all' && role !== 'server') return lines;
  const tokenFile = shown(config.dataDir, 'admin-token');
  if (running.adminToken === 'preset') {
    lines.push('Admin token:     the one in SLIPWAY_ADMIN_TOKEN');
    lines.push(`Log the CLI in:  npx slipway login --url ${running.url} --token "$SLIPWAY_ADMIN_TOKEN"`);
  } else if (existsSync(join(config.dataDir, 'admin-token'))) {
    lines.push(`Admin token:     ${tokenFile} (mode 0600${running.adminToken === 'created' ? ', written just now' : ''})`);
    lines.push(`Log the CLI in:  npx slipway login --url ${running.url} --token "$(cat ${tokenFile})"`);
  } else {
    lines.push(`Log the CLI in:  npx slipway login --url ${running.url} --token TOKEN   (${tokenFile} was removed: use a token you created)`);
  }
  if (role === 'all') lines.push('Then try:        npx slipway demo   (the whole loop: train, deploy, roll out, drift, alert, retrain)');
  return lines;
}

async function run(role: Role, flags: ConfigFlags) {
  const config = loadConfig(flags, process.env);
  // Loaded here, not at the top: every other command starts faster without the server graph.
  const { startRole, stopOnSignals } = await import('../server/run.js');
  const running = await startRole(role, config).catch((e) => explain(e, config));
  const out = (m: string) => process.stderr.write(m + '\n');
  for (const line of banner(role, running, config)) out(line);
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
