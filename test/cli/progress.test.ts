import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { StageProgress } from '../../src/cli/progress.js';

/** A file or pipe as the progress sees it: a stream that is not a TTY. */
function sink() {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean };
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { out: s as unknown as NodeJS.WriteStream, text: () => text };
}

describe('StageProgress on a file or a pipe', () => {
  it('writes one line per stage start and end, and a detail at most once a second, without escape codes', async () => {
    const { out, text } = sink();
    const p = new StageProgress(2, out);
    p.start('upload');
    p.update('sending');
    p.update('sending'); // the same detail again: nothing
    p.update('still sending'); // within the second: dropped
    p.end('done');
    p.start('train');
    p.end('it broke', '✗');
    await new Promise((r) => setImmediate(r));
    const lines = text().trimEnd().split('\n');
    assert.equal(lines.length, 5, text());
    assert.deepEqual(lines.slice(0, 2), ['[1/2] upload', '      sending']);
    assert.match(lines[2], /^✓ \[1\/2\] upload: done \(\d+\.\ds\)$/);
    assert.equal(lines[3], '[2/2] train');
    assert.match(lines[4], /^✗ \[2\/2\] train: it broke/);
    assert.ok(!text().includes('\x1b'), 'no terminal escapes in a log');
  });
});
