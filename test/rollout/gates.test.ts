import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evidence, failure, readGates, type DeploymentWindow } from '../../src/rollout/gates.js';

const w = (x: Partial<DeploymentWindow> & { mirror?: Partial<DeploymentWindow['mirror']> } = {}): DeploymentWindow => ({
  requests: 0,
  errors5xx: 0,
  p95Ms: null,
  p99Ms: null,
  ...x,
  mirror: { compared: 0, exactMatches: 0, absDiffSum: 0, ...(x.mirror ?? {}) },
});
const at = { from: 0, to: 10_000 };

describe('rollout gates', () => {
  it('compares error rates with the stable relatively, with one request of slack', () => {
    const gates = { errorRateTolerance: 0.5 };
    // stable 2%: the candidate may reach 3% + 1/200.
    assert.equal(failure(readGates(gates, false, w({ requests: 200, errors5xx: 7 }), w({ requests: 1000, errors5xx: 20 }), at)), null);
    assert.match(failure(readGates(gates, false, w({ requests: 200, errors5xx: 8 }), w({ requests: 1000, errors5xx: 20 }), at))!, /error rate vs stable 0.04 > 0.035/);
    // A single error against a clean stable is not yet a trend.
    assert.equal(failure(readGates(gates, false, w({ requests: 100, errors5xx: 1 }), w({ requests: 900 }), at)), null);
  });

  it('reads latency against absolute limits and the stable, p95 and p99', () => {
    const r = readGates({ maxP95Ms: 50, latencyTolerance: 0.2 }, false, w({ requests: 50, p95Ms: 30, p99Ms: 80 }), w({ requests: 50, p95Ms: 26, p99Ms: 60 }), at);
    assert.deepEqual(r.gates.map((g) => [g.gate, g.ok]), [['maxP95Ms', true], ['latencyTolerance', true], ['latencyTolerance', false]]);
    assert.match(failure(r)!, /p99 ms vs stable 80 > 72/);
  });

  it('judges a shadow candidate by its mirrored requests and their agreement', () => {
    const cand = w({ mirror: { compared: 100, exactMatches: 96, absDiffSum: 0.5, requests: 100, errors5xx: 10, p95Ms: 5, p99Ms: 6 } });
    const r = readGates({ maxErrorRate: 0.05, minAgreement: 0.95, maxMeanAbsDiff: 0.01 }, true, cand, w({ requests: 500 }), at);
    assert.equal(r.candidate.requests, 100);
    assert.equal(r.agreement, 0.96);
    assert.equal(r.meanAbsDiff, 0.005);
    assert.equal(evidence(r), 100);
    assert.equal(failure(r), 'gate failed: error rate 0.1 > 0.05');
  });

  it('passes a gate with no data and says so', () => {
    const r = readGates({ maxErrorRate: 0.01, minAgreement: 0.9, errorRateTolerance: 0.1 }, true, w(), w(), at);
    assert.equal(failure(r), null);
    assert.deepEqual(r.gates.map((g) => g.text), ['error rate: no data', 'error rate vs stable: no data', 'agreement: no data']);
  });
});
