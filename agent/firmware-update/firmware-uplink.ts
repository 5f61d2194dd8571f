import type { MqttClient } from 'mqtt';
import { DownloadFailure } from './download-failure';
import {
  PackageAnnouncementError,
  TB_FW_ATTRIBUTES,
  packageFromGenericRequest,
  packageFromThingsboardAttributes,
  samePackage,
  type FirmwarePackage,
} from './firmware-package';
import type { FirmwareStatus, FirmwareUpdates } from './firmware-updates';
import { genericOtaTopics, thingsboardOtaTopics, type OtaTopics } from './ota-topics';
import { PackageDownloader } from './package-downloader';
import type { DeviceUpdate } from './rollout-plan';

export interface FirmwareUplinkOptions {
  profile: 'thingsboard' | 'generic';
  gatewayId: string;
  /** generic profile only */
  baseTopic: string;
  chunkBytes: number;
  chunkTimeoutMs?: number;
  /** a package passed every check: the rollout may start */
  onVerified?: (pkg: FirmwarePackage) => void;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * ThingsBoard has no PENDING or SKIPPED (OtaPackageUpdateStatus): a device waiting for its turn has its package
 * downloaded and verified by its gateway (VERIFIED); a skipped device is FAILED with the household's reason.
 */
function tbDeviceState(d: DeviceUpdate): { state: string; error: string | null } {
  switch (d.state) {
    case 'PENDING':
      return { state: 'VERIFIED', error: null };
    case 'SKIPPED':
      return { state: 'FAILED', error: `skipped: ${d.reason ?? 'household chose do not update'}` };
    case 'FAILED':
      return { state: 'FAILED', error: d.reason };
    default:
      return { state: d.state, error: null };
  }
}

/**
 * The firmware campaign's side of the upstream connection (docs/firmware-updates.md §2, §3): learns of packages
 * (ThingsBoard shared attributes of the gateway device, asked for at every connect; generic `set/firmware`),
 * downloads them over the same connection, and reports the package's and every device's state where the platform
 * looks. It shares the sync's MQTT connection: `attach` on every connect, `detach` on close, and the topics it
 * `claims` are not handed to the sync profile.
 */
export class FirmwareUplink {
  private client: MqttClient | null = null;
  private downloader: PackageDownloader | null = null;
  private readonly topics: OtaTopics;
  private readonly root: string;
  private attrRequestId = 0;
  /** what was last reported, per device ('' = the package), so a report only sends changes */
  private readonly reported = new Map<string, string>();
  /** sub-devices announced with v1/gateway/connect in this session */
  private readonly connected = new Set<string>();
  private lastTs = 0;
  private lastProgressReport = 0;
  private readonly onMessage = (topic: string, payload: Buffer): void => this.message(topic, payload);

  constructor(
    private readonly updates: FirmwareUpdates,
    private readonly o: FirmwareUplinkOptions,
  ) {
    this.root = `${o.baseTopic}/${o.gatewayId}`;
    this.topics =
      o.profile === 'thingsboard' ? thingsboardOtaTopics : genericOtaTopics(o.baseTopic, o.gatewayId);
  }

  private get tb(): boolean {
    return this.o.profile === 'thingsboard';
  }

  subscriptions(): string[] {
    return this.tb
      ? ['v1/devices/me/attributes', 'v1/devices/me/attributes/response/+']
      : [`${this.root}/set/firmware`];
  }

  /** Topics the sync profile must not answer (they are this module's). */
  claims(topic: string): boolean {
    if (this.tb)
      return (
        topic === 'v1/devices/me/attributes' ||
        topic.startsWith('v1/devices/me/attributes/response/') ||
        topic.startsWith('v2/fw/')
      );
    return topic === `${this.root}/set/firmware` || topic.startsWith(`${this.root}/firmware/`);
  }

  attach(client: MqttClient): void {
    this.detach();
    this.client = client;
    this.reported.clear();
    client.on('message', this.onMessage);
    client.subscribe(this.subscriptions(), { qos: 1 });
    if (this.tb) {
      // an assignment made while the gateway was offline is only in the stored attributes
      client.publish(
        `v1/devices/me/attributes/request/${++this.attrRequestId}`,
        JSON.stringify({ sharedKeys: TB_FW_ATTRIBUTES.join(',') }),
        { qos: 1 },
      );
    }
    this.resumeDownload();
    if (this.downloader) this.downloader.attach(client);
    this.report();
  }

