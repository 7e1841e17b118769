import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { processUsage, statCpuSeconds, statusRssBytes, threadUsage, UsageAccount, usageStats } from '../../src/serving/runtimes/usage.js';

describe('runtime CPU and memory from /proc', () => {
  it('reads utime + stime after the command name, whatever it holds', () => {
    // Fields 14 and 15 (utime 250, stime 50 ticks); the name holds a space and a ')'.
    const stat = '1234 (node (x) y) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 5 1000 200';
    assert.equal(statCpuSeconds(stat), 3);
    assert.equal(statCpuSeconds('garbage'), null);
    assert.equal(statusRssBytes('Name:\tnode\nVmRSS:\t   2048 kB\nThreads:\t7\n'), 2048 * 1024);
    assert.equal(statusRssBytes('Name:\tnode\n'), null);
  });

  it('measures this process and this thread, and nothing for a pid that does not exist', () => {
    const me = processUsage(process.pid);
    assert.ok(me && me.cpuSeconds > 0 && me.memoryBytes > 1024 * 1024, JSON.stringify(me));
    const thread = threadUsage();
    assert.ok(thread && thread.cpuSeconds > 0 && thread.memoryBytes > 0, JSON.stringify(thread));
    assert.equal(processUsage(2 ** 22 + 12345), null);
  });

  it('keeps CPU across restarts and drops the memory of a dead instance', () => {
    const a = new UsageAccount();
    assert.deepEqual(usageStats([a]), {});
    a.note({ cpuSeconds: 2, memoryBytes: 100 });
    a.retire();
    a.note({ cpuSeconds: 0.5, memoryBytes: 40 });
    const b = new UsageAccount();
    b.note({ cpuSeconds: 1, memoryBytes: 10 });
    assert.deepEqual(usageStats([a, b, new UsageAccount()]), { cpuSeconds: 3.5, memoryBytes: 50 });
  });
});
