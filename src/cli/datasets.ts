import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { ApiClient, CliError, enc } from './client.js';
import { fmt, printObject, printRows } from './output.js';
import { Progress } from './progress.js';

type Obj = Record<string, unknown>;
interface Column {
  name: string;
  type: string;
  nullable: boolean;
}
interface Version extends Obj {
  version: number;
  uri: string;
  format: string;
  filename: string;
  sha256: string;
  size: number;
  rowCount: number;
  schema: { columns: Column[] };
}
interface Dataset extends Obj {
  name: string;
  latestVersion: number | null;
  versions: Version[];
}

const MEDIA_TYPES: Record<string, string> = { csv: 'text/csv', jsonl: 'application/x-ndjson', parquet: 'application/vnd.apache.parquet' };
const wsOption = ['-w, --workspace <workspace>', 'workspace', 'default'] as const;

const datasetPath = (ws: string, name: string) => `/api/v1/workspaces/${enc(ws)}/datasets/${enc(name)}`;

export function registerDatasetCommands(program: Command) {
  const ds = program.command('dataset').description('versioned data assets (CSV, JSONL, Parquet) with digest, schema and owner');

  ds.command('upload <name> <file>')
    .description('upload FILE as a new version of dataset NAME (created by its first upload); prints the new version')
    .option(...wsOption)
    .option('--source <source>', 'where the data comes from: free text or a URI')
    .option('--description <text>', 'what the data is')
    .option('--refresh <frequency>', "how often it is refreshed: daily, 1h, '0 3 * * *', …")
    .option('--format <format>', 'csv | jsonl | parquet (default: from the file extension)')
    .action(async (name: string, file: string, o: { workspace: string; source?: string; description?: string; refresh?: string; format?: string }, cmd: Command) => {
      const size = fileSize(file);
      const query = new URLSearchParams({ filename: basename(file) });
      for (const [k, v] of [['format', o.format], ['source', o.source], ['description', o.description], ['refreshFrequency', o.refresh]] as const) if (v !== undefined) query.set(k, v);
      const ext = basename(file).split('.').pop()?.toLowerCase() ?? '';
      const type = MEDIA_TYPES[o.format ?? ''] ?? MEDIA_TYPES[ext === 'ndjson' ? 'jsonl' : ext] ?? 'application/octet-stream';
      const progress = new Progress(`upload ${basename(file)}`, size);
      const body = createReadStream(file).pipe(progress.meter());
      const v = await ApiClient.fromEnv().upload<Version>(`${datasetPath(o.workspace, name)}/versions?${query}`, body, type);
      progress.finish();
      if (fmt(cmd) === 'json') return printObject('json', v);
      printObject('table', { dataset: name, version: v.version, uri: v.uri, format: v.format, rows: v.rowCount, bytes: v.size, sha256: v.sha256 });
    });

  ds.command('ls')
    .description('list the datasets of a workspace')
    .option(...wsOption)
    .action(async (o: { workspace: string }, cmd: Command) => {
      const r = await ApiClient.fromEnv().get<{ datasets: Obj[] }>(`/api/v1/workspaces/${enc(o.workspace)}/datasets`);
      printRows(fmt(cmd), r.datasets, ['name', 'latestVersion', 'owner', 'refreshFrequency', 'source', 'updatedAt'], r);
    });

  ds.command('show <name>')
    .description('show a dataset, its versions and the schema of one version (the latest by default)')
    .option(...wsOption)
    .option('--version <version>', "version whose schema to show (a number or 'latest')", 'latest')
    .action(async (name: string, o: { workspace: string; version: string }, cmd: Command) => {
      const api = ApiClient.fromEnv();
      const d = await api.get<Dataset>(datasetPath(o.workspace, name));
      const v = await api.get<Version>(`${datasetPath(o.workspace, name)}/versions/${enc(o.version)}`);
      if (fmt(cmd) === 'json') return printObject('json', o.version === 'latest' ? d : v);
      const { versions, ...info } = d;
      printObject('table', info);
      process.stdout.write('\nversions\n');
      printRows('table', versions.map((x) => ({ ...x, rows: x.rowCount, bytes: x.size, sha256: x.sha256.slice(0, 16) })), ['version', 'format', 'rows', 'bytes', 'sha256', 'createdBy', 'createdAt']);
      process.stdout.write(`\nschema of version ${v.version} (${v.filename})\n`);
      printRows('table', v.schema.columns as unknown as Obj[], ['name', 'type', 'nullable']);
    });

  ds.command('download <name> <version>')
    .description("download a version's file, byte-identical (to stdout unless --out-file); the sha256 is checked")
    .option(...wsOption)
    .option('-O, --out-file <file>', 'write to this file instead of stdout (-o is the output format)')
    .action(async (name: string, version: string, o: { workspace: string; outFile?: string }) => {
      const api = ApiClient.fromEnv();
      const v = await api.get<Version>(`${datasetPath(o.workspace, name)}/versions/${enc(version)}`);
      const body = await api.download(`${datasetPath(o.workspace, name)}/versions/${v.version}/content`);
      const hash = createHash('sha256');
      const tap = new Transform({
        transform: (chunk: Buffer, _e, cb) => {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      // Into a temp name first: a failed or corrupt download never leaves a file that looks complete.
      const partial = o.outFile ? `${o.outFile}.partial` : undefined;
      await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), tap, partial ? createWriteStream(partial) : process.stdout);
      const got = hash.digest('hex');
      if (got !== v.sha256) {
        if (partial) await rm(partial, { force: true });
        throw new CliError(`downloaded bytes have sha256 ${got}, expected ${v.sha256}`);
      }
      if (o.outFile && partial) {
        await rename(partial, o.outFile);
        process.stderr.write(`wrote ${o.outFile}: ${v.uri}, ${v.size} bytes, sha256 ${v.sha256}\n`);
      }
    });
}

function fileSize(file: string): number {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new CliError(`${file} is not a file`);
    return st.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
