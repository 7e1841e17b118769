import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classification, rocAuc } from '../../../src/jobs/steps/metrics.js';
import { stepTable } from '../../../src/cli/pipelines.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('evaluate metrics (values as scikit-learn gives them)', () => {
  it('ROC AUC: the rank statistic, ties counted half', () => {
    close(rocAuc([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 0.75, 'roc_auc_score([0,0,1,1],[.1,.4,.35,.8])');
    close(rocAuc([false, true, false, true], [0.5, 0.5, 0.5, 0.5]), 0.5, 'all tied');
    close(rocAuc([true, true], [0.2, 0.9]), 0.5, 'one class only');
  });

  it('binary: the second class is positive', () => {
    // y = [0,1,1,0,1], predicted [0,1,0,0,1]: tp 2, fp 0, fn 1.
    const p = [0.2, 0.9, 0.4, 0.3, 0.7];
    const m = classification([0, 1, 1, 0, 1], [0, 1, 0, 0, 1], p.map((x) => [1 - x, x]), 2);
    close(m.accuracy, 0.8, 'accuracy');
    close(m.precision, 1, 'precision');
    close(m.recall, 2 / 3, 'recall');
    close(m.f1, 0.8, 'f1');
    close(m.roc_auc, 1, 'roc_auc');
    close(m.log_loss, -(Math.log(0.8) + Math.log(0.9) + Math.log(0.4) + Math.log(0.7) + Math.log(0.7)) / 5, 'log_loss');
  });

  it('more classes: macro averages, ROC AUC one-vs-rest', () => {
    const probs = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.2, 0.2, 0.6],
      [0.3, 0.4, 0.3],
    ];
    const m = classification([0, 1, 2, 0], [0, 1, 2, 1], probs, 3);
    close(m.accuracy, 0.75, 'accuracy');
    // precision per class: 1, 1/2, 1 → 5/6; recall: 1/2, 1, 1 → 5/6; f1: 2/3, 2/3, 1 → 7/9.
    close(m.precision, 5 / 6, 'precision');
    close(m.recall, 5 / 6, 'recall');
    close(m.f1, 7 / 9, 'f1');
    close(m.roc_auc, 1, 'roc_auc');
  });
});

describe('pipeline run table', () => {
  it('shows each step with state, duration, job and outputs or error', () => {
    const text = stepTable(
      {
        id: 7,
        pipeline: 'churn',
        state: 'failed',
        startedBy: 'schedule 0 3 * * * (UTC) at 2026-01-01T03:00:00.000Z',
        params: {},
        error: 'step compare failed: worse',
        createdAt: 1000,
        finishedAt: 6000,
        steps: [
          { name: 'train', uses: 'train', state: 'cached', jobId: 3, outputs: { model: 'models:/churn/2', accuracy: 0.912345 }, error: '', startedAt: 1000, finishedAt: 1000 },
          { name: 'compare', uses: 'compare', state: 'failed', jobId: 9, outputs: {}, error: 'worse', startedAt: 2000, finishedAt: 4500 },
          { name: 'promote', uses: 'set-alias', state: 'skipped', jobId: null, outputs: {}, error: '', startedAt: null, finishedAt: 5000 },
        ],
      },
      10_000,
    );
    assert.match(text, /^run 7 of churn: failed after 5\.0s \(schedule 0 3 \* \* \* \(UTC\) at 2026-01-01T03:00:00\.000Z\)\nstep compare failed: worse\n/);
    assert.match(text, /│ train +│ train +│ cached +│ 0\.0s +│ 3 +│ model=models:\/churn\/2 accuracy=0\.9123 │/);
    assert.match(text, /│ compare +│ compare +│ failed +│ 2\.5s +│ 9 +│ worse +│/);
    assert.match(text, /│ promote +│ set-alias +│ skipped +│ +│ +│ +│/);
  });
});
