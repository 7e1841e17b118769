import { Ticker } from '../shared/ticker.js';
import { systemCtx } from '../access/principal.js';
import { checkCron, ticksBetween } from '../jobs/pipelines/cron.js';
import type { MonitorSpec } from './schema.js';
import type { MonitoringService } from './service.js';

/** Longest a scheduled run may hold its monitor before another worker may run a later tick. */
const RUN_LEASE_MS = 30 * 60_000;

/**
 * The worker's monitor loop: every poll, for each monitor with a `schedule`
 * (five-field cron, read in UTC), the newest tick that fell since the last
 * poll is claimed in the store (`monitors.schedule_tick`) and, if this
 * worker won it, the monitor runs as the system, its report stored with
 * cause `schedule`. A claimed tick is never run again, whichever worker or
 * restart sees it; a tick while the previous scheduled run still goes is
 * skipped; ticks that fell while no worker ran are not made up.
 */
export class MonitorScheduler {
  private readonly ticker: Ticker;
  /** Set by stop(): a pass in progress runs no further monitor. */
  private halting = false;
  private checkedUpTo: number;
  private readonly warned = new Set<string>();

  constructor(
    private readonly monitors: MonitoringService,
    private readonly opts: { pollMs: number; log: (msg: string) => void; now?: () => number },
  ) {
    this.checkedUpTo = this.now();
    this.ticker = new Ticker(opts.pollMs, () => this.tick());
  }

  start(): void {
    if (this.ticker.running) return;
    this.halting = false;
    this.checkedUpTo = this.now();
    this.ticker.start();
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  /** One pass; never throws. */
  async tick(): Promise<void> {
    try {
      const now = this.now();
      const from = this.checkedUpTo;
      if (Math.floor(now / 60_000) === Math.floor(from / 60_000)) return;
      const due = await this.monitors.store.scheduled();
      // Moved on only once the list was read: a failed read retries the same ticks.
      this.checkedUpTo = now;
      for (const m of due) {
        if (this.halting) return;
        const tick = this.lastTick(m.workspace, m.name, (JSON.parse(m.spec) as MonitorSpec).schedule!, from, now);
        if (tick !== undefined) await this.fire(m.id, m.workspace, m.name, tick);
      }
    } catch (e) {
      if (!this.halting) this.opts.log(`monitor scheduler: ${(e as Error).message}`);
    }
  }

  private lastTick(workspace: string, name: string, schedule: string, from: number, now: number): number | undefined {
    try {
      return ticksBetween(checkCron(schedule), 'UTC', from, now).pop();
    } catch (e) {
      const key = `${workspace}/${name}/${schedule}`;
      if (!this.warned.has(key)) this.opts.log(`monitor ${key}: schedule not run: ${(e as Error).message}`);
      this.warned.add(key);
      return undefined;
    }
  }

  private async fire(id: number, workspace: string, name: string, tick: number): Promise<void> {
    const claim = await this.monitors.store.claimTick(id, tick, Date.now(), Date.now() + RUN_LEASE_MS);
    if (claim === 'overlap') this.opts.log(`monitor ${workspace}/${name}: tick ${new Date(tick).toISOString()} skipped, the previous scheduled run is still going`);
    if (claim !== 'run') return;
    try {
      await this.monitors.run(systemCtx(`monitor-schedule-${name}`), workspace, name, { tick });
    } catch (e) {
      this.opts.log(`monitor ${workspace}/${name}: scheduled run failed: ${(e as Error).message}`);
    } finally {
      await this.monitors.store.releaseTick(id).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.halting = true;
    await this.ticker.stop();
  }
}