  detach(): void {
    this.client?.removeListener('message', this.onMessage);
    this.client = null;
    this.downloader?.detach();
    this.connected.clear();
  }

  /** Stops the download (agent shutdown); the progress on disk stays for the next start. */
  stop(): void {
    this.detach();
    this.downloader = null;
  }

  private message(topic: string, payload: Buffer): void {
    if (!this.claims(topic) || topic.startsWith('v2/fw/') || topic.startsWith(`${this.root}/firmware/`))
      return; // chunks: the downloader's
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      if (!this.tb) this.answer(undefined, { status: 'error', error: 'set/firmware needs a JSON object' });
      return;
    }
    if (this.tb) {
      if (!isObject(body)) return;
      if (topic === 'v1/devices/me/attributes') {
        const deleted = Array.isArray(body.deleted)
          ? body.deleted.filter((k): k is string => typeof k === 'string')
          : [];
        this.fromThingsboard(body, deleted, false);
      } else {
        const shared = isObject(body.shared) ? body.shared : {};
        this.fromThingsboard(shared, [], true);
      }
      return;
    }
    const transaction = isObject(body) ? body.transaction : undefined;
    try {
      const a = packageFromGenericRequest(body);
      const state = 'cancel' in a ? this.cancel('cancelled upstream') : this.announce(a);
      this.answer(transaction, { status: 'ok', data: { state } });
    } catch (err) {
      if (!(err instanceof PackageAnnouncementError)) throw err;
      this.answer(transaction, { status: 'error', error: err.message });
    }
  }

  private fromThingsboard(attrs: Record<string, unknown>, deleted: string[], isFullState: boolean): void {
    try {
      const a = packageFromThingsboardAttributes(attrs, deleted);
      if (a === null) {
        // the stored attributes name no package: it was unassigned while the gateway was away
        if (isFullState && this.updates.campaign()) this.cancel('the package was unassigned upstream');
        return;
      }
      if ('cancel' in a) this.cancel('the package was unassigned upstream');
      // a pushed update is the operator (re)assigning: it retries a failed package; the state read at connect does not
      else this.announce(a, !isFullState);
    } catch (err) {
      if (!(err instanceof PackageAnnouncementError)) throw err;
      this.publishGateway({ fw_state: 'FAILED', fw_error: err.message });
    }
  }

  private answer(
    transaction: unknown,
    body: { status: 'ok' | 'error'; data?: unknown; error?: string },
  ): void {
    const t = typeof transaction === 'string' || typeof transaction === 'number' ? { transaction } : {};
    this.client?.publish(`${this.root}/response/firmware`, JSON.stringify({ ...body, ...t }), { qos: 1 });
  }

  /**
   * A package from upstream: the same one again changes nothing (a FAILED one is tried again only when
   * `retryFailed`: an operator's new request, not the state re-read at every connect); another one replaces the
   * campaign.
   */
  announce(pkg: FirmwarePackage, retryFailed = true): string {
    const c = this.updates.campaign();
    if (c && samePackage(c.pkg, pkg) && (c.state !== 'FAILED' || !retryFailed)) {
      this.resumeDownload();
      return c.state;
    }
    this.downloader?.cancel('replaced by a newer package');
    this.downloader = null;
    this.updates.setCampaign(pkg, 'DOWNLOADING');
    this.startDownload(pkg);
    this.report();
    return this.updates.campaign()?.state ?? 'DOWNLOADING';
  }

  private resumeDownload(): void {
    const c = this.updates.campaign();
    if (this.downloader || c?.state !== 'DOWNLOADING') return;
    this.startDownload(c.pkg);
  }

