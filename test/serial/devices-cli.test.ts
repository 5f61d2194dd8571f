import * as fs from 'node:fs';
import * as path from 'node:path';
import { SerialSimDevice } from '../../drivers/sim';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';
import { runCli, startCli } from '../support/run-cli';
import { freePort } from '../support/free-port';

(hasSocat ? describe : describe.skip)('edge-agent devices (CLI) with a simulated ESP32 on a PTY', () => {
  let sim: SerialSimDevice;
  const t = ptyPerTest({
    setUp: ({ pty }) => {
      sim = new SerialSimDevice(pty.device, { id: 'scale-9', model: 'kitchen-scale', fw: '3.0.1', kind: 'kitchen-scale', ratePerMin: 300 });
    },
    tearDown: () => sim.close(),
  });

  it('devices scan --port probes the port and recognises our protocol', async () => {
    await sim.open(false);
    const res = await runCli(['devices', 'scan', '--port', t.pty.gateway, '--timeout', '1', '--json']);
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as { ports: Array<{ path: string; probe: { ok: boolean; speaksProtocol: boolean; error: string | null } }> };
    const p = doc.ports.find((x) => x.path === t.pty.gateway)!;
    expect(p.probe).toMatchObject({ ok: true, speaksProtocol: true, error: null });
    expect(sim.device.identifyCount).toBe(1);
  });

  it('devices scan reports a port that does not exist as unopenable, not a crash', async () => {
    const res = await runCli(['devices', 'scan', '--port', path.join(t.dir, 'nope'), '--timeout', '0.2']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/cannot open/);
  });

  it('devices list shows the device the running agent sees on the serial port, with its firmware', async () => {
    const apiPort = await freePort();
    const cfgFile = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      cfgFile,
      `gateway: { id: gw-pty, dataDir: ${path.join(t.dir, 'data')} }
api: { listen: "127.0.0.1:${apiPort}" }
devices:
  - { id: scale-9, transport: serial, port: ${t.pty.gateway}, baud: 115200, profile: home-a }
consent:
  grants: [{ device: scale-9, category: usage }]
`,
    );
    const agent = startCli(['run', '--config', cfgFile]);
    try {
      await agent.waitFor(/ready/);
      await sim.open();
      let row: { connected: boolean; fw: string | null; type: string | null; framesOk: number } | undefined;
      for (let i = 0; i < 40; i++) {
        const res = await runCli(['devices', 'list', '--config', cfgFile, '--json']);
        row = (JSON.parse(res.stdout) as { devices: Array<typeof row & { id: string }> }).devices.find((d) => d?.id === 'scale-9');
        if (row?.fw && row.framesOk > 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(row).toMatchObject({ connected: true, fw: '3.0.1', type: 'kitchen-scale' });
      const human = await runCli(['devices', 'list', '--config', cfgFile]);
      const identify = await runCli(['devices', 'identify', 'scale-9', '--config', cfgFile]);
      expect(identify.stdout).toMatch(/scale-9: identify acknowledged \(seq \d+, \d+ ms, attempt 1\)/);
      expect(identify.code).toBe(0);
      expect(sim.device.identifyCount).toBe(1);
      const notify = await runCli(['devices', 'notify', 'scale-9', '--text', 'Time to reorder', '--buzz', '--json', '--config', cfgFile]);
      expect(JSON.parse(notify.stdout)).toMatchObject({ device: 'scale-9', command: 'notify', acked: true });
      expect(sim.device.notifications.at(-1)).toEqual({ c: 'notify', text: 'Time to reorder', buzz: true });
      const bad = await runCli(['devices', 'notify', 'scale-9', '--config', cfgFile]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/give at least one of text, led, buzz/);
      const unknown = await runCli(['devices', 'identify', 'kettle-1', '--config', cfgFile]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no device "kettle-1" in the config/);
      expect(human.stdout).toMatch(new RegExp(`scale-9\\s+serial\\s+${t.pty.gateway.replace(/[/.]/g, '\\$&')}\\s+kitchen-scale\\s+3\\.0\\.1\\s+home-a\\s+up`));
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
    const offline = await runCli(['devices', 'list', '--config', cfgFile]);
    expect(offline.stdout).toMatch(/scale-9.*kitchen-scale\s+3\.0\.1/);
    expect(offline.stderr).toMatch(/agent is not running/);
    const noAgent = await runCli(['devices', 'identify', 'scale-9', '--config', cfgFile]);
    expect(noAgent.code).toBe(1);
    expect(noAgent.stderr).toMatch(/the agent is not running .* start it with: edge-agent run/);
  }, 30_000);
});
