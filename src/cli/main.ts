import { Command } from 'commander';
import { version } from '../server/version.js';
import { registerAlertChannelCommands } from './alert-channels.js';
import { registerAlertCommands } from './alerts.js';
import { registerApplyCommands } from './apply.js';
import { registerAuditCommands } from './audit.js';
import { registerDatasetCommands } from './datasets.js';
import { registerDemoCommands } from './demo.js';
import { registerPipelineCommands } from './pipelines.js';
import { registerBatchCommands } from './batch.js';
import { registerJobCommands } from './jobs.js';
import { registerEndpointCommands } from './endpoints.js';
import { CliError } from './client.js';
import { registerLoginCommands } from './login.js';
import { registerModelCommands } from './models.js';
import { registerMonitorCommands } from './monitors.js';
import { outputOption } from './output.js';
import { registerPrincipalCommands } from './principals.js';
import { registerRoleCommands } from './roles.js';
import { registerRolloutCommands } from './rollouts.js';
import { registerRunCommands } from './run.js';
import { registerTrackingCommands } from './tracking.js';
import { registerWorkspaceCommands } from './workspace.js';

const program = new Command('slipway')
  .description('Slipway: self-hosted MLOps — track, register, deploy, serve, monitor')
  .version(version)
  .addOption(outputOption())
  .showHelpAfterError();

registerRunCommands(program);
registerLoginCommands(program);
registerWorkspaceCommands(program);
registerPrincipalCommands(program);
registerRoleCommands(program);
registerAuditCommands(program);
registerTrackingCommands(program);
registerDatasetCommands(program);
registerModelCommands(program);
registerEndpointCommands(program);
registerRolloutCommands(program);
registerMonitorCommands(program);
registerApplyCommands(program);
registerJobCommands(program);
registerPipelineCommands(program);
registerBatchCommands(program);
registerDemoCommands(program);
registerAlertCommands(program);
// Last: adds `alert channel …` and `alert deliveries` to the `alert` group registered above (or creates it).
registerAlertChannelCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
