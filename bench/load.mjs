// Load generator for `npm run bench:gateway`, run as its own process so the
// servers it measures do not share its event loop. Keeps CONNECTIONS
// keep-alive connections busy for WARMUP + DURATION seconds, measuring only
// the DURATION part: prints 'measuring' and 'measured' around that window,
// then one JSON line: requests/s, p50, p99 (ms).
// argv: a JSON object { url, headers, body, connections, seconds, warmupSeconds }
import http from 'node:http';

const o = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
const url = new URL(o.url);
const body = Buffer.from(o.body);
const headers = { 'content-type': 'application/json', 'content-length': body.length, ...o.headers };

const latencies = [];
let errors = 0;
let measuring = false;
let stop = false;

function once() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (measuring) {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
        }
        resolve();
      });
    });
    req.on('error', () => {
      if (measuring) errors++;
      resolve();
    });
    req.end(body);
  });
}

async function connection() {
  while (!stop) await once();
}

const loops = Array.from({ length: o.connections }, connection);
await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
measuring = true;
console.log('measuring');
const started = performance.now();
await new Promise((r) => setTimeout(r, o.seconds * 1000));
measuring = false;
console.log('measured');
const elapsed = (performance.now() - started) / 1000;
stop = true;
await Promise.all(loops);
agent.destroy();
latencies.sort((a, b) => a - b);
const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
console.log(JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) }));
