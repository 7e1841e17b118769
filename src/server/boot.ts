import { createServer, type Server } from 'node:http';

/**
 * Holds the port while the store starts (a first PGlite start runs initdb,
 * which takes seconds): liveness answers at once, everything else is 503
 * with Retry-After until the real server takes the port over.
 */
export async function holdPort(host: string, port: number, role: string): Promise<{ port: number; release(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'starting', role }));
      return;
    }
    res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
    res.end(JSON.stringify({ type: 'urn:slipway:problem:unavailable', title: 'Service unavailable', status: 503, code: 'unavailable', detail: 'Slipway is starting; retry in a moment' }));
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    port: bound,
    release: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
