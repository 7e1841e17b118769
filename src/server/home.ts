import type { FastifyInstance } from 'fastify';

const page = (user: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slipway</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>Slipway</h1><p>Signed in as <b>${user}</b>.</p>
<ul><li><a href="/docs">API reference</a></li><li><a href="/api/v1/workspaces">Workspaces (JSON)</a></li></ul>
<form method="post" action="/logout"><button>Sign out</button></form></body></html>`;

/** The landing page until the dashboard is served here. */
export async function homeRoutes(app: FastifyInstance) {
  app.get('/', { schema: { hide: true } }, async (req, reply) => reply.type('text/html').send(page(req.ctx.principal.name.replace(/[<>&"]/g, ''))));
}
