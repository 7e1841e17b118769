/**
 * An endpoint's traffic split as smooth weighted round-robin (as nginx
 * does it): every run of requests gets each deployment's share as closely
 * as whole requests allow — 10% is every tenth request, spread evenly —
 * where independent random picks stray by several points over a few
 * hundred requests, and a canary's numbers with them. Each gateway replica
 * keeps its own rotation; shares add up across replicas. A new rotation
 * starts at a random phase, so replicas and rebuilt tables do not all
 * begin on the heaviest deployment.
 */
export class TrafficSplit {
  private readonly current: number[];
  private readonly total: number;

  constructor(
    readonly names: readonly string[],
    readonly weights: readonly number[],
    phase = Math.random(),
  ) {
    this.current = weights.map(() => 0);
    this.total = weights.reduce((s, w) => s + w, 0);
    for (let i = Math.floor(phase * this.total); i > 0; i--) this.next();
  }

  /** Same deployments with the same weights: the rotation can carry on. */
  sameAs(names: readonly string[], weights: readonly number[]): boolean {
    return names.length === this.names.length && names.every((n, i) => n === this.names[i] && weights[i] === this.weights[i]);
  }

  /** The next deployment's name; null when no traffic is configured. */
  next(): string | null {
    const n = this.names.length;
    if (n === 0) return null;
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.current[i] += this.weights[i];
      if (this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= this.total;
    return this.names[best];
  }
}
