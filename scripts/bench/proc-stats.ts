import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

/** Kernel clock ticks per second for /proc/<pid>/stat times; 100 on every Linux build we target (getconf CLK_TCK). */
const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface ProcessSample {
  /** share of one core over the window, in percent */
  cpuPercent: number;
  rssMeanBytes: number;
  rssMaxBytes: number;
  seconds: number;
}

/** Samples a process's RSS every `everyMs` for `seconds` and its CPU share over the whole window. */
export async function sampleProcess(pid: number, seconds: number, everyMs = 250): Promise<ProcessSample> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    rss.push(rssBytes(pid));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  return {
    cpuPercent: (cpu / secs) * 100,
    rssMeanBytes: rss.reduce((a, b) => a + b, 0) / rss.length,
    rssMaxBytes: Math.max(...rss),
    seconds: secs,
  };
}

export const MiB = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A line-oriented watcher on a child's output: resolves when a line matches, rejects on exit or timeout. */
export function waitForLine(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  match: (line: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const src = child[stream];
    if (!src) return reject(new Error(`child ${stream} is not piped`));
    let buf = '';
    let tail = '';
    const timer = setTimeout(
      () =>
        finish(
          new Error(`no matching line on ${stream} within ${timeoutMs} ms; last output: ${tail.slice(-500)}`),
        ),
      timeoutMs,
    );
    const onData = (d: Buffer): void => {
      buf += d.toString();
      tail = (tail + d.toString()).slice(-2000);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (match(line)) return finish(null, line);
      }
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`child exited (${code}) before the line; last output: ${tail.slice(-500)}`));
    function finish(err: Error | null, line?: string): void {
      clearTimeout(timer);
      src!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line as string);
    }
    src.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child with SIGTERM (SIGKILL after `graceMs`) and waits for it to exit. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));

/** A throwaway local Mosquitto for a bench group (no persistence, unlimited in-flight), or null if not installed. */
export async function startBroker(dir: string): Promise<{ port: number; stop: () => Promise<void> } | null> {
  if (!MOSQUITTO) return null;
  const port = await freePort();
  const conf = `${dir}/mosquitto.conf`;
  fs.chmodSync(dir, 0o777); // mosquitto started as root drops to its own user
  fs.writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\n`,
  );
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error('mosquitto did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => stopChild(proc) };
}
