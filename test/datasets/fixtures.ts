import { createHash } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** Small files of every supported format, made in the test run (nothing downloaded). */

export const CSV = Buffer.from(
  [
    'id,score,passed,name,measured_at,comment',
    '1,0.5,true,alice,2024-05-01,',
    '2,1.25,false,"bob, jr.",2024-05-02T10:00:00Z,"said ""hi"""',
    '3,,TRUE,carol,2024-05-03,ok',
    '4,2,false,dave,,',
  ].join('\r\n') + '\r\n',
);

export const CSV_COLUMNS = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'score', type: 'number', nullable: true },
  { name: 'passed', type: 'boolean', nullable: false },
  { name: 'name', type: 'string', nullable: false },
  { name: 'measured_at', type: 'datetime', nullable: true },
  { name: 'comment', type: 'string', nullable: true },
];

export const JSONL = Buffer.from(
  [
    JSON.stringify({ user: 'u1', age: 31, premium: true, joined: '2023-01-02T03:04:05Z', tags: ['a'] }),
    JSON.stringify({ user: 'u2', age: 45, premium: false, joined: '2023-02-03T00:00:00Z' }),
    JSON.stringify({ user: 'u3', age: null, premium: true, joined: '2023-03-04T00:00:00Z', tags: [] }),
  ].join('\n') + '\n',
);

export const JSONL_COLUMNS = [
  { name: 'user', type: 'string', nullable: false },
  { name: 'age', type: 'integer', nullable: true },
  { name: 'premium', type: 'boolean', nullable: false },
  { name: 'joined', type: 'datetime', nullable: false },
  { name: 'tags', type: 'string', nullable: true },
];

export function parquetFile(): Buffer {
  const ab = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: [1n, 2n, 3n, 4n], type: 'INT64', nullable: false },
      { name: 'count', data: [10, 20, 30, 40], type: 'INT32' },
      { name: 'x', data: [1.5, null, 2, -0.25], type: 'DOUBLE' },
      { name: 'ok', data: [true, false, true, false], type: 'BOOLEAN' },
      { name: 'label', data: ['a', 'b', null, 'd'], type: 'STRING' },
      { name: 'at', data: [new Date(0), new Date(86_400_000), new Date(2 * 86_400_000), new Date(3 * 86_400_000)], type: 'TIMESTAMP' },
    ],
    rowGroupSize: 3, // two row groups, so reading goes group by group
  });
  return Buffer.from(ab);
}

export const PARQUET_COLUMNS = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'count', type: 'integer', nullable: false },
  { name: 'x', type: 'number', nullable: true },
  { name: 'ok', type: 'boolean', nullable: false },
  { name: 'label', type: 'string', nullable: true },
  { name: 'at', type: 'datetime', nullable: false },
];

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
