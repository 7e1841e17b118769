import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ticker } from '../../src/shared/ticker.js';
import { until } from '../helpers/process.js';

describe('Ticker: the loop under background parts', () => {
  it('never overlaps passes, runs once more when kicked mid-pass, and stop waits for the pass in progress', async () => {
    let inPass = 0;
    let most = 0;
    let passes = 0;
    let release: (() => void) | undefined;
    const ticker = new Ticker(60_000, async () => {
      inPass++;
      most = Math.max(most, inPass);
      passes++;
      await new Promise<void>((r) => (release = r));
      inPass--;
    });
    ticker.start();
    await until('first pass', async () => passes === 1);
    void ticker.kick();
    void ticker.kick();
    release!();
    await until('one more pass for the kicks', async () => passes === 2);
    assert.equal(most, 1);
    let stopped = false;
    const stopping = ticker.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'stop waits for the pass in progress');
    release!();
    await stopping;
    assert.equal(passes, 2, 'no pass after stop');
    await ticker.kick();
    assert.equal(passes, 2, 'a stopped ticker ignores kicks');
  });

  it('goes on after a pass that throws', async () => {
    let passes = 0;
    const ticker = new Ticker(1, async () => {
      passes++;
      throw new Error('boom');
    });
    ticker.start();
    await until('three passes', async () => passes >= 3);
    await ticker.stop();
  });
});
