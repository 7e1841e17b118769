import type { Authorizer } from '../access/authorizer.js';
import type { RolloutService } from '../rollout/service.js';
import type { Serving } from '../serving/service.js';
import { deploymentHandler } from './deployment.js';
import { endpointHandler } from './endpoint.js';
import { ApplyEngine } from './engine.js';
import { rolloutHandler } from './rollout.js';

export { ApplyEngine } from './engine.js';

/** The apply engine with every kind known so far; a new kind is one handler file and one line here. */
export function createApply(deps: { serving: Serving; rollouts: RolloutService; authz: Authorizer }): ApplyEngine {
  return new ApplyEngine(deps.authz).register(endpointHandler(deps.serving)).register(deploymentHandler(deps.serving)).register(rolloutHandler(deps.rollouts, deps.serving));
}
