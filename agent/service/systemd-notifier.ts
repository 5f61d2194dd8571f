import { spawn } from 'node:child_process';
import type { Logger } from '../logger';

/**
 * The agent's side of systemd's notify protocol (sd_notify(3)) for `Type=notify` + `WatchdogSec=`:
 * READY=1 once started, STATUS= lines, WATCHDOG=1 every WATCHDOG_USEC/2, STOPPING=1 on shutdown.
 *
 * Node cannot open AF_UNIX datagram sockets, so every message is one `systemd-notify` process. Why that and not a
 * native addon or a long-lived relay: no new dependency and nothing to compile on the gateway; the cost is one
 * ~5 ms process spawn per message, i.e. one every 15 s with WatchdogSec=30. The sender is that short-lived process,
 * not the main PID, hence `NotifyAccess=all` in the unit. The classic race (systemd-notify exits before the
 * manager reads the datagram, so it cannot attribute it to the unit) is closed by systemd-notify itself on
 * Debian 12 / Raspberry Pi OS bookworm (252.x): it sends BARRIER=1 after the message and waits until the manager
 * has processed both. `--pid=<our pid>` additionally names this process as MAINPID, so the wrapper that exec()s
 * node can never be mistaken for the main process.
 *
 * The pings come from a timer on the event loop on purpose: a blocked loop sends none, and systemd restarts the
 * agent after WatchdogSec. Nothing here ever throws into the agent: a wrong NOTIFY_SOCKET or a missing
 * systemd-notify is logged once and the agent keeps running.
 */
export interface ServiceNotifier {
  /** True when NOTIFY_SOCKET is set (we run under systemd, or a test that listens like it). */
  readonly enabled: boolean;
  /** The watchdog ping period in ms, or null when systemd asked for no watchdog. */
  readonly watchdogIntervalMs: number | null;
  status(text: string): void;
  ready(status: string): void;
  stopping(status: string): void;
  /** Stops the watchdog timer and waits (bounded) until queued messages have been handed to systemd. */
  close(): Promise<void>;
}

export interface NotifierOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** The sender program; tests may point it elsewhere. Default: systemd-notify from PATH. */
  notifyCommand?: string;
  /** Our PID as systemd should see it (default process.pid). */
  pid?: number;
}

/** How long close() waits for queued messages before giving up (systemd-notify itself gives up after ~5 s). */
const CLOSE_TIMEOUT_MS = 3000;

/** WATCHDOG_USEC/2 in ms when the watchdog is meant for this process (sd_watchdog_enabled(3) semantics). */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return null;
  // systemd's own recommendation: ping at half the timeout. Floor at 50 ms so a typo cannot spin the CPU.
  return Math.max(50, Math.floor(usec / 2000));
}

/** STATUS= is one line of free text in the protocol; newlines would start a new assignment. */
const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ').slice(0, 400);

export function createServiceNotifier(opts: NotifierOptions): ServiceNotifier {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const pid = opts.pid ?? process.pid;
  if (!socket) return disabledNotifier;
  return new SystemdNotifyProcess(
    socket,
    pid,
    opts.notifyCommand ?? 'systemd-notify',
    opts.logger,
    watchdogIntervalMs(env, pid),
  );
}

const disabledNotifier: ServiceNotifier = {
  enabled: false,
  watchdogIntervalMs: null,
  status: () => undefined,
  ready: () => undefined,
  stopping: () => undefined,
  close: () => Promise.resolve(),
};

class SystemdNotifyProcess implements ServiceNotifier {
  readonly enabled = true;
  private readonly queue: string[][] = [];
  private sending = false;
  private watchdogQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private broken = false;
  private drained: Array<() => void> = [];

  constructor(
    private readonly socket: string,
    private readonly pid: number,
    private readonly command: string,
    private readonly logger: Logger,
    readonly watchdogIntervalMs: number | null,
  ) {
    if (watchdogIntervalMs !== null) {
      // Started before the agent itself so a slow start is covered too; unref'd so it never keeps the process alive.
      this.timer = setInterval(() => this.ping(), watchdogIntervalMs);
      this.timer.unref();
    }
  }

  status(text: string): void {
    this.enqueue([`STATUS=${oneLine(text)}`]);
  }

  ready(status: string): void {
    this.enqueue(['READY=1', `STATUS=${oneLine(status)}`]);
  }

  stopping(status: string): void {
    this.enqueue(['STOPPING=1', `STATUS=${oneLine(status)}`]);
  }

  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.sending && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timeout = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      timeout.unref();
      this.drained.push(() => {
        clearTimeout(timeout);
        resolve();
      });
    });
  }

  private ping(): void {
    // At most one ping waiting: if systemd is slow to answer, pings must not pile up as processes.
    if (this.watchdogQueued) return;
    this.watchdogQueued = true;
    this.enqueue(['WATCHDOG=1']);
  }

  private enqueue(assignments: string[]): void {
    if (this.broken) return;
    this.queue.push(assignments);
    this.sendNext();
  }

  /** One systemd-notify at a time, in order, so READY=1 can never overtake STATUS= or STOPPING=1. */
  private sendNext(): void {
    if (this.sending) return;
    const next = this.queue.shift();
    if (!next) {
      for (const done of this.drained.splice(0)) done();
      return;
    }
    if (next[0] === 'WATCHDOG=1') this.watchdogQueued = false;
    this.sending = true;
    let stderr = '';
    let settled = false;
    const finish = (problem: string | null): void => {
      if (settled) return;
      settled = true;
      this.sending = false;
      if (problem) this.failed(problem);
      else if (this.failures > 0) {
        this.logger.info('systemd notifications work again', { failedBefore: this.failures });
        this.failures = 0;
      }
      this.sendNext();
    };
    try {
      const child = spawn(this.command, [`--pid=${this.pid}`, ...next], {
        env: { NOTIFY_SOCKET: this.socket, PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          // No systemd-notify on this system: nothing will ever get through, stop trying.
          this.broken = true;
          this.queue.length = 0;
        }
        finish(`${this.command}: ${err.message}`);
      });
      child.on('close', (code) =>
        finish(code === 0 ? null : `${this.command} exited ${code}: ${stderr.trim() || 'no message'}`),
      );
    } catch (err) {
      finish(`${this.command}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private failed(problem: string): void {
    this.failures++;
    // The first failure says what is wrong; repeating it every 15 s would flood the journal.
    if (this.failures === 1 || this.broken) {
      this.logger.warn(
        'systemd notification failed; the agent keeps running (systemd restarts it if watchdog pings stay missing)',
        {
          problem,
          notifySocket: this.socket,
        },
      );
    }
  }
}
