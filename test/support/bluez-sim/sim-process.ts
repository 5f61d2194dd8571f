import { fork, type ChildProcess } from 'node:child_process';
import { BluezSimulator } from './bluez-simulator';
import { Esp32Peripheral } from './esp32-peripheral';

/**
 * The BlueZ simulator in a process of its own, driven over Node's IPC channel. The benchmark uses it so the
 * agent's CPU and RSS are measured without the simulated radios in the same process; it reaches the bus the
 * same way (DBUS_SYSTEM_BUS_ADDRESS). Tests run the simulator in-process: to node-ble it is the same D-Bus
 * traffic through the same daemon, and the tests can reach into the simulated devices directly.
 */
export interface SimDeviceRequest {
  address: string;
  id: string;
  rateHz: number;
  limit: number;
}

export interface SimReport {
  produced: number;
  sent: number;
  retransmissions: number;
  acked: number;
  unacked: number;
  notifications: number;
}

type Request = { cmd: 'start'; busAddress: string; devices: SimDeviceRequest[] } | { cmd: 'sample' } | { cmd: 'report' } | { cmd: 'stop' };

/** Parent side: a handle on the simulator child. */
export class SimProcess {
  private readonly child: ChildProcess;
  private readonly waiting: Array<(msg: unknown) => void> = [];

  constructor(entry = __filename) {
    this.child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m) => this.waiting.shift()?.(m));
  }

  private ask<T>(req: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`simulator process exited (${code})`));
      this.child.once('exit', onExit);
      this.waiting.push((m) => {
        this.child.off('exit', onExit);
        resolve(m as T);
      });
      this.child.send(req);
    });
  }

  start(busAddress: string, devices: SimDeviceRequest[]): Promise<void> {
    return this.ask({ cmd: 'start', busAddress, devices });
  }
  /** every device starts sampling now */
  sample(): Promise<void> {
    return this.ask({ cmd: 'sample' });
  }
  report(): Promise<SimReport> {
    return this.ask({ cmd: 'report' });
  }
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.send({ cmd: 'stop' } satisfies Request);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/** Child side. */
function serve(): void {
  let sim: BluezSimulator | null = null;
  const devices: Esp32Peripheral[] = [];
  const reply = (m: unknown): void => void process.send?.(m);
  process.on('message', (req: Request) => {
    void (async () => {
      switch (req.cmd) {
        case 'start':
          sim = new BluezSimulator(req.busAddress);
          await sim.start();
          for (const d of req.devices) {
            const p = new Esp32Peripheral({ address: d.address, id: d.id, rateHz: d.rateHz, limit: d.limit });
            devices.push(p);
            sim.addPeripheral(p, { cached: true });
          }
          return reply({});
        case 'sample':
          for (const p of devices) p.start();
          return reply({});
        case 'report':
          return reply({
            produced: devices.reduce((n, p) => n + p.produced.length, 0),
            sent: devices.reduce((n, p) => n + p.sent, 0),
            retransmissions: devices.reduce((n, p) => n + p.retransmissions, 0),
            acked: devices.reduce((n, p) => n + p.acked.size, 0),
            unacked: devices.reduce((n, p) => n + p.unacked(), 0),
            notifications: sim?.stats.notifications ?? 0,
          } satisfies SimReport);
        case 'stop':
          for (const p of devices) p.stop();
          await sim?.stop();
          process.exit(0);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) serve();
