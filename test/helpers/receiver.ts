import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** What a loopback receiver got: the raw body (signatures cover its exact bytes) and when. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

/**
 * A real HTTP receiver on loopback for notification tests. `answer(path, n)`
 * picks the status of the n-th request (1-based) to that path; default 200.
 */
export interface Receiver {
  url: string;
  received: Received[];
  on(path: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(answer: (path: string, n: number) => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* not JSON: kept as text */
      }
      received.push({ path, headers: req.headers, body, json, at: Date.now() });
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const status = answer(path, n);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'receiver says no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path) => received.filter((r) => r.path === path),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
