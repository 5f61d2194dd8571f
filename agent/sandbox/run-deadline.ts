/** Loading a script runs its source once (a function-expression script's top level): a slow parse gets this long. */
export const COMPILE_TIMEOUT_MS = 1000;

/**
 * Past this many times its limit in wall time a run is stopped even if the process had no CPU for it: the limit's
 * promise (a script stops within 2x its limit) holds in wall time, and a short call is only stopped by a machine
 * that took its core away for longer than that.
 */
export const HARD_LIMIT_FACTOR = 2;

/**
 * When a script run has had its time. Past its wall deadline, the run is over only if it really had that time:
 * the time until its first poll, plus the CPU time the process has used since (checked at most once per ms, ~2 µs
 * each). Polled every few ticks, a 10 µs call would otherwise be stopped by the machine taking its core away for
 * 50 ms (seen on a loaded machine); a runaway with a core is stopped at its deadline all the same, one without a
 * core is not running. HARD_LIMIT_FACTOR times the limit in wall time stops a run whatever the CPU figures say.
 */
export class RunDeadline {
  private armedAt = 0;
  private limitMs = 0;
  /** the run's first poll: when, and the process's CPU time then */
  private firstPoll: { at: number; cpu: NodeJS.CpuUsage } | null = null;
  private nextCpuCheck = 0;

  /** Starts a run with this limit. */
  arm(limitMs: number): void {
    this.armedAt = performance.now();
    this.limitMs = limitMs;
    this.firstPoll = null;
    this.nextCpuCheck = 0;
  }

  /** At every poll of the run (`now` from performance.now(): monotonic); true once the run has had its time. */
  passed(now: number, firstPollOfRun: boolean): boolean {
    if (firstPollOfRun) this.firstPoll = { at: now, cpu: process.cpuUsage() };
    return now > this.armedAt + this.limitMs && this.ranItsTime(now);
  }

  private ranItsTime(now: number): boolean {
    if (this.firstPoll === null || now > this.armedAt + HARD_LIMIT_FACTOR * this.limitMs) return true;
    if (now < this.nextCpuCheck) return false;
    this.nextCpuCheck = now + 1;
    const cpu = process.cpuUsage(this.firstPoll.cpu);
    return this.firstPoll.at - this.armedAt + (cpu.user + cpu.system) / 1000 >= this.limitMs;
  }
}
