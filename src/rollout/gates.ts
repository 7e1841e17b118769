import type { Gates } from './schema.js';

/** What a deployment did over a window, as telemetry's deploymentWindow answers (mirror details are optional extras). */
export interface DeploymentWindow {
  requests: number;
  errors5xx: number;
  p95Ms: number | null;
  p99Ms: number | null;
  mirror: { compared: number; exactMatches: number; absDiffSum: number; requests?: number; errors5xx?: number; p95Ms?: number | null; p99Ms?: number | null };
}

/** Where gate numbers come from: the telemetry service in production, a stub in tests. */
export interface WindowSource {
  deploymentWindow(endpointId: number, deployment: string, fromMs: number, toMs: number): Promise<DeploymentWindow>;
}

export interface SideReading {
  requests: number;
  errorRate: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface GateReading {
  gate: keyof Gates;
  value: number | null;
  limit: number;
  ok: boolean;
  /** For people and the endpoint history: "error rate 0.21 > 0.05". */
  text: string;
}

export interface GateReadings {
  from: number;
  to: number;
  candidate: SideReading;
  stable: SideReading;
  compared: number;
  agreement: number | null;
  meanAbsDiff: number | null;
  gates: GateReading[];
}

const round = (v: number | null, digits = 4) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/**
 * A deployment's side of the window. In a shadow step the candidate answers
 * mirrored requests only, so its counts are the mirrored ones when the
 * source reports them.
 */
function side(w: DeploymentWindow, mirrored: boolean): SideReading {
  const m = w.mirror;
  const useMirror = mirrored && m.requests !== undefined;
  const requests = useMirror ? m.requests! : w.requests;
  const errors = useMirror ? (m.errors5xx ?? 0) : w.errors5xx;
  return {
    requests,
    errorRate: requests ? round(errors / requests) : null,
    p95Ms: useMirror ? (m.p95Ms ?? null) : w.p95Ms,
    p99Ms: useMirror ? (m.p99Ms ?? null) : w.p99Ms,
  };
}

/** Requests the candidate has seen in the window: what minRequests and the gate threshold count. */
export const evidence = (r: GateReadings) => Math.max(r.candidate.requests, r.compared);

/**
 * Reads every gate of a step over one window. A gate with nothing to read
 * (no candidate requests, no stable to compare with) passes and says so:
 * a step that must see traffic sets minRequests.
 */
export function readGates(gates: Gates, shadow: boolean, cand: DeploymentWindow, stab: DeploymentWindow, window: { from: number; to: number }): GateReadings {
  const c = side(cand, shadow);
  const s = side(stab, false);
  const compared = cand.mirror.compared;
  const agreement = compared ? round(cand.mirror.exactMatches / compared) : null;
  const meanAbsDiff = compared ? round(cand.mirror.absDiffSum / compared, 6) : null;
  const out: GateReading[] = [];
  const check = (gate: keyof Gates, what: string, value: number | null, limit: number, worse: (v: number, l: number) => boolean) => {
    // Compared at six digits: 0.02 * 1.5 + 0.005 must equal 7/200, as it does on paper.
    const ok = value === null || !worse(round(value, 6)!, round(limit, 6)!);
    const op = ok ? (worse === above ? '<=' : '>=') : worse === above ? '>' : '<';
    out.push({ gate, value, limit: round(limit)!, ok, text: value === null ? `${what}: no data` : `${what} ${round(value)} ${op} ${round(limit)}` });
  };
  if (gates.maxErrorRate !== undefined) check('maxErrorRate', 'error rate', c.errorRate, gates.maxErrorRate, above);
  if (gates.errorRateTolerance !== undefined) {
    // One request of slack: against a stable with no errors, a single candidate error is not yet a trend.
    const limit = s.errorRate === null || !c.requests ? null : s.errorRate * (1 + gates.errorRateTolerance) + 1 / c.requests;
    check('errorRateTolerance', 'error rate vs stable', limit === null ? null : c.errorRate, limit ?? 0, above);
  }
  if (gates.maxP95Ms !== undefined) check('maxP95Ms', 'p95 ms', c.p95Ms, gates.maxP95Ms, above);
  if (gates.maxP99Ms !== undefined) check('maxP99Ms', 'p99 ms', c.p99Ms, gates.maxP99Ms, above);
  if (gates.latencyTolerance !== undefined) {
    const tol = 1 + gates.latencyTolerance;
    check('latencyTolerance', 'p95 ms vs stable', s.p95Ms === null ? null : c.p95Ms, (s.p95Ms ?? 0) * tol, above);
    check('latencyTolerance', 'p99 ms vs stable', s.p99Ms === null ? null : c.p99Ms, (s.p99Ms ?? 0) * tol, above);
  }
  if (gates.minAgreement !== undefined) check('minAgreement', 'agreement', agreement, gates.minAgreement, below);
  if (gates.maxMeanAbsDiff !== undefined) check('maxMeanAbsDiff', 'mean abs diff', meanAbsDiff, gates.maxMeanAbsDiff, above);
  return { ...window, candidate: c, stable: s, compared, agreement, meanAbsDiff, gates: out };
}

function above(v: number, limit: number) {
  return v > limit;
}
function below(v: number, limit: number) {
  return v < limit;
}

/** The first failing gate, as "gate failed: error rate 0.21 > 0.05"; null when all pass. */
export function failure(r: GateReadings): string | null {
  const bad = r.gates.filter((g) => !g.ok);
  return bad.length ? `gate failed: ${bad.map((g) => g.text).join('; ')}` : null;
}
