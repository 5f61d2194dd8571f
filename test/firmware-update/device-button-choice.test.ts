import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentClient } from '../../agent/cli/api-client';
import type { StatusDocument } from '../../agent/api/status';
import { encodeSerialFrame, type Frame } from '../../firmware-bridge/protocol';
import { Esp32RomSimulator } from '../support/esp-rom-sim';
import { APP_ADDRESS, kitchenScaleImage } from '../support/firmware-packages';
import { freePort } from '../support/free-port';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';
import { runCli, startCli } from '../support/run-cli';
import { waitUntil } from '../support/wait-until';

const OLD = kitchenScaleImage('2.4.0', 64 * 1024, 51);
const NEW = kitchenScaleImage('2.5.0', 96 * 1024, 52);
const HOUR = 3600_000;

interface DeviceUpdateRow {
  id: string;
  state: string;
  reason: string | null;
  doNotUpdate: boolean;
  deferredUntil: number | null;
}

/**
 * The household's say from the device's own button (docs/firmware-updates.md §5 rule 4), through the whole agent:
 * `edge-agent run` with the device on a real PTY, the ROM-bootloader simulator running the simulated firmware
 * (its hello says `cap: ["update"]`). The device is told the pending update, its long press (0x06 firmware-choice)
 * is written to the household file and acked, the rollout waits on it, and the device's "allow" lets it go on.
 */
