import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentClient } from '../../agent/cli/api-client';
import type { StatusDocument } from '../../agent/api/status';
import { Esp32RomSimulator, type Esp32RomSimOptions } from '../support/esp-rom-sim';
import { APP_ADDRESS, kitchenScaleImage } from '../support/firmware-packages';
import { freePort } from '../support/free-port';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';
import { runCli, startCli } from '../support/run-cli';
import { ThingsboardDouble } from '../support/thingsboard-double/thingsboard-double';
import { waitUntil } from '../support/wait-until';

const OLD = kitchenScaleImage('2.4.0', 96 * 1024, 31);
const NEW = kitchenScaleImage('2.5.0', 128 * 1024, 32);
/** 32 chunks of 16 KiB: enough for a kill well past the first fsync batch */
const BIG = kitchenScaleImage('2.5.0', 512 * 1024, 33);
const APP = APP_ADDRESS;
const SUB = 'gw-fw:scale-7';

/**
 * The whole path in one running agent: ThingsBoard assigns a package to the gateway, the agent downloads it over
 * its sync connection into its data directory, then flashes the paired ESP32 over the serial port its serial
 * driver uses (real PTY, the ROM-bootloader simulator, the real flasher), takes the new firmware's hello and
 * reports upstream — or flashes the previous image back when no hello comes.
 */
