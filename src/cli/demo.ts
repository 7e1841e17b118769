import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runDemo, STAGES } from '../demo/index.js';
import { startEmbedded, type EmbeddedPlatform } from '../demo/embedded.js';
import { summaryRows } from '../demo/summary.js';
import type { DemoContext } from '../demo/context.js';
import { ApiClient, CliError, serverUrl } from './client.js';
import { fmt, printRows } from './output.js';
import { StageProgress } from './progress.js';

interface DemoOptions {
  workspace: string;
  embedded?: boolean;
  keep?: boolean;
}

function logTail(p: EmbeddedPlatform): string {
  try {
    return readFileSync(p.log, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}

/** `slipway demo`: the whole operational loop against a platform, or one it starts for itself. */
async function demo(o: DemoOptions, cmd: Command) {
  const t0 = Date.now();
  const embedded = o.embedded || !serverUrl();
  const progress = new StageProgress(STAGES.length + (embedded ? 1 : 0));
  let platform: EmbeddedPlatform | undefined;
  const stopPlatform = () => (platform && !o.keep ? platform.stop() : Promise.resolve());
  // Ctrl-C or a kill stops the embedded platform too (one still starting is ended by startEmbedded's exit hook).
  const onSignal = (signal: NodeJS.Signals) => void stopPlatform().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (embedded) {
    progress.start('start an embedded platform (slipway up in a temporary data dir)');
    platform = await startEmbedded({ keep: !!o.keep, onWait: (d) => progress.update(d) }).catch((e: Error) => {
      progress.end(e.message, '✗');
      throw new CliError('could not start the embedded platform (see above)');
    });
    progress.end(`${platform.url}, data in ${platform.dataDir}`);
  }
  const api = platform ? new ApiClient({ url: platform.url, token: platform.token }) : ApiClient.fromEnv();
  if (!platform && !(await fetch(`${api.login.url}/healthz`).then((r) => r.ok, () => false))) {
    const from = process.env.SLIPWAY_URL ? 'SLIPWAY_URL' : 'your saved login';
    throw new CliError(`cannot reach Slipway at ${api.login.url} (from ${from}): start it with \`npm start\`, or run \`npx slipway demo --embedded\` for a platform of its own`);
  }
  let outcome: { ctx: DemoContext; failure?: Error };
  try {
    // On a platform of its own the demo's names need no suffix; on a shared one each run gets a fresh one.
    outcome = await runDemo(api, { url: api.login.url, workspace: o.workspace, reporter: progress, ...(embedded ? { suffix: 'demo' } : {}) });
    if (outcome.failure && platform) process.stderr.write(`last lines of the embedded platform's log:\n${logTail(platform)}\n`);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopPlatform();
  }
  const { ctx, failure } = outcome;
  const json = fmt(cmd) === 'json';
  const rows = summaryRows(ctx) as unknown as Array<Record<string, unknown>>;
  if (!json && rows.length) process.stdout.write('\nWhat now exists:\n');
  if (json || rows.length) printRows(fmt(cmd), rows, undefined, { ...(platform && o.keep ? { platform: { url: platform.url, token: platform.token, pid: platform.pid, dataDir: platform.dataDir } } : {}), names: ctx.names, results: ctx.results, traffic: ctx.traffic?.count });
  const kept = platform && o.keep ? ` (its platform keeps running at ${platform.url}: stop it with \`kill ${platform.pid}\`)` : '';
  if (failure) throw new CliError(`the demo stopped: ${failure.message}${kept}`);
  const took = `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  if (json) return;
  if (platform && o.keep) {
    process.stdout.write(`\nDone in ${took}. The embedded platform keeps running (pid ${platform.pid}, data in ${platform.dataDir}). To look around:\n`);
    process.stdout.write(`  export SLIPWAY_URL=${platform.url} SLIPWAY_TOKEN=${platform.token}\n  npx slipway whoami\nStop it with: kill ${platform.pid}\n`);
  } else if (platform) {
    process.stdout.write(`\nDone in ${took}. The embedded platform has stopped and its data dir is gone; run \`npx slipway demo --keep\` to keep it and try the commands above.\n`);
  } else {
    process.stdout.write(`\nDone in ${took} on ${api.login.url}.\n`);
  }
}

export function registerDemoCommands(program: Command) {
  program
    .command('demo')
    .description('the whole loop in about a minute: data set → training pipeline → deploy → rollout → drift → alert → retraining')
    .option('-w, --workspace <workspace>', 'workspace', 'default')
    .option('--embedded', 'start an embedded platform even when SLIPWAY_URL or a login is set')
    .option('--keep', 'leave the embedded platform running at the end (prints its URL and token)')
    .action((o: DemoOptions, cmd: Command) => demo(o, cmd));
}
