import Database from 'better-sqlite3';
import { Agent } from '../../agent/controller';
import type { AgentConfig } from '../../agent/config';
import { silentLogger } from '../../agent/logger';
import type { Part } from '../../agent/part';
import { ScriptsPart } from '../../agent/parts/scripts-part';
import { StorePart } from '../../agent/parts/store-part';
import { StorageBudgetPart } from '../../agent/parts/storage-budget-part';
import { LedgerPart } from '../../agent/parts/ledger-part';
import { DevicesPart } from '../../agent/parts/devices-part';
import { OutcomesPart } from '../../agent/parts/outcomes-part';
import { EngagementPart } from '../../agent/parts/engagement-part';
import { ConsentPart } from '../../agent/parts/consent-part';
import { PipelinePart } from '../../agent/parts/pipeline-part';
import { ActivityLogPart } from '../../agent/parts/activity-log-part';
import { ApiPart } from '../../agent/parts/api-part';
import { DriverPart } from '../../agent/parts/driver-part';
import { FirmwarePart } from '../../agent/parts/firmware-part';
import { CounterStore } from '../../agent/store/counter-store';
import { WalCheckpointer } from '../../agent/store/wal-checkpointer';
import { SimDriver } from '../../drivers/sim';
import { tempDir } from '../support/temp-dir';
import { testConfig } from '../support/test-config';

type PartClass = { name: string; prototype: Part<never, unknown> };

/** The essential parts in the order the root starts them. */
const ESSENTIAL: PartClass[] = [
  ScriptsPart, StorePart, StorageBudgetPart, LedgerPart, DevicesPart, OutcomesPart, EngagementPart, ConsentPart, PipelinePart, ActivityLogPart,
];
const ESSENTIAL_NAMES = ['scripts', 'store', 'storage-budget', 'consent-ledger', 'devices', 'outcomes', 'engagement', 'consent', 'pipeline', 'activity-log'];

function config(dataDir: string): AgentConfig {
  return testConfig(dataDir, {
    id: 'gw-parts',
    devices: [{ id: 'scale-1', transport: 'sim', model: 'kitchen-scale', profile: 'home-a' }],
    campaigns: [{ id: 'coffee', qualify: { event: 'dispense' }, value: 50, threshold: 150, channels: ['push'] }],
    consent: { grants: [{ device: 'scale-1', category: 'usage' }] },
  });
}

const sim = (): SimDriver => new SimDriver({ devices: [{ id: 'scale-1', model: 'kitchen-scale', fw: 's', kind: 'kitchen-scale', ratePerMin: 0.0001 }] });

describe('the agent as parts (real SQLite file)', () => {
  let t: ReturnType<typeof tempDir>;
  /** every database handle opened during the test, to check none is left open */
  let handles: Database.Database[];
  let checkpointerStops: jest.SpyInstance;

  beforeEach(() => {
    t = tempDir();
    handles = [];
    const pragma = Database.prototype.pragma;
    jest.spyOn(Database.prototype, 'pragma').mockImplementation(function (this: Database.Database, ...args: Parameters<typeof pragma>) {
      if (!handles.includes(this)) handles.push(this);
      return pragma.apply(this, args);
    });
    checkpointerStops = jest.spyOn(WalCheckpointer.prototype, 'stop');
  });
  afterEach(() => {
    jest.restoreAllMocks();
    t.cleanup();
  });

  it.each(ESSENTIAL.map((p, i) => [ESSENTIAL_NAMES[i], p] as const))(
    'a failing start of %s stops exactly what started: the database handle and the checkpointer are closed',
    async (name, part) => {
      const stops = ESSENTIAL.map((p) => jest.spyOn(p.prototype, 'stop'));
      jest.spyOn(part.prototype, 'start').mockRejectedValue(new Error(`${name} cannot start`));
      const agent = new Agent(config(t.dir), { logger: silentLogger, drivers: [sim()], api: false });
      await expect(agent.start()).rejects.toThrow(`${name} cannot start`);
      const failedAt = ESSENTIAL.indexOf(part);
      // the failed part (for what it acquired before failing) and every part before it; none after it
      stops.forEach((s, i) => expect(s).toHaveBeenCalledTimes(i <= failedAt ? 1 : 0));
      expect(handles.every((db) => !db.open)).toBe(true);
      expect(checkpointerStops).toHaveBeenCalledTimes(failedAt >= ESSENTIAL.indexOf(StorePart) + 1 ? 1 : 0);
      expect(() => agent.status().parts).toThrow('agent not started');
      await agent.stop(); // what the runner and tests do after a failed start: harmless
    },
  );

  it('a store that fails half-way (database open, counters unreadable) closes its own database and checkpointer', async () => {
    jest.spyOn(CounterStore.prototype, 'load').mockImplementation(() => {
      throw new Error('counters unreadable');
    });
    const agent = new Agent(config(t.dir), { logger: silentLogger, drivers: [], api: false });
    await expect(agent.start()).rejects.toThrow('counters unreadable');
    expect(handles.length).toBeGreaterThan(0);
    expect(handles.every((db) => !db.open)).toBe(true);
    expect(checkpointerStops).toHaveBeenCalledTimes(1);
  });

  it('parts stop in the reverse of their start order, and status lists each with its state', async () => {
    const order: string[] = [];
    for (const p of [...ESSENTIAL, ApiPart, DriverPart, FirmwarePart] as PartClass[]) {
      const start = p.prototype.start;
      const stop = p.prototype.stop;
      jest.spyOn(p.prototype, 'start').mockImplementation(function (this: Part<never, unknown>, ctx: never) {
        order.push(`start ${this.name}`);
        return start.call(this, ctx);
      });
      jest.spyOn(p.prototype, 'stop').mockImplementation(function (this: Part<never, unknown>) {
        order.push(`stop ${this.name}`);
        return stop.call(this);
      });
    }
    const agent = new Agent(config(t.dir), { logger: silentLogger, drivers: [sim()] });
    await agent.start();
    const names = [...ESSENTIAL_NAMES, 'api', 'driver:sim', 'firmware'];
    expect(agent.status().parts).toEqual(names.map((name) => ({ name, state: 'running', error: null })));
    await agent.stop();
    expect(order).toEqual([...names.map((n) => `start ${n}`), ...[...names].reverse().map((n) => `stop ${n}`)]);
    expect(handles.every((db) => !db.open)).toBe(true);
  });

  it('an optional part that fails is stopped and reported; the agent runs without it', async () => {
    jest.spyOn(ApiPart.prototype, 'start').mockRejectedValue(new Error('address in use'));
    const apiStop = jest.spyOn(ApiPart.prototype, 'stop');
    const agent = new Agent(config(t.dir), { logger: silentLogger, drivers: [sim()] });
    await agent.start();
    expect(apiStop).toHaveBeenCalledTimes(1);
    const parts = agent.status().parts;
    expect(parts.find((p) => p.name === 'api')).toEqual({ name: 'api', state: 'failed', error: 'address in use' });
    expect(parts.filter((p) => p.state === 'running').map((p) => p.name)).toEqual([...ESSENTIAL_NAMES, 'driver:sim', 'firmware']);
    expect(agent.apiAddress).toBeNull();
    await agent.stop();
    expect(apiStop).toHaveBeenCalledTimes(1); // not stopped twice
  });
});
