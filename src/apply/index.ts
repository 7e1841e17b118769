import type { Authorizer } from '../access/authorizer.js';
import type { Ctx } from '../access/principal.js';
import type { RolloutService } from '../rollout/service.js';
import type { Serving } from '../serving/service.js';
import { deploymentHandler } from './deployment.js';
import { endpointHandler } from './endpoint.js';
import { ApplyEngine } from './engine.js';
import { rolloutHandler } from './rollout.js';

export { ApplyEngine } from './engine.js';

/** The apply engine with every kind known so far; a new kind is one handler file and one line here. */
export function createApply(deps: { serving: Serving; rollouts: RolloutService; authz: Authorizer }): ApplyEngine {
  const driving = async (ctx: Ctx, workspace: string, endpoint: string) =>
    (await deps.rollouts.list(ctx, workspace)).find((r) => r.endpoint === endpoint && ['pending', 'running', 'paused'].includes(r.state))?.name ?? null;
  return new ApplyEngine(deps.authz).register(endpointHandler(deps.serving, driving)).register(deploymentHandler(deps.serving)).register(rolloutHandler(deps.rollouts, deps.serving));
}
