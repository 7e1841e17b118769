// Runs s3rver in its own process for the artifact tests. s3rver encrypts its
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers
// through the legacy provider; the parent starts this file with
// --openssl-legacy-provider so the test process itself keeps default crypto.
//
// argv: <directory> <bucket>. Prints one JSON line {"port": N} once listening
// on 127.0.0.1, and exits when stdin closes (parent gone) or on SIGTERM.
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket, configs: [] }],
});

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
}

const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
