import { Ticker } from '../../shared/ticker.js';
import type { AlertNotification } from '../notification.js';
import type { AlertDeliveryConfig } from './config.js';
import { render, type Outgoing } from './payloads.js';
import type { ChannelStore } from './store.js';
import type { ChannelRow, DeliveryRow, DeliveryState } from './tables.js';

export interface PostResult {
  statusCode: number | null;
  error: string;
  durationMs: number;
  ok: boolean;
  /** A network error, a timeout, 408, 425, 429 or a 5xx: worth another try. Other 4xx and 3xx are not. */
  retryable: boolean;
}

const MAX_DELAY_MS = 15 * 60_000;
/** Longer than any attempt can take, so a claim lapses only when its worker died. */
export const leaseMs = (cfg: AlertDeliveryConfig) => cfg.timeoutMs + 30_000;

/**
 * The delay after failed attempt `n` (1-based): base·2^(n-1), capped, with
 * "equal jitter" (between half and all of it), so retries of many
 * deliveries spread out yet each delay is never shorter than the one before.
 */
export function backoffMs(n: number, baseMs: number, random = Math.random): number {
  const d = Math.min(MAX_DELAY_MS, baseMs * 2 ** (n - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/** The start of a response body, for the log: a receiver's answer is never read whole. */
async function head(res: Response, max = 512): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8').trim();
}

/** One POST with a time limit; redirects are not followed (a receiver moved is a configuration error to see). */
export async function post(url: string, out: Outgoing, timeoutMs: number): Promise<PostResult> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, { method: 'POST', headers: out.headers, body: out.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const text = await head(res).catch(() => '');
    const ok = res.status >= 200 && res.status < 300;
    const retryable = res.status >= 500 || [408, 425, 429].includes(res.status);
    return { statusCode: res.status, ok, retryable, durationMs: took(), error: ok ? '' : `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const error = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { statusCode: null, ok: false, retryable: true, durationMs: took(), error };
  }
}

/**
 * Makes the attempt a claimed delivery stands for and records it: delivered,
 * retried later with backoff, or failed for good. Never throws for a
 * receiver's failure.
 */
export async function attempt(store: ChannelStore, cfg: AlertDeliveryConfig, d: DeliveryRow, now = Date.now): Promise<{ state: DeliveryState; error: string }> {
  const channel: ChannelRow | null = d.channel_id === null ? null : await store.byId(d.channel_id);
  if (!channel) {
    const error = `channel '${d.channel}' was deleted`;
    await store.fail(d.id, d.attempts, error, now());
    return { state: 'failed', error };
  }
  const at = now();
  const out = render(channel, JSON.parse(d.notification) as AlertNotification, d.id, at);
  const r = await post(channel.url, out, cfg.timeoutMs);
  const again = !r.ok && r.retryable && d.attempts < cfg.maxAttempts;
  const retryIn = again ? backoffMs(d.attempts, cfg.retryBaseMs) : null;
  const error = r.ok ? '' : again || !r.retryable ? r.error : `${r.error} (gave up after ${d.attempts} attempts)`;
  const state = r.ok ? 'delivered' : again ? 'pending' : 'failed';
  await store.finishAttempt(
    { delivery_id: d.id, attempt: d.attempts, at, status_code: r.statusCode, error: r.error, duration_ms: r.durationMs, retry_in_ms: retryIn },
    { state, nextAttemptAt: again ? now() + retryIn! : at + r.durationMs, error },
  );
  return { state, error };
}

/**
 * The worker's delivery loop: claims due outbox rows and POSTs them, a
 * batch at a time, until none is due, then sleeps a poll. Any number of
 * loops may run on one store; each delivery is claimed by one of them.
 */
export class DeliveryLoop {
  private readonly ticker: Ticker;
  private trimmedAt = 0;

  constructor(
    private readonly store: ChannelStore,
    private readonly opts: AlertDeliveryConfig & { log: (msg: string) => void; batch?: number; retentionMs?: number },
  ) {
    this.ticker = new Ticker(opts.pollMs, () => this.tick());
  }

  private get stopped(): boolean {
    return !this.ticker.running;
  }

  start(): void {
    this.ticker.start();
  }

  /** Sends everything due now; never throws. */
  async tick(): Promise<void> {
    const batch = this.opts.batch ?? 16;
    try {
      await this.trim();
      while (!this.stopped) {
        const claimed = await this.store.claim(Date.now(), leaseMs(this.opts), batch);
        await Promise.all(claimed.map((d) => this.send(d)));
        if (claimed.length < batch) return;
      }
    } catch (e) {
      if (!this.stopped) this.opts.log(`alert delivery: ${(e as Error).message}`);
    }
  }

  private async send(d: DeliveryRow): Promise<void> {
    try {
      const r = await attempt(this.store, this.opts, d);
      // Retries are in the delivery log; a notification given up on is worth an operator's attention here too.
      if (r.state === 'failed') this.opts.log(`alert notification ${d.id} to channel '${d.channel}' failed: ${r.error}`);
    } catch (e) {
      this.opts.log(`alert delivery ${d.id}: ${(e as Error).message}`);
    }
  }

  /** Finished deliveries older than the retention are deleted, at most every ten minutes per loop. */
  private async trim(): Promise<void> {
    if (!this.opts.retentionMs || Date.now() - this.trimmedAt < 600_000) return;
    this.trimmedAt = Date.now();
    await this.store.trimFinished(Date.now() - this.opts.retentionMs).catch((e: Error) => this.opts.log(`alert delivery log trim: ${e.message}`));
  }

  /** Stops claiming and waits for the attempts in flight (each bounded by the timeout). */
  stop(): Promise<void> {
    return this.ticker.stop();
  }
}
