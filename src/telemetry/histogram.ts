/**
 * A fixed log-scale latency histogram: the same bucket bounds in every
 * gateway replica, so histograms merge by adding counts element-wise and
 * percentiles are computed when reading. Four buckets per doubling from
 * 0.1 ms to ~105 s keep a percentile within ~10% of the true value.
 */
const MIN_MS = 0.1;
const PER_DOUBLING = 4;
export const BUCKETS = 82;

/** Bucket 0 holds latencies under MIN_MS; the last one everything above its lower bound. */
export function bucketOf(ms: number): number {
  if (!(ms >= MIN_MS)) return 0;
  const i = Math.floor(Math.log2(ms / MIN_MS) * PER_DOUBLING) + 1;
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** Lower and upper bound (ms) of a bucket. */
function bounds(i: number): [number, number] {
  if (i === 0) return [0, MIN_MS];
  return [MIN_MS * 2 ** ((i - 1) / PER_DOUBLING), MIN_MS * 2 ** (i / PER_DOUBLING)];
}

export function emptyHistogram(): number[] {
  return new Array<number>(BUCKETS).fill(0);
}

export function addInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < BUCKETS; i++) into[i] += from[i] ?? 0;
}

/** The q-quantile (0..1) in ms, as the geometric middle of its bucket; null when empty. */
export function quantile(hist: readonly number[], q: number): number | null {
  let total = 0;
  for (const c of hist) total += c;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= rank) {
      const [lo, hi] = bounds(i);
      return i === 0 ? hi : Math.sqrt(lo * hi);
    }
  }
  return bounds(hist.length - 1)[1];
}
