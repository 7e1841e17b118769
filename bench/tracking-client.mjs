import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'node:http';

/**
 * One benchmark client, in a worker thread so that building and sending
 * requests does not take CPU from the server's event loop: logs `calls`
 * log-batch requests of `batch` points each to its run over keep-alive HTTP.
 */
/** @type {{ url: string, token: string, runId: string, calls: number, batch: number, offset: number }} */
const job = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL('/api/2.0/mlflow/runs/log-batch', job.url);

/** @param {string} body */
function post(body) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`log-batch: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  const t0 = 1_700_000_000_000;
  for (let c = 0; c < job.calls; c++) {
    const metrics = new Array(job.batch);
    for (let i = 0; i < job.batch; i++) {
      const step = job.offset + c * job.batch + i;
      metrics[i] = { key: i % 2 ? 'loss' : 'acc', value: 1 / (step + 1), timestamp: t0 + step, step };
    }
    await post(JSON.stringify({ run_id: job.runId, metrics }));
  }
  agent.destroy();
  parentPort.postMessage('done');
}

main().catch((e) => {
  throw e;
});