(hasSocat ? describe : describe.skip)('the running agent updates a paired ESP32 assigned upstream', () => {
  const f = { dir: '', tb: null as unknown as ThingsboardDouble };
  let sim: Esp32RomSimulator;
  let run: ReturnType<typeof startCli> | null = null;
  let cfg = '';
  let api = '';

  const t = ptyPerTest({
    prefix: 'edge-fw-agent-',
    setUp: async ({ dir }) => {
      f.dir = dir;
      f.tb = new ThingsboardDouble({ accessToken: 'GW_TOKEN' });
      await f.tb.start(await freePort());
    },
    tearDown: async () => {
      await stopAgent('SIGTERM');
      await sim?.detach();
      await f.tb.stop();
    },
  });
  async function stopAgent(signal: NodeJS.Signals): Promise<void> {
    const r = run;
    run = null;
    r?.child.kill(signal);
    await r?.exit;
  }

  /** `edge-agent run` with the device on the PTY; the simulated board is plugged in and powered on. */
  async function start(opts: Esp32RomSimOptions = {}, assign = true): Promise<void> {
    sim = new Esp32RomSimulator({ autoReset: true, ...opts });
    sim.flash.set(OLD, APP);
    await sim.attach(t.pty.device);
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    cfg = path.join(f.dir, 'config.yaml');
    fs.writeFileSync(
      cfg,
      JSON.stringify({
        gateway: { id: 'gw-fw', dataDir: path.join(f.dir, 'data') },
        api: { listen: `127.0.0.1:${port}` },
        upstream: {
          url: f.tb.url,
          profile: 'thingsboard',
          accessToken: 'GW_TOKEN',
          reconnect: { minMs: 50, maxMs: 300 },
        },
        devices: [{ id: 'scale-7', transport: 'serial', port: t.pty.gateway, profile: 'home-a' }],
        firmware: { helloTimeoutS: 4, chunkBytes: 16384, maxAttempts: 1, baud: 460800, idleS: 0 },
      }),
    );
    await startAgent();
    sim.powerOn(); // the device boots its app: hello with 2.4.0 to the agent's serial driver
    await waitUntil('the device says hello with 2.4.0', () => device()?.fw === '2.4.0', 20_000);
    await waitUntil('the gateway connected upstream', () => f.tb.gatewayConnected);
    if (assign)
      await f.tb.assignFirmware({ title: 'kitchen-scale', version: '2.5.0', checksumAlgorithm: 'SHA256', data: NEW });
  }
  let last: StatusDocument | null = null;
  async function startAgent(): Promise<void> {
    run = startCli(['run', '--config', cfg]);
    await run.waitFor(/ready/, 20_000);
    // polled in the background: waitUntil's conditions are synchronous
    const poll = async (): Promise<void> => {
      while (run) {
        last = await new AgentClient(api, 'the test').status().catch(() => last);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    void poll();
  }
  const device = () => last?.devices.find((d) => d.id === 'scale-7');
  const holds = (image: Buffer): boolean =>
    Buffer.compare(Buffer.from(sim.flash.subarray(APP, APP + image.length)), image) === 0;
  const progressOnDisk = (): { chunks: number; bytes: number } | null => {
    try {
      const file = path.join(f.dir, 'data', 'firmware', 'download', 'progress.json');
      return JSON.parse(fs.readFileSync(file, 'utf8')) as { chunks: number; bytes: number };
    } catch {
      return null;
    }
  };
  const states = (device: string): string[] => f.tb.series(device, 'fw_state').map((x) => String(x.value));
  const why = (): string =>
    JSON.stringify({ firmware: last?.firmware, gw: f.tb.latest(''), dev: f.tb.latest(SUB), out: run?.output() });
  const firmwareStatus = async (): Promise<{ state: string; devices: Array<Record<string, unknown>> }> =>
    JSON.parse((await runCli(['firmware', 'status', '--config', cfg, '--json'])).stdout) as {
      state: string;
      devices: Array<Record<string, unknown>>;
    };

  it('downloads, flashes, takes the hello with the new version and reports UPDATED upstream', async () => {
    await start();
    await waitUntil('UPDATED upstream', () => f.tb.latest('').fw_state?.value === 'UPDATED', 60_000, why);
    expect(holds(NEW)).toBe(true);
    expect(sim.ops).toContain(0xd2); // the backup was read back from the device before the first write
    // the server's QUEUED/INITIATED, then the gateway's own reports (a state repeats while its progress moves)
    expect(states('').filter((x, i, all) => x !== all[i - 1])).toEqual([
      'QUEUED',
      'INITIATED',
      'DOWNLOADING',
      'DOWNLOADED',
      'VERIFIED',
      'UPDATING',
      'UPDATED',
    ]);
    expect(f.tb.latest('')).toMatchObject({
      current_fw_title: { value: 'kitchen-scale' },
      current_fw_version: { value: '2.5.0' },
    });
    expect(f.tb.latest(SUB)).toMatchObject({
      fw_state: { value: 'UPDATED' },
      current_fw_version: { value: '2.5.0' },
    });
    expect(states(SUB)).toContain('UPDATING');
    expect((await firmwareStatus()).devices).toEqual([
      expect.objectContaining({ id: 'scale-7', state: 'UPDATED', fw: '2.5.0', fromVersion: '2.4.0' }),
    ]);
    // the serial driver has its port back and the device session knows the version it runs now
    await waitUntil('the device session on 2.5.0', () => device()?.fw === '2.5.0' && device()?.connected === true);
  }, 90_000);

  it('a new image that never says hello is rolled back: the old image runs, FAILED upstream with the reason', async () => {
    await start({ silentVersions: ['2.5.0'] });
    await waitUntil('FAILED upstream', () => f.tb.latest('').fw_state?.value === 'FAILED', 60_000, why);
    const reason = 'no hello with 2.5.0 expected within 4 s; rolled back to 2.4.0';
    expect(holds(OLD)).toBe(true);
    expect(sim.boots).toBe(3); // power-on, the silent new image, the old one flashed back
    expect(f.tb.latest('').fw_error?.value).toBe(`scale-7: ${reason}`);
    expect(f.tb.latest(SUB)).toMatchObject({ fw_state: { value: 'FAILED' }, fw_error: { value: reason } });
    expect((await firmwareStatus()).devices).toEqual([
      expect.objectContaining({ id: 'scale-7', state: 'FAILED', fw: '2.4.0', reason }),
    ]);
    await waitUntil('the device session on 2.4.0', () => device()?.fw === '2.4.0' && device()?.connected === true);
  }, 90_000);

  it('an agent SIGKILLed mid-download resumes from its durable progress after the restart, then updates the device', async () => {
    f.tb.ota.stallFrom = 20; // chunks 0..19 answered, then the server stalls: the agent is killed waiting
    await start({}, false);
    await f.tb.assignFirmware({ title: 'kitchen-scale', version: '2.5.0', checksumAlgorithm: 'SHA256', data: BIG });
    await waitUntil('chunk 20 asked for', () => f.tb.ota.requests.some((r) => r.chunk >= 20), 30_000, why);
    // the background sync records what arrived (docs/firmware-updates.md §4: at most 1 MiB behind)
    await waitUntil('progress durable', () => (progressOnDisk()?.chunks ?? 0) >= 16, 10_000, why);
    await stopAgent('SIGKILL');
    const durable = progressOnDisk()!;
    expect(durable.bytes).toBe(durable.chunks * 16384);
    const before = f.tb.ota.requests.length;
    f.tb.ota.stallFrom = null;
    await startAgent();
    await waitUntil('UPDATED upstream', () => f.tb.latest('').fw_state?.value === 'UPDATED', 60_000, why);
    const resumed = f.tb.ota.requests.slice(before);
    expect(Math.min(...resumed.map((r) => r.chunk))).toBe(durable.chunks);
    // nothing below the durable progress fetched twice: the package crossed the link once plus the lost batch
    expect(resumed.filter((r) => r.chunk < durable.chunks)).toEqual([]);
    expect(holds(BIG)).toBe(true);
  }, 120_000);
});
