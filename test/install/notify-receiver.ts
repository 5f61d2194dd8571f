import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { timeScale } from '../support/time-scale';

/** One datagram as systemd would read it from NOTIFY_SOCKET: its assignments and when it arrived (ms, monotonic). */
export interface Notification {
  atMs: number;
  assignments: string[];
}

// Node cannot bind AF_UNIX datagram sockets; python3 can. Each datagram becomes one JSON line on stdout. Plain
// recv() drops the pipe fd that systemd-notify attaches to BARRIER=1, which is what releases its barrier wait.
const RECEIVER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"t": time.monotonic() * 1000, "msg": data.decode("utf-8", "replace")}), flush=True)
`;

/** A real unix datagram socket at `socketPath`, recording every notification sent to it. */
export class NotifyReceiver {
  readonly notifications: Notification[] = [];
  private constructor(private readonly child: ChildProcess) {}

  static start(socketPath: string): Promise<NotifyReceiver> {
    const child = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const receiver = new NotifyReceiver(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`notify receiver exited ${code}: ${stderr}`)));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const rec = JSON.parse(line) as { bound?: boolean; t?: number; msg?: string };
        if (rec.bound) resolve(receiver);
        else
          receiver.notifications.push({
            atMs: rec.t!,
            assignments: rec.msg!.split('\n').filter((l) => l !== ''),
          });
      });
    });
  }

  /** Notifications carrying this exact assignment, e.g. 'WATCHDOG=1'. */
  with(assignment: string): Notification[] {
    return this.notifications.filter((n) => n.assignments.includes(assignment));
  }

  /** Resolves with the first notification matching `pred` (already received or arriving within timeoutMs times the suite's time scale). */
  waitFor(pred: (n: Notification) => boolean, what: string, timeoutMs = 15_000): Promise<Notification> {
    const start = Date.now();
    timeoutMs *= timeScale();
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const hit = this.notifications.find(pred);
        if (hit) {
          clearInterval(poll);
          resolve(hit);
        } else if (Date.now() - start > timeoutMs) {
          clearInterval(poll);
          reject(
            new Error(
              `no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.notifications.map((n) => n.assignments))}`,
            ),
          );
        }
      }, 20);
    });
  }

  stop(): void {
    this.child.removeAllListeners('exit');
    this.child.kill('SIGKILL');
  }
}
