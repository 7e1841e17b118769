import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCliTestApp, type CliTestApp } from '../helpers/app.js';
import { CSV, parquetFile, sha256 } from './fixtures.js';

// The CLI is a client of the HTTP API, whose store behaviour http.test.ts checks on
// both drivers; each child process costs a second or more, so this runs on PGlite only.
for (const driver of ['pglite'] as const) {
  describe(`slipway dataset CLI against a real server [${driver}]`, () => {
    let t: CliTestApp;
    let dir: string;
    const run = (...args: string[]) => t.cli(args);

    before(async () => {
      t = await startCliTestApp(driver);
      dir = t.home;
      // Big enough to stream in many chunks, so the progress lines have steps to show.
      const rows = ['id,value,label'];
      for (let i = 0; i < 40_000; i++) rows.push(`${i},${i / 7},row-${i}`);
      writeFileSync(join(dir, 'big.csv'), rows.join('\n') + '\n');
      writeFileSync(join(dir, 'sensor.parquet'), parquetFile());
    });
    after(() => t.close());

    it('uploads with progress, and prints the new version', async () => {
      const r = await run('dataset', 'upload', 'big', join(dir, 'big.csv'), '--source', 'generated', '--refresh', '1h', '--description', 'made by the test');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /version\s*│?\s*1/);
      assert.match(r.stdout, /datasets:\/big\/1/);
      assert.match(r.stdout, /40000/);
      // stderr is a pipe here: plain percentage lines, ending at 100%
      const lines = r.stderr.trim().split('\n');
      assert.ok(lines.length >= 3, r.stderr);
      assert.equal(lines.at(-1), 'upload big.csv: 100%');
      assert.ok(lines.every((l) => /^upload big\.csv: \d+%$/.test(l)), r.stderr);

      const json = await run('-o', 'json', 'dataset', 'upload', 'sensor', join(dir, 'sensor.parquet'));
      assert.equal(json.code, 0, json.stderr);
      const v = JSON.parse(json.stdout);
      assert.equal(v.format, 'parquet');
      assert.equal(v.sha256, sha256(readFileSync(join(dir, 'sensor.parquet'))));
      assert.equal(v.rowCount, 4);
    });

    it('lists and shows datasets with the schema as a table', async () => {
      // (uploaded over HTTP: every child process costs a second or more)
      assert.equal((await t.call({ method: 'POST', url: '/api/v1/workspaces/default/datasets/people/versions?filename=people.csv', payload: CSV, headers: { 'content-type': 'text/csv' } })).statusCode, 201);
      const ls = await run('dataset', 'ls');
      assert.equal(ls.code, 0, ls.stderr);
      for (const n of ['big', 'people', 'sensor']) assert.match(ls.stdout, new RegExp(n));
      assert.match(ls.stdout, /1h/);

      const show = await run('dataset', 'show', 'people');
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /schema of version 1 \(people\.csv\)/);
      assert.match(show.stdout, /measured_at\s*│\s*datetime\s*│\s*true/);
      assert.match(show.stdout, /id\s*│\s*integer\s*│\s*false/);
    });

    it('downloads byte-identical to a file', async () => {
      const out = join(dir, 'copy.csv');
      const r = await run('dataset', 'download', 'people', '1', '-O', out);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readFileSync(out).equals(CSV));
      assert.match(r.stderr, /wrote .*copy\.csv: datasets:\/people\/1/);
    });

    it('reports a bad file with the server’s line number and exits non-zero', async () => {
      // A big file that goes wrong on line 3: the server reads on to the end, so the client still gets the 400.
      writeFileSync(join(dir, 'big-ragged.csv'), 'a,b\n1,2\n3\n' + '4,5\n'.repeat(1_000_000));
      const big = await run('dataset', 'upload', 'ragged', join(dir, 'big-ragged.csv'));
      assert.equal(big.code, 1);
      assert.match(big.stderr, /400 invalid: body: line 3 \(row 2\)/);
    });
  });
}
