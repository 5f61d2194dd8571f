import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Esp32RomSimulator, OP } from '../../test/support/esp-rom-sim';
import { APP_ADDRESS, kitchenScaleImage } from '../../test/support/firmware-packages';
import { cpuSeconds, stopChild } from './proc-stats';

/** What a simulated device went through: flash sessions begun (one per try of a write), blocks taken twice. */
export interface SimulatedDeviceStats {
  flashBegins: number;
  blocksTakenTwice: number;
}

/** The app a simulated device runs at the start: kitchen-scale `version`, built as kitchenScaleImage builds it. */
export interface SimulatedApp {
  id: string;
  version: string;
  size: number;
  seed: number;
}

type HostRequest =
  | { id: number; op: 'plug'; device: number; path: string; app: SimulatedApp }
  | { id: number; op: 'powerOn'; device: number }
  | { id: number; op: 'appSha256'; device: number; length: number }
  | { id: number; op: 'stats'; device: number }
  | { id: number; op: 'unplugAll' };
type HostReply = { id: number; ok: true; value: string | null } | { id: number; ok: false; error: string };

const HOST_FLAG = '--rom-sim-host';

/**
 * ESP32 ROM-bootloader simulators spread over child processes, `perProcess` devices in each: in the process of a
 * bench that also serves a fleet's packages, 100 simulators got a hundredth of the machine between 100 agents and
 * answered esptool-js seconds late (the 100-agent fleet run's stub-start timeouts): a fleet bench measures the
 * gateways, so its devices must not be starved by the bench itself. Each device is addressed by its number.
 */
export class RomSimProcesses {
  private readonly hosts: Array<{ child: ChildProcess; pending: Map<number, (r: HostReply) => void> }> = [];
  private nextId = 0;

  constructor(private readonly perProcess: number) {}

  /** Plugs device `device` into `path` (the device end of a PTY), in download mode, `app` in its flash. */
  async plug(device: number, path: string, app: SimulatedApp): Promise<void> {
    await this.ask(device, { op: 'plug', device, path, app });
  }

  /** Powers device `device` on: it boots its app (hello). */
  async powerOn(device: number): Promise<void> {
    await this.ask(device, { op: 'powerOn', device });
  }

  /** SHA-256 (hex) of the `length` bytes of device `device`'s flash at the app's address. */
  async appSha256(device: number, length: number): Promise<string> {
    return (await this.ask(device, { op: 'appSha256', device, length })) ?? '';
  }

  async stats(device: number): Promise<SimulatedDeviceStats> {
    return JSON.parse((await this.ask(device, { op: 'stats', device })) ?? '{}') as SimulatedDeviceStats;
  }

  /** CPU seconds the simulator processes used so far, together. */
  cpuSeconds(): number {
    return this.hosts.reduce((s, h) => s + (h.child.pid ? cpuSeconds(h.child.pid) : 0), 0);
  }

  get processes(): number {
    return this.hosts.length;
  }

  /** Unplugs every device and ends every simulator process. */
  async stop(): Promise<void> {
    await Promise.all(
      this.hosts.map(async (h, k) => {
        try {
          await this.send(k, { op: 'unplugAll' });
        } finally {
          await stopChild(h.child);
        }
      }),
    );
  }

  private async ask(device: number, req: DistributiveOmit<HostRequest, 'id'>): Promise<string | null> {
    return this.send(Math.floor(device / this.perProcess), req);
  }

  private send(k: number, req: DistributiveOmit<HostRequest, 'id'>): Promise<string | null> {
    while (this.hosts.length <= k) this.hosts.push(this.spawnHost());
    const host = this.hosts[k];
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!host.child.connected) {
        reject(new Error(`ROM simulator process ${k} is gone`));
        return;
      }
      host.pending.set(id, (r) => (r.ok ? resolve(r.value) : reject(new Error(r.error))));
      host.child.send({ ...req, id });
    });
  }

  private spawnHost(): { child: ChildProcess; pending: Map<number, (r: HostReply) => void> } {
    const child = fork(__filename, [HOST_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pending = new Map<number, (r: HostReply) => void>();
    child.on('message', (m: HostReply) => {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    });
    child.on('exit', (code, signal) => {
      for (const answer of pending.values())
        answer({ id: -1, ok: false, error: `ROM simulator process ended (${signal ?? code})` });
      pending.clear();
    });
    return { child, pending };
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** The child's side: simulators by device number, driven by the parent's requests. */
function hostRomSimulators(): void {
  const sims = new Map<number, Esp32RomSimulator>();
  const sim = (device: number): Esp32RomSimulator => {
    const s = sims.get(device);
    if (!s) throw new Error(`no simulated device ${device} in this process`);
    return s;
  };
  const handle = async (req: HostRequest): Promise<string | null> => {
    switch (req.op) {
      case 'plug': {
        const { app } = req;
        const s = new Esp32RomSimulator({
          autoReset: true,
          app: { id: app.id, model: 'kitchen-scale', ch: [{ n: 1, k: 'weight', c: 'usage' }] },
        });
        s.flash.set(kitchenScaleImage(app.version, app.size, app.seed), APP_ADDRESS);
        await s.attach(req.path);
        sims.set(req.device, s);
        return null;
      }
      case 'powerOn':
        sim(req.device).powerOn();
        return null;
      case 'appSha256':
        return createHash('sha256')
          .update(sim(req.device).flash.subarray(APP_ADDRESS, APP_ADDRESS + req.length))
          .digest('hex');
      case 'stats': {
        const s = sim(req.device);
        const begins = s.ops.filter((op) => op === OP.FLASH_BEGIN || op === OP.FLASH_DEFL_BEGIN).length;
        return JSON.stringify({ flashBegins: begins, blocksTakenTwice: s.blocksTakenTwice } satisfies SimulatedDeviceStats);
      }
      case 'unplugAll':
        await Promise.all([...sims.values()].map((s) => s.detach()));
        sims.clear();
        return null;
    }
  };
  process.on('message', (req: HostRequest) => {
    handle(req).then(
      (value) => process.send?.({ id: req.id, ok: true, value } satisfies HostReply),
      (err: unknown) =>
        process.send?.({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies HostReply),
    );
  });
  // the parent went away (a killed bench): nothing is left holding the PTYs
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module && process.argv.includes(HOST_FLAG)) hostRomSimulators();
