/** Data and a pipeline shared by the pipeline tests. */

/** Two features, y = 1 when x1 + x2 > 10 with every tenth label flipped (a fixed pseudo-random walk, so every run sees the same bytes). */
export function churnCsv(rows: number, corrupt = false): string {
  const lines = ['x1,x2,y'];
  let s = 7;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 1; i <= rows; i++) {
    const x1 = Math.round(next() * 1000) / 100;
    const x2 = Math.round(next() * 1000) / 100;
    const cells = [String(x1), String(x2), (x1 + x2 > 10) !== (i % 10 === 0) ? '1' : '0'];
    if (corrupt && i === 3) cells[0] = 'abc';
    if (corrupt && i === 5) cells[1] = '';
    if (corrupt && i === 8) cells[1] = '1e6';
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}

export const PIPELINE = {
  kind: 'Pipeline',
  name: 'churn-retrain',
  params: { algorithm: 'logistic_regression', minAccuracy: 0.7 },
  steps: [
    { name: 'validate', uses: 'validate-data', with: { dataset: 'datasets:/churn/latest', reference: 'datasets:/churn-ref/1', rangesFromReference: true } },
    { name: 'train', uses: 'train', with: { dataset: '${{ steps.validate.outputs.dataset }}', model: 'churn', spec: { task: 'classification', algorithm: '${{ params.algorithm }}', features: ['x1', 'x2'], label: 'y' } } },
    { name: 'evaluate', uses: 'evaluate', with: { model: '${{ steps.train.outputs.model }}', dataset: '${{ steps.validate.outputs.dataset }}' } },
    { name: 'compare', uses: 'compare', with: { candidate: '${{ steps.train.outputs.model }}', metrics: { accuracy: { min: '${{ params.minAccuracy }}', maxDrop: 0.05 }, log_loss: { maxDrop: 0.2 } } }, needs: ['evaluate'] },
    { name: 'promote', uses: 'set-alias', with: { model: '${{ steps.train.outputs.model }}', alias: 'champion' }, needs: ['compare'] },
  ],
};
