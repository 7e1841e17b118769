import { createServer, type Server } from 'node:http';

/**
 * An Open Inference Protocol server for model 'lr' (input [-1, 4], output
 * [-1, 1]) that answers every `failEvery`-th inference with a 500 and the
 * others with 0.5 per row; `failEvery: 0` never fails. For `http` runtime
 * deployments with a known error rate.
 */
export function flakyModel(failEvery: number): Promise<{ server: Server; url: string; setFailEvery(n: number): void }> {
  const meta = { name: 'lr', platform: 'test', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 1] }] };
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/v2/health/ready' || req.url === '/v2/health/live') return send(200, { ready: true });
      if (req.url === '/v2/models/lr') return send(200, meta);
      if (req.method !== 'POST') return send(404, { error: `no model at ${req.url}` });
      if (failEvery && ++n % failEvery === 0) return send(500, { error: 'model exploded' });
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { inputs?: Array<{ shape: number[] }> };
      const rows = body.inputs?.[0]?.shape?.[0] ?? 1;
      send(200, { model_name: 'lr', outputs: [{ name: 'output', datatype: 'FP32', shape: [rows, 1], data: Array(rows).fill(0.5) }] });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, setFailEvery: (k) => void (failEvery = k) })),
  );
}
