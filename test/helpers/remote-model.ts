import { createServer, type Server } from 'node:http';

/**
 * An Open Inference Protocol model server for model 'lr' (input [-1, 4],
 * output [-1, 1]) that is healthy and answers metadata, but whose inference
 * hangs until the server is closed (`hang`) or answers 500 (`fail`). For
 * `http` runtime deployments that time out or fail.
 */
export function remoteModel(infer: 'hang' | 'fail'): Promise<{ server: Server; url: string }> {
  const meta = { name: 'lr', platform: 'test', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1] }] };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/v2/health/ready' || req.url === '/v2/health/live') return send(200, { ready: true });
      if (req.url === '/v2/models/lr') return send(200, meta);
      if (req.method !== 'POST') return send(404, { error: `no model at ${req.url}` });
      if (infer === 'fail') return send(500, { error: 'model exploded' });
      // hang: held until the test closes the server's connections.
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}
