import type { Driver } from '../../drivers/types';
import type { SerialDriver } from '../../drivers/serial/serial-driver';
import { FirmwareUpdates } from '../firmware-update/firmware-updates';
import { FirmwareUplink } from '../firmware-update/firmware-uplink';
import { PendingUpdateNotices } from '../firmware-update/pending-update-notices';
import type { DeviceAccess } from '../firmware-update/rollout-executor';
import type { DeviceFacts } from '../firmware-update/rollout-plan';
import { RolloutRunner } from '../firmware-update/rollout-runner';
import type { Part } from '../part';
import type { IngestPipeline } from '../pipeline/ingest-pipeline';
import type { OutboxPublisher } from '../sync/outbox-publisher';
import { Intervals, errorMessage, type BaseContext } from './context';
import type { DevicesContext } from './devices-part';

type In = BaseContext & DevicesContext & { publisher: OutboxPublisher | null; pipeline: IngestPipeline };

const isSerial = (d: Driver): d is SerialDriver =>
  d.name === 'serial' && typeof (d as Partial<SerialDriver>).link === 'function';

/**
 * Fleet firmware updates (docs/firmware-updates.md): the package from upstream over the sync's connection, its
 * durable download, and the rollout to the serial-attached devices of its model, one at a time, through the
 * flasher. Starts after the drivers: a device is flashed over the port its serial link lets go of.
 */
export class FirmwarePart implements Part<In, { firmware: FirmwareUpdates }> {
  readonly name = 'firmware';
  private readonly intervals = new Intervals();
  private runner: RolloutRunner | null = null;
  private uplink: FirmwareUplink | null = null;
  private offBus: Array<() => void> = [];

  constructor(private readonly drivers: readonly Driver[]) {}

  async start({
    config,
    clock,
    logger,
    bus,
    status,
    devices,
    commander,
    publisher,
    pipeline,
  }: In): Promise<{ firmware: FirmwareUpdates }> {
    const fc = config.firmware; // every default filled by the schema
    const updates = new FirmwareUpdates(config.gateway.dataDir, {
      maxBytes: fc.maxBytes,
      window: fc.window ?? null,
      helloTimeoutMs: fc.helloTimeoutS * 1000,
      maxAttempts: fc.maxAttempts,
    });
    const serial = this.drivers.find(isSerial) ?? null;
    const serialDevices = config.devices.filter((d) => d.transport === 'serial');
    const facts = (): DeviceFacts[] =>
      serialDevices.map((d) => {
        const s = devices.sessions.get(d.id);
        const quietMs = s?.lastSeen == null ? Infinity : clock() - s.lastSeen;
        return {
          id: d.id,
          model: s?.model ?? null,
          fw: s?.fw ?? null,
          connected: s?.connected === true && serial?.link(d.id)?.isOpen === true,
          idle: quietMs >= fc.idleS * 1000 && !commander.busy(d.id),
          doNotUpdate: false,
          deferredUntil: null,
        };
      });
    const access: DeviceAccess = {
      open: async (id) => {
        const d = serialDevices.find((x) => x.id === id);
        const link = serial?.link(id);
        if (!d || d.transport !== 'serial' || !link)
          throw new Error(`${id} is not a serial device of this gateway`);
        await link.stop(); // the port is the flasher's until the update ends
        // Loaded when a device is about to be flashed: the flasher and serialport are 76 modules and ~65 ms of
        // start-up (several times that on a Pi) that a gateway with nothing to update should not pay.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { EspDeviceLink } = require('../firmware-update/esp-device-link') as typeof import('../firmware-update/esp-device-link');
        const esp = new EspDeviceLink({
          port: d.port,
          baud: fc.baud,
          appBaud: d.baud,
          stallTimeoutMs: fc.stallS * 1000,
          release: async () => link.start(),
        });
        return {
          flashApp: (image, opts) => esp.flashApp(image, opts),
          close: () => esp.close(),
          // The hello after the flash is the device's, taken as any hello is (the serial link, closed meanwhile,
          // did not see it): the session learns the version it runs now and its seq window restarts, as at any
          // boot, and the registry on disk says so too, or an agent restarted later would still expect the old
          // version and refuse the next update's backup. Its consent-state answer cannot go out (the port is the
          // flasher's until the update ends); the firmware repeats its hello until the gateway answers.
          waitHello: async (timeoutMs) => {
            const h = await esp.waitHello(timeoutMs);
            if (h && h.id === id) pipeline.onFrame(id, { type: 'hello', seq: 0, body: h }, () => undefined);
            return h;
          },
        };
      },
    };
    const up = config.upstream;
    if (up && publisher) {
      this.uplink = new FirmwareUplink(updates, {
        profile: up.profile,
        gatewayId: config.gateway.id,
        baseTopic: up.baseTopic,
        chunkBytes: Math.min(fc.chunkBytes, up.maxPayloadBytes),
        onVerified: () => void this.runner?.tick(),
      });
      publisher.addUser(this.uplink);
    }
    const uplink = this.uplink;
    const failed = (err: unknown): void => logger.error('firmware rollout failed', { error: errorMessage(err) });
    // the device's own button (docs/firmware-updates.md §5): capable devices are told what is pending for them
    const notices = new PendingUpdateNotices({
      session: (id) => devices.sessions.get(id) ?? null,
      send: (id, version) => commander.send(id, 'update', { v: version }),
    });
    const pendingRollout = () => {
      const c = updates.campaign();
      return c && (c.state === 'VERIFIED' || c.state === 'UPDATING') ? updates.journal.peek() : null;
    };
    this.runner = new RolloutRunner({
      updates,
      facts,
      access,
      clock,
      onChange: (r) => {
        uplink?.report();
        notices.refresh(r);
      },
      onError: failed,
    });
    const runner = this.runner;
    this.intervals.every(5000, () => void runner.tick());
    // Both run inside the pipeline's handling of a frame (emitted from there): nothing of theirs may throw into it.
    this.offBus = [
      // a hello (or a link back): a device that booted again is told again
      bus.on('device', ({ connected }) => {
        if (!connected) return;
        try {
          const r = pendingRollout();
          if (r) notices.refresh(r);
        } catch (err) {
          failed(err);
        }
      }),
      // the household's say from a device button is on disk: the rollout acts on it now, not at the next tick
      bus.on('firmware-choice', () => setImmediate(() => runner.tick().catch(failed))),
    ];
    status.set('firmware', () => updates.status());
    void runner.tick(); // an update interrupted by a crash is finished first
    return { firmware: updates };
  }

  async stop(): Promise<void> {
    this.intervals.clear();
    for (const off of this.offBus.splice(0)) off();
    await this.runner?.stop();
    this.uplink?.stop();
    this.runner = null;
    this.uplink = null;
  }
}
