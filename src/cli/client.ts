import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

/** Where the CLI keeps its login (mode 0600). */
export function configPath(env = process.env): string {
  if (env.SLIPWAY_CONFIG) return env.SLIPWAY_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'slipway', 'config.json');
}

export interface Login {
  url: string;
  token: string;
}

export function readLogin(env = process.env): Partial<Login> {
  try {
    return JSON.parse(readFileSync(configPath(env), 'utf8')) as Partial<Login>;
  } catch {
    return {};
  }
}

export function writeLogin(login: Login, env = process.env): string {
  const file = configPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** A failure the CLI reports in a line or two, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** SLIPWAY_URL and SLIPWAY_TOKEN take precedence over the saved login. */
export function resolveLogin(env = process.env): Login {
  const saved = readLogin(env);
  const url = serverUrl(env);
  // The saved token belongs to the saved server; never send it elsewhere.
  const token = env.SLIPWAY_TOKEN || (url === saved.url ? saved.token : undefined);
  if (!url || !token) {
    throw new CliError(
      !url
        ? 'not logged in: run `slipway login --url http://127.0.0.1:8080 --token "$(cat .slipway/admin-token)"` (the URL and token file `npm start` printed),\n  or set SLIPWAY_URL and SLIPWAY_TOKEN'
        : `no token for ${url}: run \`slipway login --url ${url} --token TOKEN\`, or set SLIPWAY_TOKEN`,
    );
  }
  return { url, token };
}

/** The server the CLI talks to: SLIPWAY_URL, else the saved login's; undefined when neither is set. */
export function serverUrl(env = process.env): string | undefined {
  return (env.SLIPWAY_URL || readLogin(env).url)?.replace(/\/+$/, '');
}

interface ProblemBody {
  detail?: string;
  code?: string;
  message?: string;
}

/** A thin HTTP client for the native API; errors become CliErrors carrying the server's detail. */
export class ApiClient {
  constructor(readonly login: Login) {}

  static fromEnv(env = process.env): ApiClient {
    return new ApiClient(resolveLogin(env));
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.exchange<T>(method, path, body === undefined ? undefined : JSON.stringify(body))).body;
  }

  /** Sends a JSON text as is, with extra headers; answers the parsed JSON and the response headers. */
  async exchange<T>(method: string, path: string, json?: string, headers: Record<string, string> = {}): Promise<{ body: T; headers: Headers }> {
    const res = await this.send(path, { method, headers: { ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body: json });
    return { body: (await readJson(res)) as T, headers: res.headers };
  }

  /** POSTs `body` as a stream, never buffered whole (fetch needs `duplex: 'half'` for that); answers the parsed JSON. */
  async upload<T>(path: string, body: Readable, contentType: string): Promise<T> {
    const res = await this.send(path, { method: 'POST', headers: { 'content-type': contentType }, body: Readable.toWeb(body) as ReadableStream, duplex: 'half' });
    return (await readJson(res)) as T;
  }

  /** GETs `path` for its body as a stream; a non-2xx answer throws like `request`. */
  async download(path: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.send(path, { method: 'GET' });
    if (!res.ok || !res.body) await readJson(res);
    return res.body!;
  }

  private async send(path: string, init: RequestInit & { duplex?: 'half'; headers?: Record<string, string> }): Promise<Response> {
    try {
      return await fetch(this.login.url + path, { ...init, headers: { authorization: `Bearer ${this.login.token}`, ...init.headers } });
    } catch (e) {
      throw unreachable(this.login.url, e);
    }
  }

  get<T>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}) {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body);
  }
  delete<T>(path: string, body?: unknown) {
    return this.request<T>('DELETE', path, body);
  }
}

/** A fetch that never got an answer, said as what happened and what to do next. */
function unreachable(url: string, e: unknown): CliError {
  const code = (e as { cause?: { code?: string } }).cause?.code;
  if (code === 'ECONNREFUSED') return new CliError(`no Slipway at ${url} (connection refused): start it with \`npm start\`, or set SLIPWAY_URL to where it runs`);
  const why = code ?? (e as { cause?: Error }).cause?.message ?? (e as Error).message;
  return new CliError(`cannot reach Slipway at ${url} (${why}): is it running? Start it with \`npm start\`, or set SLIPWAY_URL to where it runs`);
}

/** What to do next after an error a newcomer meets, by the server's stable code. */
function nextStep(status: number, p: ProblemBody): string {
  if (status === 401) return ' (log in again with `slipway login`)';
  if (p.code === 'not_found' && /^workspace '/.test(p.detail ?? '')) return '\n  list the workspaces with `slipway workspace ls`, and pick one with --workspace NAME';
  return '';
}

/** The parsed JSON of a 2xx answer; anything else becomes a CliError carrying the server's detail. */
async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const p = (parsed ?? {}) as ProblemBody;
    throw new CliError(`${res.status} ${p.code ?? ''}: ${p.detail ?? p.message ?? text}${nextStep(res.status, p)}`.replace(/\s+:/, ':'));
  }
  return parsed;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

export const enc = encodeURIComponent;
