import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Authorizer } from '../access/authorizer.js';
import { SESSION_COOKIE } from './auth.js';

/** Only same-site paths: `/x`, never `//host` or a scheme (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (message = '', next = '/') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slipway — sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;margin:.5rem 0;font-family:monospace}button{padding:.5rem 1rem}.err{color:#b00020}</style></head>
<body><h1>Slipway</h1><p>Paste an API token (the admin's is in <code>&lt;data-dir&gt;/admin-token</code>).</p>
${message ? `<p class="err">${message}</p>` : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${escape(next)}"><label>Token <input name="token" type="password" autocomplete="off" autofocus required></label>
<button type="submit">Sign in</button></form></body></html>`;

/** The login page: trades a token for an HttpOnly, SameSite=Strict session cookie used on GET pages. */
export async function loginRoutes(app: FastifyInstance, opts: { authz: Authorizer }) {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.get('/login', { config: { public: true }, schema: { hide: true } }, async (req, reply) =>
    reply.type('text/html').send(page('', safeNext((req.query as { next?: unknown }).next))),
  );
  app.post(
    '/login',
    { config: { public: true }, schema: { hide: true, body: Type.Object({ token: Type.String({ minLength: 1 }), next: Type.Optional(Type.String()) }) } },
    async (req, reply) => {
      const { token, next } = req.body as { token: string; next?: string };
      try {
        await opts.authz.authenticate(token);
      } catch {
        return reply.code(401).type('text/html').send(page('That token is not valid.', safeNext(next)));
      }
      reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`);
      return reply.redirect(safeNext(next), 303);
    },
  );
  app.post('/logout', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return reply.redirect('/login', 303);
  });
}
