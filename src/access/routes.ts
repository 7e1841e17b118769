import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Access } from './service.js';
import * as S from './schema.js';

const tags = ['access'];

/** Workspaces, principals, groups, tokens, roles, personas, elevation, audit. HTTP only. */
export async function accessRoutes(app: FastifyInstance, { access }: { access: Access }) {
  const { workspaces, principals, grants, auditTrail } = access;

  app.get('/api/v1/whoami', { schema: { tags, summary: 'The calling principal' } }, async (req) => {
    const p = req.ctx.principal;
    return { name: p.name, kind: p.kind, admin: p.isAdmin, tokenId: p.tokenId ?? null };
  });

  // Workspaces
  const wsTags = ['workspaces'];
  app.post('/api/v1/workspaces', { schema: { tags: wsTags, body: S.WorkspaceCreate, response: { 201: S.Workspace } } }, async (req, reply) => {
    reply.code(201);
    return workspaces.create(req.ctx, req.body as S.WorkspaceCreate);
  });
  app.get('/api/v1/workspaces', { schema: { tags: wsTags, response: { 200: Type.Object({ workspaces: Type.Array(S.Workspace) }) } } }, async (req) => ({
    workspaces: await workspaces.list(req.ctx),
  }));
  app.get('/api/v1/workspaces/:name', { schema: { tags: wsTags, params: S.NameParam, response: { 200: S.Workspace } } }, async (req) =>
    workspaces.get(req.ctx, (req.params as { name: string }).name),
  );
  app.delete('/api/v1/workspaces/:name', { schema: { tags: wsTags, params: S.NameParam } }, async (req, reply) => {
    await workspaces.delete(req.ctx, (req.params as { name: string }).name);
    reply.code(204);
  });

  // Principals and groups
  app.post('/api/v1/users', { schema: { tags, body: S.UserCreate, response: { 201: S.PrincipalOut } } }, async (req, reply) => {
    const b = req.body as S.UserCreate;
    reply.code(201);
    return principals.create(req.ctx, { ...b, kind: b.kind ?? 'user' });
  });
  app.get('/api/v1/users', { schema: { tags, response: { 200: Type.Object({ users: Type.Array(S.PrincipalOut) }) } } }, async (req) => ({
    users: await principals.list(req.ctx, ['user', 'service']),
  }));
  app.get('/api/v1/users/:name', { schema: { tags, params: S.NameParam, response: { 200: S.PrincipalOut } } }, async (req) =>
    principals.get(req.ctx, (req.params as { name: string }).name),
  );
  app.delete('/api/v1/users/:name', { schema: { tags, params: S.NameParam } }, async (req, reply) => {
    await principals.delete(req.ctx, (req.params as { name: string }).name);
    reply.code(204);
  });
  app.post('/api/v1/groups', { schema: { tags, body: S.GroupCreate, response: { 201: S.PrincipalOut } } }, async (req, reply) => {
    reply.code(201);
    return principals.create(req.ctx, { ...(req.body as S.GroupCreate), kind: 'group' });
  });
  app.get('/api/v1/groups', { schema: { tags, response: { 200: Type.Object({ groups: Type.Array(S.PrincipalOut) }) } } }, async (req) => ({
    groups: await principals.list(req.ctx, ['group']),
  }));
  app.get('/api/v1/groups/:name', { schema: { tags, params: S.NameParam, response: { 200: S.PrincipalOut } } }, async (req) =>
    principals.get(req.ctx, (req.params as { name: string }).name),
  );
  app.delete('/api/v1/groups/:name', { schema: { tags, params: S.NameParam } }, async (req, reply) => {
    await principals.delete(req.ctx, (req.params as { name: string }).name);
    reply.code(204);
  });
  const MemberParams = Type.Object({ name: Type.String(), member: Type.String() });
  app.put('/api/v1/groups/:name/members/:member', { schema: { tags, params: MemberParams } }, async (req, reply) => {
    const p = req.params as { name: string; member: string };
    await principals.addMember(req.ctx, p.name, p.member);
    reply.code(204);
  });
  app.delete('/api/v1/groups/:name/members/:member', { schema: { tags, params: MemberParams } }, async (req, reply) => {
    const p = req.params as { name: string; member: string };
    await principals.removeMember(req.ctx, p.name, p.member);
    reply.code(204);
  });

  // Tokens
  app.post('/api/v1/users/:name/tokens', { schema: { tags, params: S.NameParam, body: S.TokenCreate, response: { 201: S.TokenCreated } } }, async (req, reply) => {
    reply.code(201);
    return principals.createToken(req.ctx, (req.params as { name: string }).name, (req.body ?? {}) as S.TokenCreate);
  });
  app.get('/api/v1/users/:name/tokens', { schema: { tags, params: S.NameParam, response: { 200: Type.Object({ tokens: Type.Array(S.TokenOut) }) } } }, async (req) => ({
    tokens: await principals.listTokens(req.ctx, (req.params as { name: string }).name),
  }));
  app.delete('/api/v1/tokens/:id', { schema: { tags, params: Type.Object({ id: Type.String() }) } }, async (req, reply) => {
    await principals.revokeToken(req.ctx, (req.params as { id: string }).id);
    reply.code(204);
  });

  // Roles, personas, elevation
  app.get('/api/v1/workspaces/:name/roles', { schema: { tags, params: S.NameParam, response: { 200: Type.Object({ assignments: Type.Array(S.RoleAssignment) }) } } }, async (req) => ({
    assignments: await grants.assignments(req.ctx, (req.params as { name: string }).name),
  }));
  app.post('/api/v1/workspaces/:name/roles', { schema: { tags, params: S.NameParam, body: S.RoleAssign } }, async (req, reply) => {
    const b = req.body as S.RoleAssign;
    await grants.assign(req.ctx, (req.params as { name: string }).name, b.principal, b.role);
    reply.code(204);
  });
  const RoleParams = Type.Object({ name: Type.String(), principal: Type.String(), role: Type.String() });
  app.delete('/api/v1/workspaces/:name/roles/:principal/:role', { schema: { tags, params: RoleParams } }, async (req, reply) => {
    const p = req.params as { name: string; principal: string; role: string };
    await grants.remove(req.ctx, p.name, p.principal, p.role);
    reply.code(204);
  });
  app.get('/api/v1/personas', { schema: { tags } }, async () => ({ personas: grants.personaTemplates() }));
  app.post('/api/v1/personas/bindings', { schema: { tags, body: S.PersonaApply } }, async (req, reply) => {
    const b = req.body as S.PersonaApply;
    await grants.applyPersona(req.ctx, b.principal, b.persona, b.project);
    reply.code(204);
  });
  app.delete('/api/v1/personas/bindings', { schema: { tags, body: S.PersonaApply } }, async (req, reply) => {
    const b = req.body as S.PersonaApply;
    await grants.removePersona(req.ctx, b.principal, b.persona, b.project);
    reply.code(204);
  });
  app.get('/api/v1/users/:name/personas', { schema: { tags, params: S.NameParam } }, async (req) => ({
    bindings: await grants.bindings(req.ctx, (req.params as { name: string }).name),
  }));
  app.post('/api/v1/workspaces/:name/elevations', { schema: { tags, params: S.NameParam, body: S.ElevationCreate } }, async (req, reply) => {
    reply.code(201);
    return grants.elevate(req.ctx, (req.params as { name: string }).name, req.body as S.ElevationCreate);
  });

  // Audit
  const auditTags = ['audit'];
  app.get('/api/v1/audit', { schema: { tags: auditTags, querystring: S.AuditQuery, response: { 200: Type.Object({ records: Type.Array(S.AuditRecord) }) } } }, async (req) => ({
    records: await auditTrail.list(req.ctx, req.query as S.AuditQuery),
  }));
  app.get('/api/v1/audit/verify', { schema: { tags: auditTags, response: { 200: S.AuditVerdict } } }, async (req) => auditTrail.verify(req.ctx));
}
