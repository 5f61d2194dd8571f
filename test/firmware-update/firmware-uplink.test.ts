import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { FirmwareUpdates, DEFAULT_FIRMWARE_OPTIONS } from '../../agent/firmware-update/firmware-updates';
import { FirmwareUplink, type FirmwareUplinkOptions } from '../../agent/firmware-update/firmware-uplink';
import { kitchenScaleImage } from '../support/firmware-packages';
import { freePort } from '../support/free-port';
import { Mosquitto, hasMosquitto } from '../support/mosquitto';
import { OtaServerDouble } from '../support/ota-server-double';
import { connectGateway } from '../support/gateway-connection';
import { thingsboardDoubleFixture } from '../support/thingsboard-double/jest-fixture';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';

const IMAGE = kitchenScaleImage('2.5.0', 300 * 1024);
const CHUNK = 16 * 1024;
const facts = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  model: 'kitchen-scale',
  fw: '2.4.0',
  connected: true,
  idle: true,
  doNotUpdate: false,
  deferredUntil: null,
  ...over,
});

describe('FirmwareUplink against the ThingsBoard double (server-side OTA as the MQTT transport serves it)', () => {
  const f = thingsboardDoubleFixture('GW_TOKEN');
  let conn: ReturnType<typeof connectGateway> | null = null;
  let uplink: FirmwareUplink;
  let updates: FirmwareUpdates;
  const verified: string[] = [];

  const start = async (
    opts: Partial<FirmwareUplinkOptions> = {},
    maxBytes = 8 * 1024 * 1024,
  ): Promise<void> => {
    updates = new FirmwareUpdates(path.join(f.dir, 'data'), { ...DEFAULT_FIRMWARE_OPTIONS, maxBytes });
    uplink = new FirmwareUplink(updates, {
      profile: 'thingsboard',
      gatewayId: 'gw-1',
      baseTopic: 'edge',
      chunkBytes: CHUNK,
      chunkTimeoutMs: 1000,
      onVerified: (p) => verified.push(p.version),
      ...opts,
    });
    conn = connectGateway(f.tb.url, uplink, 'GW_TOKEN');
    await conn.first;
  };
  afterEach(async () => {
    uplink?.stop();
    await conn?.end();
    conn = null;
    verified.length = 0;
  });
  /** the gateway's fw_state transitions (progress reports repeat a state) */
  const gatewayStates = (): unknown[] =>
    f.tb
      .series('', 'fw_state')
      .map((p) => p.value)
      .filter((v, i, a) => i === 0 || a[i - 1] !== v);

  it('a package assigned to the gateway is announced, downloaded in chunks, verified, and every state reported', async () => {
    await start();
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'SHA256',
      data: IMAGE,
    });
    await waitUntil(
      'VERIFIED upstream',
      () => gatewayStates().includes('VERIFIED'),
      20_000,
      () => ` states: ${JSON.stringify(gatewayStates())}`,
    );
    expect(gatewayStates()).toEqual(['QUEUED', 'INITIATED', 'DOWNLOADING', 'DOWNLOADED', 'VERIFIED']);
    expect(verified).toEqual(['2.5.0']);
    expect(Buffer.compare(updates.store.verified()!.image, IMAGE)).toBe(0);
    expect(f.tb.ota.requests.every((r) => r.size === CHUNK)).toBe(true);
    expect(f.tb.closesByServer).toBe(0);

    // the rollout: scale-1 waits for its turn, scale-2 is "do not update"
    updates.defer('scale-2', { never: true });
    updates.plan([facts('scale-1'), facts('scale-2')], Date.now());
    uplink.report();
    await waitUntil('sub-devices reported', () => f.tb.latest('gw-1:scale-2').fw_state !== undefined);
    expect(f.tb.devices.get('gw-1:scale-1')).toMatchObject({ type: 'kitchen-scale', connected: true });
    expect(f.tb.latest('gw-1:scale-1').fw_state.value).toBe('VERIFIED');
    expect(f.tb.latest('gw-1:scale-1').current_fw_version.value).toBe('2.4.0');
    expect(f.tb.latest('gw-1:scale-2').fw_error.value).toBe('skipped: household chose do not update');

    // scale-1 updated (as the executor journals it): the device and then the package are UPDATED
    const r = updates.journal.load()!;
    Object.assign(
      r.devices.find((d) => d.id === 'scale-1')!,
      { state: 'UPDATED', fw: '2.5.0', progress: 100 },
    );
    updates.journal.save(r);
    updates.refreshCampaign(r);
    uplink.report();
    await waitUntil('UPDATED upstream', () => gatewayStates().includes('UPDATED'));
    expect(f.tb.latest('').current_fw_version.value).toBe('2.5.0');
    expect(f.tb.latest('gw-1:scale-1')).toMatchObject({
      fw_state: { value: 'UPDATED' },
      current_fw_version: { value: '2.5.0' },
      fw_progress: { value: 100 },
    });
  }, 40_000);

  it('learns of a package assigned while it was offline from the attribute request at connect', async () => {
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'CRC32',
      data: IMAGE,
    });
    await start();
    await waitUntil('VERIFIED', () => updates.campaign()?.state === 'VERIFIED', 20_000);
    expect(f.tb.log.some((m) => m.topic.startsWith('v1/devices/me/attributes/request/'))).toBe(true);
  }, 30_000);

  it('survives a server restart mid-download: resumes on disk, under a new request id in the new session', async () => {
    await start();
    let restarted = false;
    f.tb.ota.stallFrom = 8; // the server stalls after 8 chunks (else a fast machine finishes before the restart)
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'MD5',
      data: IMAGE,
    });
    await waitUntil('8 chunks on disk', () => (updates.store.current()?.chunks ?? 0) >= 8, 20_000);
    f.tb.ota.stallFrom = null;
    await f.tb.restart(300);
    restarted = true;
    await waitUntil('VERIFIED', () => updates.campaign()?.state === 'VERIFIED', 30_000);
    expect(restarted).toBe(true);
    const ids = [...new Set(f.tb.ota.requests.map((r) => r.requestId))];
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(f.tb.ota.requests.filter((r) => r.chunk === 0)).toHaveLength(1);
  }, 40_000);

  it('a server limit below every size tried: each refusal closes the session, the campaign is FAILED with the fix', async () => {
    f.tb.ota.maxPayloadSize = 8 * 1024; // 128, 64, 32 and 16 KiB refused in turn, each on a connection of its own
    await start({ chunkBytes: 128 * 1024 });
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'SHA256',
      data: IMAGE,
    });
    await waitUntil('FAILED', () => updates.campaign()?.state === 'FAILED', 20_000);
    expect(updates.campaign()?.error).toMatch(
      /PAYLOAD_TOO_LARGE \(chunk size 16384, after 131072, 65536, 32768 is over the server's limit: set firmware.chunkBytes/,
    );
    expect(new Set(f.tb.ota.requests.map((r) => r.size))).toEqual(new Set([131072, 65536, 32768, 16384]));
    expect(f.tb.rejections.at(-1)).toMatchObject({ outcome: 'closed', reason: 'PAYLOAD_TOO_LARGE' });
    await waitUntil('FAILED reported after the reconnect', () => gatewayStates().includes('FAILED'), 10_000);
    expect(f.tb.latest('').fw_error.value).toMatch(/PAYLOAD_TOO_LARGE/);
  }, 40_000);

  it('a package over the storage budget is refused before a chunk is asked for', async () => {
    await start({}, 100 * 1024);
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'SHA256',
      data: IMAGE,
    });
    await waitUntil('FAILED reported', () => gatewayStates().includes('FAILED'));
    expect(f.tb.latest('').fw_error.value).toBe(
      `package of ${IMAGE.length} bytes exceeds the firmware storage budget (102400 bytes free of 102400; raise firmware.maxBytes)`,
    );
    expect(f.tb.ota.requests).toHaveLength(0);
  });

  it('unassigned mid-download: the download stops, nothing is kept, FAILED with the reason', async () => {
    await start();
    f.tb.ota.dropOnce.add(3); // slow it down so the unassignment lands mid-download
    await f.tb.assignFirmware({
      title: 'kitchen-scale',
      version: '2.5.0',
      checksumAlgorithm: 'SHA256',
      data: IMAGE,
    });
    await waitUntil('downloading', () => (updates.store.current()?.chunks ?? 0) >= 2);
    await f.tb.unassignFirmware();
    await waitUntil('cancelled', () => updates.campaign()?.state === 'FAILED');
    expect(updates.campaign()?.error).toBe('cancelled: the package was unassigned upstream');
    expect(updates.store.current()).toBeNull();
    expect(updates.store.verified()).toBeNull();
  }, 30_000);
});

