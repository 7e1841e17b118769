import { Invalid } from '../shared/errors.js';

/**
 * A small streaming reader and writer for POSIX ustar archives (what `tar`
 * and the CLI produce for a model directory). Only regular files and
 * directories are accepted: links and devices have no place in a model.
 * Bodies are streamed, never held whole in memory.
 */

const BLOCK = 512;

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  private buf = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : Buffer.from(r.value);
    }
    return this.buf.length >= n;
  }

  async exactly(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return null;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Up to `max` bytes (at least one unless the stream ended). */
  async some(max: number): Promise<Buffer | null> {
    if (!this.buf.length && !(await this.fill(1))) return null;
    const n = Math.min(max, this.buf.length);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

export interface TarEntry {
  path: string;
  size: number;
  /** The file's bytes; must be consumed before the next entry is read. */
  body: AsyncIterable<Uint8Array>;
}

function field(h: Buffer, off: number, len: number): string {
  const raw = h.subarray(off, off + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function octal(h: Buffer, off: number, len: number): number {
  const s = field(h, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw Invalid.field('body', 'not a tar archive (bad number field)');
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === octal(h, 148, 8);
}

/** PAX extended header records: `len key=value\n`. */
function paxPath(data: Buffer): string | undefined {
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(32, off);
    if (sp === -1) break;
    const len = Number(data.subarray(off, sp).toString());
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') return rec.slice(eq + 1);
    off += len;
  }
  return undefined;
}

/** Yields the regular files of a tar stream, in archive order. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source[Symbol.asyncIterator]());
  let longName: string | undefined;
  for (;;) {
    const h = await r.exactly(BLOCK);
    if (!h) throw Invalid.field('body', 'tar archive ends without its end-of-archive blocks');
    if (h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw Invalid.field('body', 'not a tar archive (header checksum mismatch)');
    const type = String.fromCharCode(h[156] || 48);
    const size = octal(h, 124, 12);
    const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar') ? field(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      const data = await r.exactly(padded);
      if (!data) throw Invalid.field('body', 'truncated tar archive');
      longName = type === 'L' ? field(data, 0, size) : paxPath(data.subarray(0, size));
      continue;
    }
    if (type === 'g') {
      if (!(await r.exactly(padded))) throw Invalid.field('body', 'truncated tar archive');
      continue;
    }
    if (type === '5') continue;
    if (type !== '0' && type !== '7') throw Invalid.field('body', `tar entry '${name}' is not a regular file or directory (type '${type}')`);
    let left = size;
    const body = async function* () {
      while (left > 0) {
        const chunk = await r.some(Math.min(left, 1 << 20));
        if (!chunk) throw Invalid.field('body', `truncated tar archive in '${name}'`);
        left -= chunk.length;
        yield chunk;
      }
    };
    yield { path: name.replace(/^\.\//, ''), size, body: body() };
    // Drain whatever the consumer left, then the padding.
    for await (const _ of body()) void _;
    if (padded > size && !(await r.exactly(padded - size))) throw Invalid.field('body', 'truncated tar archive');
  }
}

function header(name: string, size: number, type: '0' | 'x', mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'utf8');
  const num = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0'), off, len - 1);
  put(Buffer.byteLength(name) <= 100 ? name : name.slice(0, 90), 0, 100);
  num(type === '0' ? 0o644 : 0o644, 100, 8);
  num(0, 108, 8);
  num(0, 116, 8);
  num(size, 124, 12);
  num(mtime, 136, 12);
  h.fill(32, 148, 156);
  h.write(type, 156, 1, 'latin1');
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8);
  return h;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`);
}

export interface TarSource {
  path: string;
  size: number;
  open(): AsyncIterable<Uint8Array>;
}

/** Writes files as a ustar stream (PAX headers for long names). */
export async function* writeTar(files: TarSource[]): AsyncGenerator<Uint8Array> {
  const mtime = 0; // deterministic archives: the same files give the same bytes
  for (const f of files) {
    if (Buffer.byteLength(f.path) > 100) {
      const pax = paxRecord('path', f.path);
      yield header('PaxHeader', pax.length, 'x', mtime);
      yield pax;
      yield Buffer.alloc((BLOCK - (pax.length % BLOCK)) % BLOCK);
    }
    yield header(f.path, f.size, '0', mtime);
    let n = 0;
    for await (const chunk of f.open()) {
      n += chunk.length;
      yield chunk;
    }
    if (n !== f.size) throw new Error(`${f.path} changed size while being archived`);
    yield Buffer.alloc((BLOCK - (f.size % BLOCK)) % BLOCK);
  }
  yield Buffer.alloc(BLOCK * 2);
}
