// The floor of `npm run bench:gateway`: bare node:http + onnxruntime-node, no
// auth, routing, metrics or capture. Same body (dataframe_split) and answer
// ({"predictions": [...]}) as Slipway's /score, same session options.
// argv: PORT MODEL_PATH
import { createServer } from 'node:http';
import { InferenceSession, Tensor } from 'onnxruntime-node';

const [port, modelPath] = process.argv.slice(2);
const session = await InferenceSession.create(modelPath, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
const input = session.inputNames[0];
const output = session.outputNames[0];

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const rows = body.dataframe_split.data;
      const width = rows[0].length;
      const x = new Float32Array(rows.length * width);
      rows.forEach((r, i) => x.set(r, i * width));
      const out = await session.run({ [input]: new Tensor('float32', x, [rows.length, width]) });
      const y = out[output].data;
      const predictions = [];
      for (let i = 0; i < rows.length; i++) predictions.push([y[i]]);
      const text = JSON.stringify({ predictions });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
