import { Conflict, Invalid, NotFound } from '../shared/errors.js';
import type { Authorizer } from './authorizer.js';
import { envTypes, type EnvType } from './matrix.js';
import type { Ctx } from './principal.js';
import type { AccessStore } from './store.js';
import type { WorkspaceRow } from './tables.js';

export interface WorkspaceView {
  name: string;
  env: EnvType;
  project: string;
  description: string;
  createdAt: string;
}

export const NAME_PATTERN = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
export const NAME_RULE = 'lowercase letters, digits, ".", "_" or "-", 1-63 characters, starting and ending with a letter or digit';

export function workspaceView(w: WorkspaceRow): WorkspaceView {
  return { name: w.name, env: w.env, project: w.project, description: w.description, createdAt: w.created_at.toISOString() };
}

/** Workspaces: scopes with an environment type and a project. Only admins create and delete them. */
export class WorkspaceService {
  readonly #onDeleted: Array<(name: string) => Promise<void>> = [];

  constructor(
    private readonly store: AccessStore,
    private readonly authz: Authorizer,
  ) {}

  async create(ctx: Ctx, input: { name: string; env: string; project?: string; description?: string }): Promise<WorkspaceView> {
    if (!NAME_PATTERN.test(input.name)) throw Invalid.field('name', NAME_RULE);
    if (!(envTypes as readonly string[]).includes(input.env)) throw Invalid.field('env', `one of ${envTypes.join(', ')}`);
    const project = input.project ?? 'default';
    if (!NAME_PATTERN.test(project)) throw Invalid.field('project', NAME_RULE);
    return this.authz.mutate(ctx, { action: 'admin.workspace.create', target: `workspace/${input.name}` }, async (tx) => {
      if (await this.store.workspace(input.name, tx)) throw new Conflict(`workspace '${input.name}' already exists`);
      const row = await this.store.insertWorkspace(tx, {
        name: input.name,
        env: input.env as EnvType,
        project,
        description: input.description ?? '',
      });
      return workspaceView(row);
    });
  }

  /** The workspaces the caller can read. */
  async list(ctx: Ctx): Promise<WorkspaceView[]> {
    const all = await this.store.workspaces();
    const visible: WorkspaceView[] = [];
    for (const w of all) if (await this.authz.can(ctx.principal, 'workspace.read', w)) visible.push(workspaceView(w));
    return visible;
  }

  async get(ctx: Ctx, name: string): Promise<WorkspaceView & { permissions: string[] }> {
    const ws = await this.authz.authorize(ctx, 'workspace.read', name);
    const permissions = [...(await this.authz.actionsIn(ctx.principal, ws))].sort();
    return { ...workspaceView(ws), permissions };
  }

  /** Runs after a workspace's rows are gone: other domains remove what they keep outside the store (files). */
  onDeleted(listener: (name: string) => Promise<void>): void {
    this.#onDeleted.push(listener);
  }

  async delete(ctx: Ctx, name: string): Promise<void> {
    if (name === 'default') throw new Conflict("the 'default' workspace cannot be deleted");
    await this.authz.mutate(ctx, { action: 'admin.workspace.delete', target: `workspace/${name}` }, async (tx) => {
      const ws = await this.store.workspace(name, tx);
      if (!ws) throw new NotFound('workspace', name);
      await this.store.deleteWorkspace(tx, Number(ws.id));
    });
    // Files go after the commit: a failure here leaves orphans, never rows without files.
    for (const listener of this.#onDeleted) await listener(name);
  }
}