(hasMosquitto ? describe : describe.skip)('FirmwareUplink, generic profile, on a real Mosquitto', () => {
  let t: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let server: OtaServerDouble;
  let conn: ReturnType<typeof connectGateway>;
  let uplink: FirmwareUplink;
  let updates: FirmwareUpdates;
  const seen: Array<{ topic: string; payload: string }> = [];

  beforeEach(async () => {
    t = tempDir('edge-fw-gen-');
    broker = new Mosquitto(await freePort());
    await broker.start();
    server = new OtaServerDouble(broker.url, 'edge/gw-1/firmware');
    server.package = IMAGE;
    await server.start();
    updates = new FirmwareUpdates(path.join(t.dir, 'data'));
    uplink = new FirmwareUplink(updates, {
      profile: 'generic',
      gatewayId: 'gw-1',
      baseTopic: 'edge',
      chunkBytes: CHUNK,
    });
    conn = connectGateway(broker.url, uplink);
    await conn.first;
    seen.length = 0;
    await server.watch(['edge/gw-1/response/firmware', 'edge/gw-1/firmware/state'], (topic, payload) =>
      seen.push({ topic, payload }),
    );
  });
  afterEach(async () => {
    uplink.stop();
    await conn.end();
    await server.stop();
    await broker.dispose();
    t.cleanup();
  });

  const sha = createHash('sha256').update(IMAGE).digest('hex');
  /** the platform's set/firmware for IMAGE as kitchen-scale 2.5.0 */
  const announce = (extra: Record<string, unknown> = {}): Promise<void> =>
    server.publish(
      'edge/gw-1/set/firmware',
      JSON.stringify({ title: 'kitchen-scale', version: '2.5.0', size: IMAGE.length, checksum: sha, checksumAlgorithm: 'SHA256', ...extra }),
    );
  const states = (): string[] =>
    seen
      .filter((m) => m.topic.endsWith('/firmware/state'))
      .map((m) => (JSON.parse(m.payload) as { state: string }).state);

  it('set/firmware starts a download over the same connection, answered and reported on the retained state topic', async () => {
    await announce({ transaction: 't-1' });
    await waitUntil(
      'VERIFIED',
      () => states().includes('VERIFIED'),
      20_000,
      () => JSON.stringify(states()),
    );
    expect(JSON.parse(seen.find((m) => m.topic.endsWith('/response/firmware'))!.payload)).toEqual({
      status: 'ok',
      data: { state: 'DOWNLOADING' },
      transaction: 't-1',
    });
    expect(states()[0]).toBe('DOWNLOADING');
    expect(states().slice(-2)).toEqual(['DOWNLOADED', 'VERIFIED']);
    // the same package again changes nothing
    await announce();
    await waitUntil(
      'second answer',
      () => seen.filter((m) => m.topic.endsWith('/response/firmware')).length === 2,
    );
    expect(JSON.parse(seen.filter((m) => m.topic.endsWith('/response/firmware'))[1].payload)).toEqual({
      status: 'ok',
      data: { state: 'VERIFIED' },
    });
  }, 30_000);

  it('a bad set/firmware gets an error answer and changes nothing', async () => {
    await server.publish(
      'edge/gw-1/set/firmware',
      JSON.stringify({
        title: 'kitchen-scale',
        version: '2.5.0',
        size: IMAGE.length,
        checksum: 'abc',
        checksumAlgorithm: 'SHA256',
        transaction: 9,
      }),
    );
    await server.publish('edge/gw-1/set/firmware', 'not json');
    await waitUntil(
      'two answers',
      () => seen.filter((m) => m.topic.endsWith('/response/firmware')).length === 2,
    );
    const answers = seen
      .filter((m) => m.topic.endsWith('/response/firmware'))
      .map((m) => JSON.parse(m.payload) as unknown);
    expect(answers).toEqual([
      { status: 'error', error: 'checksum must be 64 hex digits for SHA256', transaction: 9 },
      { status: 'error', error: 'set/firmware needs a JSON object' },
    ]);
    expect(updates.campaign()).toBeNull();
  });
});
