import { Agent } from '../../agent/controller';
import type { AgentConfig, ConfigInput } from '../../agent/config';
import { testConfig } from '../support/test-config';
import { createDrivers } from '../../agent/drivers';
import { silentLogger } from '../../agent/logger';
import { BleDriver } from '../../drivers/ble';
import type { Driver } from '../../drivers/types';
import type { ScriptHost } from '../../agent/sandbox';
import { BluezSimulator, PrivateDbus } from '../support/bluez-sim';
import { tempDir } from '../support/temp-dir';

/** A private system bus with the BlueZ simulator on it; node-ble finds it through DBUS_SYSTEM_BUS_ADDRESS only. */
export async function startBus(): Promise<{ dbus: PrivateDbus; sim: BluezSimulator; stop: () => Promise<void> }> {
  const dbus = new PrivateDbus();
  const address = await dbus.start();
  const before = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
  const sim = new BluezSimulator(address);
  await sim.start();
  return {
    dbus,
    sim,
    stop: async () => {
      await sim.stop();
      await dbus.stop();
      if (before === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = before;
    },
  };
}

type Input = Omit<ConfigInput, 'gateway'>;

export function bleConfig(dataDir: string, devices: NonNullable<Input['devices']>, grants: NonNullable<NonNullable<Input['consent']>['grants']>): AgentConfig {
  return testConfig(dataDir, { id: 'gw-ble', devices, storage: { maxBytes: 1 << 28 }, consent: { grants } });
}

/** A real Agent (real SQLite file) whose BLE driver the test can inspect; fast supervision and reconnects. */
export async function startAgent(cfg: AgentConfig): Promise<{ agent: Agent; ble: BleDriver; cleanup: () => Promise<void> }> {
  const built: { ble?: BleDriver } = {};
  const drivers = (scripts: ScriptHost): Driver[] => {
    const list = createDrivers(cfg, silentLogger, { scripts, ble: { supervisionMs: 100, timeoutMs: 5000, reconnect: { minMs: 50, maxMs: 400 } } });
    built.ble = list.find((d): d is BleDriver => d instanceof BleDriver);
    return list;
  };
  const agent = new Agent(cfg, { logger: silentLogger, api: false, drivers });
  await agent.start();
  const ble = built.ble;
  if (!ble) {
    await agent.stop();
    throw new Error('config has no BLE devices');
  }
  return { agent, ble, cleanup: async () => agent.stop() };
}

export const newTempDir = tempDir;

export const count = (agent: Agent, sql: string, ...args: unknown[]): number => (agent.database.prepare(sql).get(...args) as { n: number }).n;
