import { SerialPortMock } from 'serialport';
import { cobsEncode, decodeGatewayFrame, encodeFrame, gatewayStreamDecoder, type GatewayFrame } from '../../firmware-bridge/protocol';
import { BleDriver } from '../../drivers/ble';
import { DEFAULT_BAUD } from '../../drivers/serial/baud';
import { SerialDriver } from '../../drivers/serial/serial-driver';
import { SimDriver } from '../../drivers/sim';
import { Esp32Peripheral, hasDbusDaemon } from '../support/bluez-sim';
import { driverContract, type DriverFixture } from '../support/driver-contract';
import { startBus } from '../ble/ble-harness';

const serialRun = (frame: Uint8Array): Buffer => Buffer.concat([cobsEncode(frame), Buffer.from([0])]);

driverContract({
  name: 'sim (in-process simulated ESP32, real wire format)',
  available: true,
  setup: async (): Promise<DriverFixture> => {
    // No scheduled frames (the tick never comes): the contract drives every frame itself.
    const driver = new SimDriver({ devices: [{ id: 'sim-1', model: 'kitchen-scale', fw: '1.0', kind: 'kitchen-scale', ratePerMin: 0 }], tickMs: 3_600_000 });
    const received: GatewayFrame[] = [];
    const send = driver.send.bind(driver);
    // What reaches the simulated device: every reply and command goes through send (encoded and decoded there).
    driver.send = (id, frame) => {
      const sent = send(id, frame);
      if (sent) received.push(decodeGatewayFrame(encodeFrame(frame)));
      return sent;
    };
    return { driver, deviceId: 'sim-1', sendEncoded: (f) => driver.inject('sim-1', serialRun(f)), received: () => received, stop: async () => undefined };
  },
});

interface MockPort {
  emitData(data: Buffer): void;
  recording: Buffer;
}

driverContract({
  name: "serial (serialport's mock binding)",
  available: true,
  setup: async (): Promise<DriverFixture> => {
    const path = '/dev/ttyCONTRACT0';
    SerialPortMock.binding.createPort(path, { echo: false, record: true });
    const opened: SerialPortMock[] = [];
    const driver = new SerialDriver([{ id: 'serial-1', port: path, baud: DEFAULT_BAUD }], {
      openPort: (p, baudRate) => {
        const port = new SerialPortMock({ path: p, baudRate, autoOpen: false });
        opened.push(port);
        return port;
      },
    });
    const binding = (port: SerialPortMock | undefined): MockPort | null => (port?.port as unknown as MockPort | undefined) ?? null;
    return {
      driver,
      deviceId: 'serial-1',
      sendEncoded: (f) => binding(opened.at(-1))?.emitData(serialRun(f)),
      // Everything the driver wrote, across reopenings, read back as a device's firmware would.
      received: () =>
        opened.flatMap((port) => {
          const recording = binding(port)?.recording;
          return recording ? gatewayStreamDecoder().push(recording).flatMap((r) => (r.ok ? [r.frame] : [])) : [];
        }),
      stop: async () => SerialPortMock.binding.reset(),
    };
  },
});

let bus: Awaited<ReturnType<typeof startBus>> | null = null;
driverContract({
  name: 'BLE (node-ble on a private D-Bus, BlueZ simulator, ESP32 peripheral)',
  available: hasDbusDaemon,
  beforeAll: async () => {
    bus = await startBus();
  },
  afterAll: async () => {
    await bus?.stop();
  },
  setup: async (): Promise<DriverFixture> => {
    const address = '24:6F:28:C0:47:01';
    const device = new Esp32Peripheral({ address, id: 'ble-1', rateHz: 0 });
    bus!.sim.addPeripheral(device, { cached: true });
    const driver = new BleDriver([{ id: 'ble-1', address }], { supervisionMs: 100, timeoutMs: 5000, reconnect: { minMs: 50, maxMs: 400 } });
    return {
      driver,
      deviceId: 'ble-1',
      sendEncoded: (f) => {
        if (!device.notifyRaw(f)) throw new Error('the peripheral has no subscriber to notify');
      },
      received: () => device.received,
      stop: async () => {
        device.stop();
        bus!.sim.removePeripheral(address);
      },
    };
  },
});
