import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { systemCtx } from '../../src/access/principal.js';
import type { Principal } from '../../src/access/principal.js';
import { drivers } from '../helpers/stores.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * Walks every persona × environment type × action against the matrix as
 * written in shared/access.md (a copy is kept beside this test; when the
 * shared original is present the copy must equal it).
 */
const copyPath = fileURLToPath(new URL('./access-matrix.md', import.meta.url));
const sharedPath = fileURLToPath(new URL('../../../shared/access.md', import.meta.url));
const doc = readFileSync(copyPath, 'utf8');

function tableAfter(heading: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  assert.ok(start >= 0, `heading ${heading} in access.md`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows.slice(1); // drop the header row
}

const unquote = (s: string) => s.replace(/`/g, '').trim();
const actionList = tableAfter('## Actions').flatMap((r) => unquote(r[0]).split('/').map((a) => a.trim()));

const roleActions = new Map<string, Set<string>>();
for (const [role, grants] of tableAfter('## Roles (per workspace)')) {
  const out = new Set<string>();
  for (const part of grants.split(/[,+]/).map((p) => p.trim()).filter(Boolean)) {
    if (roleActions.has(part)) roleActions.get(part)!.forEach((a) => out.add(a));
    else out.add(part);
  }
  roleActions.set(unquote(role), out);
}

const envs = ['dev', 'staging', 'prod'] as const;
const personaRoles = new Map<string, Record<(typeof envs)[number], string[]>>();
for (const [name, dev, staging, prod] of tableAfter('## Personas → roles by environment type')) {
  const roles = (cell: string) => (cell.startsWith('—') ? [] : cell.split(',').map((r) => r.trim()));
  personaRoles.set(unquote(name.split(' ')[0]), { dev: roles(dev), staging: roles(staging), prod: roles(prod) });
}

describe('access matrix document', () => {
  it('is the shared one', { skip: !existsSync(sharedPath) && 'shared/access.md is not beside the repo' }, () => {
    assert.equal(doc, readFileSync(sharedPath, 'utf8'), 'test/access/access-matrix.md must be a copy of shared/access.md');
  });
  it('parses into 17 actions, 8 roles and 11 personas', () => {
    assert.equal(actionList.length, 17);
    assert.equal(roleActions.size, 8);
    assert.equal(personaRoles.size, 11);
  });
});

for (const driver of drivers) {
  describe(`persona × action × environment [${driver}]`, () => {
    let t: TestApp;
    const principals = new Map<string, Principal>();
    before(async () => {
      t = await startTestApp(driver);
      const ctx = systemCtx('matrix');
      const { workspaces, principals: ps, grants } = t.platform.access;
      for (const env of envs) await workspaces.create(ctx, { name: `m-${env}`, env, project: 'matrix' });
      for (const persona of personaRoles.keys()) {
        const service = persona.endsWith('-process');
        await ps.create(ctx, { name: `p-${persona}`, kind: service ? 'service' : 'user' });
        await grants.applyPersona(ctx, `p-${persona}`, persona, 'matrix');
        const row = (await t.platform.access.store.principal(`p-${persona}`))!;
        principals.set(persona, { id: Number(row.id), name: row.name, kind: row.kind as 'user' | 'service', isAdmin: false, groupIds: [] });
      }
      // Created after the personas were applied: the roles must follow.
      await workspaces.create(ctx, { name: 'm-prod-later', env: 'prod', project: 'matrix' });
      await workspaces.create(ctx, { name: 'other-dev', env: 'dev', project: 'elsewhere' });
    });
    after(() => t.close());

    it('allows exactly what the matrix grants, cell by cell', async () => {
      const { authz } = t.platform.access;
      let cells = 0;
      for (const [persona, byEnv] of personaRoles) {
        const p = principals.get(persona)!;
        for (const env of envs) {
          const granted = new Set(byEnv[env].flatMap((r) => [...(roleActions.get(r) ?? assert.fail(`unknown role ${r}`))]));
          for (const action of actionList) {
            const allowed = await authz.can(p, action as never, `m-${env}`);
            assert.equal(allowed, granted.has(action), `${persona} ${action} in ${env}`);
            cells++;
          }
        }
      }
      assert.equal(cells, 11 * 3 * 17);
    });

    it('gives workspaces created later the same roles, and nothing outside the project', async () => {
      const { authz } = t.platform.access;
      for (const [persona, byEnv] of personaRoles) {
        const p = principals.get(persona)!;
        const granted = new Set(byEnv.prod.flatMap((r) => [...roleActions.get(r)!]));
        for (const action of actionList) {
          assert.equal(await authz.can(p, action as never, 'm-prod-later'), granted.has(action), `${persona} ${action} in a later prod workspace`);
          assert.equal(await authz.can(p, action as never, 'other-dev'), false, `${persona} ${action} outside its project`);
        }
      }
    });

    it('gives platform support no standing access anywhere', async () => {
      const p = principals.get('platform-support')!;
      for (const env of envs) for (const action of actionList) assert.equal(await t.platform.access.authz.can(p, action as never, `m-${env}`), false);
    });

    it('denies a data scientist writing to prod over HTTP with 403 naming the action', async () => {
      const tok = await t.platform.access.principals.createToken(systemCtx(), 'p-data-scientist', {});
      const dev = await t.call({ method: 'GET', url: '/api/v1/workspaces/m-dev', token: tok.token });
      assert.ok(dev.json().permissions.includes('tracking.write'));
      const prod = await t.call({ method: 'POST', url: '/api/v1/workspaces/m-prod/roles', payload: { principal: 'p-data-scientist', role: 'owner' }, token: tok.token });
      assert.equal(prod.statusCode, 403);
      assert.equal(prod.json().action, 'access.manage');
    });
  });
}