  private startDownload(pkg: FirmwarePackage): void {
    let d: PackageDownloader;
    try {
      d = new PackageDownloader(this.updates.store, this.topics, pkg, {
        chunkBytes: this.o.chunkBytes,
        chunkTimeoutMs: this.o.chunkTimeoutMs,
        onProgress: () => {
          const now = Date.now();
          if (now - this.lastProgressReport >= 1000) {
            this.lastProgressReport = now;
            this.report();
          }
        },
      });
    } catch (err) {
      if (!(err instanceof DownloadFailure)) throw err;
      this.updates.setCampaign(pkg, 'FAILED', err.message);
      this.report();
      return;
    }
    this.downloader = d;
    if (this.client) d.attach(this.client);
    d.done.then(
      () => {
        if (this.downloader !== d) return;
        this.downloader = null;
        this.updates.setCampaign(pkg, 'DOWNLOADED');
        this.report();
        this.updates.startRollout(pkg);
        this.report();
        this.o.onVerified?.(pkg);
      },
      (err: unknown) => {
        if (this.downloader !== d) return;
        this.downloader = null;
        this.updates.setCampaign(pkg, 'FAILED', errorText(err));
        this.report();
      },
    );
  }

  /** Unassigned upstream: the download stops, devices not yet updated are not updated; one being flashed finishes. */
  cancel(reason: string): string {
    const c = this.updates.campaign();
    if (!c) return 'none';
    this.downloader?.cancel(reason);
    this.downloader = null;
    this.updates.store.discard();
    this.updates.journal.update((r) => {
      for (const d of r?.devices ?? [])
        if (d.state === 'PENDING') Object.assign(d, { state: 'FAILED', reason: `cancelled: ${reason}` });
      return r;
    });
    this.updates.setCampaign(c.pkg, 'FAILED', `cancelled: ${reason}`);
    this.report();
    return 'FAILED';
  }

  /** Publishes what changed since the last report (every state change, progress at most once a second). */
  report(): void {
    const c = this.client;
    if (!c) return;
    const s = this.updates.status();
    if (!s.package) return;
    if (this.tb) this.reportThingsboard(s);
    else {
      const doc = JSON.stringify({
        package: { title: s.package.title, version: s.package.version },
        state: s.state,
        error: s.error,
        bytes: s.bytes,
        devices: s.devices.map((d) => ({
          id: d.id,
          model: d.model,
          state: d.state,
          step: d.step,
          progress: d.progress,
          fw: d.fw,
          error: d.state === 'PENDING' ? null : d.reason,
          waiting: d.state === 'PENDING' ? d.reason : null,
        })),
      });
      if (this.reported.get('') === doc) return;
      this.reported.set('', doc);
      c.publish(`${this.root}/firmware/state`, doc, { qos: 1, retain: true });
    }
  }

  private reportThingsboard(s: FirmwareStatus): void {
    const pkg = s.package!;
    const gw: Record<string, string | number> = { fw_state: s.state ?? 'FAILED' };
    if (s.error) gw.fw_error = s.error;
    if (s.bytes !== null) gw.fw_progress = Math.floor((100 * s.bytes) / pkg.size);
    if (s.state === 'UPDATED')
      Object.assign(gw, { current_fw_title: pkg.title, current_fw_version: pkg.version });
    this.publishGateway(gw);
    for (const d of s.devices) {
      const name = `${this.o.gatewayId}:${d.id}`;
      const { state, error } = tbDeviceState(d);
      const values: Record<string, string | number> = { fw_state: state, fw_progress: d.progress };
      if (error) values.fw_error = error;
      if (d.fw) Object.assign(values, { current_fw_title: d.model, current_fw_version: d.fw });
      const key = JSON.stringify(values);
      if (this.reported.get(name) === key) continue;
      this.reported.set(name, key);
      if (!this.connected.has(name)) {
        this.connected.add(name);
        this.client?.publish('v1/gateway/connect', JSON.stringify({ device: name, type: d.model }), {
          qos: 1,
        });
      }
      this.client?.publish(
        'v1/gateway/telemetry',
        JSON.stringify({ [name]: [{ ts: this.nextTs(), values }] }),
        { qos: 1 },
      );
    }
  }

  private publishGateway(values: Record<string, string | number>): void {
    const key = JSON.stringify(values);
    if (this.reported.get('') === key) return;
    this.reported.set('', key);
    // one ms per report: ThingsBoard keeps one value per (device, key, ts), and DOWNLOADED → VERIFIED come together
    this.client?.publish('v1/devices/me/telemetry', JSON.stringify({ ts: this.nextTs(), values }), {
      qos: 1,
    });
  }

  private nextTs(): number {
    this.lastTs = Math.max(Date.now(), this.lastTs + 1);
    return this.lastTs;
  }
}
