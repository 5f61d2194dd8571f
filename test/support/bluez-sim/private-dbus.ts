import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { timeScale } from '../time-scale';

export const hasDbusDaemon = spawnSync('dbus-daemon', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * A private D-Bus daemon on a unix socket in a temp dir, with an allow-all policy: clients reach it through
 * `DBUS_SYSTEM_BUS_ADDRESS=<address>`, exactly as they would reach the real system bus. Nothing on the host's
 * buses is touched, and no root is needed.
 */
export class PrivateDbus {
  private child: ChildProcess | null = null;
  private dir: string | null = null;
  private conf = '';
  address = '';

  async start(timeoutMs = 5000 * timeScale()): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-dbus-'));
    this.dir = dir;
    const socket = path.join(dir, 'system_bus_socket');
    const conf = path.join(dir, 'bus.conf');
    fs.writeFileSync(
      conf,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
</busconfig>
`,
    );
    this.conf = conf;
    this.address = await this.spawnDaemon(timeoutMs);
    return this.address;
  }

  /** The daemon dies and comes back on the same socket (a dbus restart): every connection to it is cut. */
  async restart(timeoutMs = 5000 * timeScale()): Promise<void> {
    await this.kill();
    const socket = this.address.replace(/^unix:path=/, '').split(',')[0];
    fs.rmSync(socket, { force: true });
    await this.spawnDaemon(timeoutMs);
  }

  /** The daemon is killed now (SIGKILL, synchronously sent): every connection is cut mid-conversation. */
  crash(): void {
    this.child?.kill('SIGKILL');
  }

  private async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
  }

  private async spawnDaemon(timeoutMs: number): Promise<string> {
    const child = spawn('dbus-daemon', [`--config-file=${this.conf}`, '--nofork', '--print-address'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`dbus-daemon did not print its address in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('unix:'));
        if (line) {
          clearTimeout(timer);
          resolve(line.trim());
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dbus-daemon exited with ${code}: ${stderr}`));
      });
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