(hasSocat ? describe : describe.skip)('the device button defers a pending firmware update (real agent, real PTY)', () => {
  let sim: Esp32RomSimulator | null = null;
  let run: ReturnType<typeof startCli> | null = null;
  let last: StatusDocument | null = null;
  const t = ptyPerTest({
    prefix: 'edge-fw-button-',
    tearDown: async () => {
      const r = run;
      run = null;
      r?.child.kill('SIGTERM');
      await r?.exit;
      await sim?.detach();
    },
  });

  it('is told of the update, defers it, is told again after a reboot, says never, then allow: the rollout goes on', async () => {
    sim = new Esp32RomSimulator({ autoReset: true, firmwareApp: true, app: { id: 'scale-7', model: 'kitchen-scale', ch: [] } });
    sim.flash.set(OLD, APP_ADDRESS);
    await sim.attach(t.pty.device);
    const port = await freePort();
    const dataDir = path.join(t.dir, 'data');
    const cfg = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfg,
      JSON.stringify({
        gateway: { id: 'gw-button', dataDir },
        api: { listen: `127.0.0.1:${port}` },
        devices: [{ id: 'scale-7', transport: 'serial', port: t.pty.gateway, profile: 'home-a' }],
        firmware: { helloTimeoutS: 4, maxAttempts: 1, baud: 460800, idleS: 0 },
      }),
    );
    run = startCli(['run', '--config', cfg]);
    const client = new AgentClient(`http://127.0.0.1:${port}`, 'the test');
    await run.waitFor(/ready/, 20_000);
    const poll = async (): Promise<void> => {
      while (run) {
        last = await client.status().catch(() => last);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    void poll();
    const device = () => last?.devices.find((d) => d.id === 'scale-7');
    const update = (): DeviceUpdateRow | undefined =>
      (last as unknown as { firmware?: { devices: DeviceUpdateRow[] } } | null)?.firmware?.devices.find((d) => d.id === 'scale-7');
    const why = (): string => JSON.stringify({ device: device(), update: update(), app: sim?.app?.updatePending, out: run?.output().slice(-2000) });
    const app = () => sim!.app!;
    const household = (): Record<string, { doNotUpdate: boolean; deferredUntil: number | null }> =>
      JSON.parse(fs.readFileSync(path.join(dataDir, 'firmware', 'household.json'), 'utf8')) as Record<string, { doNotUpdate: boolean; deferredUntil: number | null }>;
    /** the long press: the frame is acked only once the household file holds it */
    const press = async (d: 'defer' | 'never', h?: number): Promise<void> => {
      const a = app();
      sim!.pressFirmwareChoice(d, h);
      await waitUntil(`the gateway acks ${d}`, () => a.unacked().length === 0, 10_000, why);
    };

    sim.powerOn();
    await waitUntil('the device says hello with 2.4.0', () => device()?.fw === '2.4.0' && device()?.connected === true, 20_000, why);

    // "not now" for 2 hours: durable and acked before any package is there (the rollout will find it on file)
    const before = Date.now();
    await press('defer', 2);
    const until = household()['scale-7'].deferredUntil!;
    expect(until).toBeGreaterThanOrEqual(before + 2 * HOUR);
    expect(until).toBeLessThanOrEqual(Date.now() + 2 * HOUR);

    // a package for it: the rollout waits on the household, and the device is told what is pending
    const file = path.join(t.dir, 'new.bin');
    fs.writeFileSync(file, NEW);
    expect((await runCli(['firmware', 'import', '--package', file, '--config', cfg])).code).toBe(0);
    await waitUntil('PENDING, deferred by the household', () => /^deferred by the household until /.test(update()?.reason ?? ''), 20_000, why);
    expect(update()).toMatchObject({ state: 'PENDING', deferredUntil: until, reason: `deferred by the household until ${new Date(until).toISOString()}` });
    await waitUntil('the device is told 2.5.0 is pending', () => app().updatePending === '2.5.0', 10_000, why);
    const shown = JSON.parse((await runCli(['devices', 'show', 'scale-7', '--config', cfg, '--json'])).stdout) as { update: unknown };
    expect(shown.update).toMatchObject({ state: 'PENDING', deferredUntil: new Date(until).toISOString() });

    // a device that boots again has forgotten it: told again after its hello
    const firstApp = app();
    sim.powerOn();
    await waitUntil('a new boot', () => sim!.app !== null && sim!.app !== firstApp, 10_000, why);
    await waitUntil('told again after the new hello', () => app().updatePending === '2.5.0', 20_000, why);

    // a frame the gateway cannot take is a field error: counted, not acked, nothing changed, nothing stops
    const bad = (await client.status()).devices.find((d) => d.id === 'scale-7')!.framesBad; // now, not the last poll's
    sim.writeFromApp(encodeSerialFrame({ type: 'firmware-choice', seq: 900, body: { d: 'later' } } as unknown as Frame));
    sim.writeFromApp(encodeSerialFrame({ type: 'firmware-choice', seq: 901, body: { d: 'defer', h: 0 } } as unknown as Frame));
    await waitUntil('two bad frames counted', () => device()!.framesBad === bad + 2, 10_000, why);
    expect(household()['scale-7'].deferredUntil).toBe(until);

    // "do not update": SKIPPED with the household's reason
    await press('never');
    await waitUntil('SKIPPED', () => update()?.state === 'SKIPPED', 10_000, why);
    expect(update()).toMatchObject({ reason: 'household chose do not update', doNotUpdate: true });
    expect(sim.flashTouched).toBe(false);

    // "allow": the rollout goes on at once and the device runs 2.5.0
    // (with idleS 0 the flasher may take the port before the ack is written: the file is what counts)
    sim.pressFirmwareChoice('allow');
    await waitUntil('allowed again on file', () => household()['scale-7'] === undefined, 10_000, why);
    await waitUntil('UPDATED', () => update()?.state === 'UPDATED', 60_000, why);
    expect(Buffer.compare(Buffer.from(sim.flash.subarray(APP_ADDRESS, APP_ADDRESS + NEW.length)), NEW)).toBe(0);
    await waitUntil('the device session on 2.5.0', () => device()?.fw === '2.5.0' && device()?.connected === true, 20_000, why);
    expect(run.output()).toMatch(/firmware update choice from the device button.*"choice":"defer"/);
  }, 120_000);
});
