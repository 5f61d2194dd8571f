import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A pair of connected PTYs made by socat: `gateway` is what the agent opens (like /dev/ttyUSB0), `device` is the
 * simulated ESP32's end. Stopping socat removes both links — exactly what an unplugged USB-UART looks like.
 * With `deviceTty` (an existing tty, e.g. QEMU's guest UART) socat joins the gateway link to it instead: stopping
 * is then a pulled cable between the two, and starting again plugs it back in at the same path.
 */
export class PtyPair {
  private proc: ChildProcess | null = null;
  readonly gateway: string;
  readonly device: string;
  private readonly links: string[];

  constructor(dir: string, name = 'ttyUSB0', private readonly deviceTty?: string) {
    this.gateway = path.join(dir, name);
    this.device = deviceTty ?? path.join(dir, `${name}-device`);
    this.links = deviceTty ? [this.gateway] : [this.gateway, this.device];
  }

  async start(): Promise<void> {
    const deviceEnd = this.deviceTty ? `${this.deviceTty},raw,echo=0` : `pty,raw,echo=0,link=${this.device}`;
    this.proc = spawn('socat', [`pty,raw,echo=0,link=${this.gateway}`, deviceEnd], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 5000;
    while (!(fs.existsSync(this.gateway) && fs.existsSync(this.device))) {
      if (Date.now() > deadline) throw new Error('socat did not create the PTY pair (is socat installed?)');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Unplug: both ends disappear. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    const deadline = Date.now() + 2000;
    while (this.links.some((l) => fs.existsSync(l)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export const hasSocat = ['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].some((p) => fs.existsSync(p));
