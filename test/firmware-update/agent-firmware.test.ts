import { Agent } from '../../agent/controller';
import { renderMetrics } from '../../agent/api/metrics';
import { silentLogger } from '../../agent/logger';
import { kitchenScaleImage } from '../support/firmware-packages';
import { thingsboardDoubleFixture } from '../support/thingsboard-double/jest-fixture';
import { waitUntil } from '../support/wait-until';
import { household } from '../sync/household';

const IMAGE = kitchenScaleImage('2.5.0', 200 * 1024);

describe('the running agent takes a firmware package from ThingsBoard over its sync connection', () => {
  const f = thingsboardDoubleFixture('GW_TOKEN');

  it('downloads and verifies it, reports fw_state, shows it in status and /metrics, and the sync keeps working', async () => {
    const base = household(f.dir, { url: f.tb.url, profile: 'thingsboard' as const, accessToken: 'GW_TOKEN' });
    // firmware.chunkBytes as the loader fills it for the ThingsBoard profile (not given)
    const config = { ...base, firmware: { ...base.firmware, maxBytes: 4 * 1024 * 1024 } };
    const agent = (f.agent = new Agent(config, { logger: silentLogger, drivers: [], api: false }));
    await agent.start();
    await waitUntil('profiles connected', () => f.tb.devices.get('home-a')?.connected === true);
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'SHA256',
      data: IMAGE,
    });
    await waitUntil(
      'VERIFIED',
      () => agent.status().firmware?.state === 'VERIFIED',
      20_000,
      () =>
        JSON.stringify([agent.status().firmware, (agent.status() as unknown as { parts: unknown }).parts]),
    );
    // the ThingsBoard profile's default chunk size, its transport's max_payload_size: the server never closes on it
    expect(f.tb.ota.requests.every((r) => r.size === 65536)).toBe(true);
    expect(f.tb.ota.requests).toHaveLength(Math.ceil(IMAGE.length / 65536));
    expect(f.tb.closesByServer).toBe(0);
    await waitUntil('VERIFIED upstream', () => f.tb.latest('').fw_state?.value === 'VERIFIED');
    expect(agent.status().firmware).toMatchObject({
      package: { title: 'kitchen-scale', version: '2.5.0', size: IMAGE.length },
      error: null,
      devices: [],
    });
    const metrics = renderMetrics(agent.status());
    expect(metrics).toContain(
      'edge_agent_firmware_package_state{title="kitchen-scale",version="2.5.0",state="VERIFIED"} 1',
    );
    // the gateway's own shared attributes are the firmware module's; the sync's profile attributes still work
    await f.tb.setSharedAttributes('home-a', { v_tea: '33' });
    await waitUntil(
      'V applied',
      () => agent.status().engagement.find((e) => e.profile === 'home-a' && e.campaign === 'tea')?.v === 33,
    );
  }, 40_000);
});
