import { FEATURES } from './data.js';

/** What a stream of /score requests met: answers per deployment, failures. */
export interface TrafficCount {
  sent: number;
  byDeployment: Record<string, number>;
  failed: number;
  lastError: string;
}

/**
 * A client application calling `POST /endpoints/{name}/score` with the
 * endpoint key, one request at a time (the demo shares a small machine with
 * the platform it drives), each a `dataframe_split` of some rows.
 */
export class Traffic {
  readonly count: TrafficCount = { sent: 0, byDeployment: {}, failed: 0, lastError: '' };
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly url: string,
    private readonly endpoint: string,
    private readonly key: string,
  ) {}

  /** Answers whether the endpoint serves yet; not counted as traffic. */
  ready(rows: number[][]): Promise<boolean> {
    return this.call(rows).then(
      async (r) => (await r.arrayBuffer(), r.ok),
      () => false,
    );
  }

  /** One request; answers the deployment that served it, or throws with the status and body. */
  async score(rows: number[][]): Promise<string> {
    this.count.sent += 1;
    const res = await this.call(rows).catch((e: Error) => e);
    if (res instanceof Error) return this.failed(`cannot reach the endpoint: ${res.message}`);
    const text = await res.text();
    if (!res.ok) return this.failed(`${res.status} ${text.slice(0, 200)}`);
    const d = res.headers.get('x-slipway-deployment') ?? '?';
    this.count.byDeployment[d] = (this.count.byDeployment[d] ?? 0) + 1;
    return d;
  }

  /** Sends `rows()` in a loop, pausing `gapMs` between requests, until `stop`. */
  start(rows: () => number[][], gapMs = 20): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        await this.score(rows()).catch(() => undefined);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = undefined;
  }

  private call(rows: number[][]): Promise<Response> {
    return fetch(`${this.url}/endpoints/${encodeURIComponent(this.endpoint)}/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns: FEATURES, data: rows } }),
    });
  }

  private failed(message: string): never {
    this.count.failed += 1;
    this.count.lastError = message;
    throw new Error(message);
  }
}
