/**
 * The ThingsBoard target run (issue #20): a gateway with two households, two campaigns each (`coffee` with a
 * constant V, `tea` with V from upstream), against the ThingsBoard double (test/support/thingsboard-double),
 * for a simulated hour: both kitchen scales send an event every 5 simulated seconds, the server sends RPC
 * (to profile devices and to the gateway) every 2 simulated minutes, shared-attribute updates every 5 minutes
 * (every other one a numeric string, as the UI sends a string attribute) and a deletion every 15, and the
 * server restarts every 10 minutes (down for 30 simulated seconds). Time is compressed: the agent's clock is the simulated clock, and one
 * simulated minute is played in `60 000 / compress` real ms (events are fed in that rhythm; MQTT, SQLite and
 * reconnect backoff run in real time).
 *
 * Pass: the double closed no connection, and every campaign's series is complete in its store: for each
 * (profile, campaign), one point per qualifying event at the event's time, `f` counting 1, 2, … N with no gap.
 *
 *   npm run bench -- --only thingsboard            # one simulated hour
 *   node dist/scripts/bench/thingsboard-soak.js --minutes 60 --compress 120
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AgentConfig } from '../../agent/config';
import { Agent } from '../../agent/controller';
import { silentLogger } from '../../agent/logger';
import type { DeviceFrame } from '../../firmware-bridge/protocol';
import { DeviceLink, HELLO_SCALE } from '../../test/support/device-link';
import { freePort } from '../../test/support/free-port';
import { ThingsboardDouble } from '../../test/support/thingsboard-double/thingsboard-double';
import { household } from '../../test/sync/household';
import type { BenchResult } from './stats';

const PROFILES = ['home-a', 'home-b'] as const;
const SCALES = ['scale-a', 'scale-b'] as const;
const CAMPAIGNS = ['coffee', 'tea'] as const;
const EVENT_OF: Record<(typeof CAMPAIGNS)[number], string> = { coffee: 'dispense', tea: 'brew' };
const TOKEN = 'SOAK_GATEWAY_TOKEN';

export interface SoakOptions {
  minutes: number;
  /** simulated time / real time for the event feed */
  compress: number;
  eventEveryS?: number;
}

export interface SoakReport {
  simulatedMinutes: number;
  realSeconds: number;
  events: number;
  /** per `<profile>/<campaign>`: events sent, points stored, whether `f` runs 1..N at the events' times */
  series: Record<string, { events: number; stored: number; complete: boolean }>;
  rpcs: number;
  rpcFailures: string[];
  attributeUpdates: number;
  attributeDeletions: number;
  restarts: number;
  connects: number;
  closesByServer: number;
  rejections: string[];
  maxOutboxPending: number;
  drainAfterEndMs: number;
  /** attribute requests the server answered (one per profile at every connect) */
  attributeRequests: number;
  /** per profile: the last downlink outcome as ThingsBoard stores it (`lastDownlinkStatus` / `lastDownlinkError`) */
  lastDownlink: Record<string, { status: unknown; error: unknown }>;
}

/** The test household (two scales in home-a/home-b, coffee constant V, tea V from upstream), tea granted in both. */
function soakConfig(dataDir: string, url: string): AgentConfig {
  const cfg = household(dataDir, { url, profile: 'thingsboard', accessToken: TOKEN });
  cfg.gateway.id = 'gw-soak';
  cfg.consent.grants.push({ profile: 'home-b', campaign: 'tea' });
  return cfg;
}

const until = async (what: string, cond: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export async function thingsboardSoak(o: SoakOptions): Promise<SoakReport> {
  const eventEveryS = o.eventEveryS ?? 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-agent-tb-soak-'));
  const tb = new ThingsboardDouble({ accessToken: TOKEN });
  await tb.start(await freePort());
  let now = Date.UTC(2026, 0, 5, 7);
  const agent = new Agent(soakConfig(dir, tb.url), { logger: silentLogger, drivers: [], api: false, clock: () => now });
  const sent = new Map<string, number[]>(); // `<profile>/<campaign>` → event times
  const rpcFailures: string[] = [];
  const pendingRpcs: Array<Promise<void>> = [];
  let rpcs = 0;
  let updates = 0;
  let deletions = 0;
  let maxPending = 0;
  const started = Date.now();
  try {
    await tb.setSharedAttributes('home-a', { v_tea: 40 });
    await tb.setSharedAttributes('home-b', { v_tea: '55' });
    await agent.start();
    await until('profiles connected', () => PROFILES.every((p) => tb.devices.get(p)?.connected), 15_000);
    const links = SCALES.map((id) => {
      const l = new DeviceLink(agent, id);
      l.send(HELLO_SCALE(id));
      return l;
    });
    // RPC to a device that is offline waits for it (ThingsBoard queues it until the device is back)
    const rpc = (label: string, device: string, call: () => Promise<unknown>): void => {
      rpcs++;
      pendingRpcs.push(
        until(`${device} connected`, () => tb.devices.get(device)?.connected === true || (device === '' && tb.gatewayConnected), 30_000)
          .then(call)
          .then(
            (r) => void ((r as { success?: boolean }).success !== true && rpcFailures.push(`${label}: ${JSON.stringify(r)}`)),
            (err: Error) => void rpcFailures.push(`${label}: ${err.message}`),
          ),
      );
    };
    const steps = Math.round((o.minutes * 60) / eventEveryS);
    const realMsPerStep = (eventEveryS * 1000) / o.compress;
    let seq = 1;
    for (let step = 1; step <= steps; step++) {
      now += eventEveryS * 1000;
      const simS = step * eventEveryS;
      links.forEach((l, i) => {
        // the two households alternate between the two campaigns, out of phase
        const campaign = CAMPAIGNS[(step + i) % 2];
        const frame: DeviceFrame = { type: 'event', seq: seq++ & 0xffff, body: { e: EVENT_OF[campaign], ch: 2 } };
        l.send(frame);
        const k = `${PROFILES[i]}/${campaign}`;
        sent.set(k, [...(sent.get(k) ?? []), now]);
      });
      if (simS % 120 === 0) {
        const p = PROFILES[(simS / 120) % 2];
        const v = 10 + ((simS / 120) % 80);
        rpc(`rpc setValue ${p}`, p, () => tb.rpcToDevice(p, 'setValue', { campaign: 'tea', v }, 30_000));
        rpc('gateway rpc setValue', '', () => tb.rpcToGateway('setValue', { profile: PROFILES[1 - ((simS / 120) % 2)], campaign: 'tea', v: v + 1 }, 30_000));
      }
      // attribute changes are stored whether or not the gateway is connected; a connected one is notified, a
      // reconnecting one asks for the current values
      if (simS % 300 === 0) {
        const n = simS / 300;
        await tb.setSharedAttributes(PROFILES[n % 2], { v_tea: n % 2 === 0 ? 20 + n : String(20 + n) });
        updates++;
      }
      if (simS % 900 === 0) {
        await tb.deleteSharedAttributes(PROFILES[(simS / 900) % 2], ['v_tea']);
        deletions++;
      }
      if (simS % 600 === 0 && step < steps) {
        await Promise.all(pendingRpcs); // the server answers what it has in flight, then goes down for 30 simulated s
        await tb.restart(Math.round(30_000 / o.compress) + 50);
      }
      maxPending = Math.max(maxPending, agent.outbox.depth().pending);
      const due = started + step * realMsPerStep;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (step % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    const fed = Date.now();
    await until('outbox drained', () => agent.outbox.isEmpty() && tb.gatewayConnected, 120_000);
    const drainAfterEndMs = Date.now() - fed;
    await Promise.all(pendingRpcs);
    const series: SoakReport['series'] = {};
    for (const p of PROFILES)
      for (const c of CAMPAIGNS) {
        const times = sent.get(`${p}/${c}`) ?? [];
        const f = tb.series(p, `${c}.f`);
        const complete = f.length === times.length && f.every((pt, i) => pt.ts === times[i] && pt.value === i + 1);
        series[`${p}/${c}`] = { events: times.length, stored: f.length, complete };
      }
    return {
      simulatedMinutes: o.minutes,
      realSeconds: (Date.now() - started) / 1000,
      events: [...sent.values()].reduce((n, t) => n + t.length, 0),
      series,
      rpcs,
      rpcFailures,
      attributeUpdates: updates,
      attributeDeletions: deletions,
      restarts: tb.restarts,
      connects: tb.connects,
      closesByServer: tb.closesByServer,
      rejections: tb.rejections.map((r) => `${r.topic}: ${r.reason}`),
      maxOutboxPending: maxPending,
      drainAfterEndMs,
      attributeRequests: tb.accepted.get('v1/gateway/attributes/request') ?? 0,
      lastDownlink: Object.fromEntries(
        PROFILES.map((p) => [p, { status: tb.clientAttribute(p, 'lastDownlinkStatus'), error: tb.clientAttribute(p, 'lastDownlinkError') }]),
      ),
    };
  } finally {
    await agent.stop();
    await tb.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures `npm run bench` prints for the run. */
export async function thingsboardSoakBench(quick: boolean): Promise<BenchResult[]> {
  const r = await thingsboardSoak(quick ? { minutes: 20, compress: 600 } : { minutes: 60, compress: 120 });
  const incomplete = Object.values(r.series).filter((s) => !s.complete).length;
  const p = `thingsboard.soak_${r.simulatedMinutes}min`;
  return [
    { name: `${p}.connection_closes_by_server`, value: r.closesByServer, unit: 'closes', target: '0' },
    { name: `${p}.incomplete_series`, value: incomplete, unit: 'series', target: '0 of 4' },
    { name: `${p}.points_stored`, value: Object.values(r.series).reduce((n, s) => n + s.stored, 0), unit: 'points' },
    { name: `${p}.rpc_failures`, value: r.rpcFailures.length, unit: `of ${r.rpcs} RPCs`, target: '0' },
    { name: `${p}.server_restarts`, value: r.restarts, unit: 'restarts' },
    { name: `${p}.max_outbox_pending`, value: r.maxOutboxPending, unit: 'rows' },
    { name: `${p}.real_time`, value: Math.round(r.realSeconds * 10) / 10, unit: 's' },
  ];
}

if (require.main === module) {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  thingsboardSoak({ minutes: arg('minutes', 60), compress: arg('compress', 120) })
    .then((r) => {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      const ok = r.closesByServer === 0 && Object.values(r.series).every((s) => s.complete) && r.rpcFailures.length === 0;
      process.exit(ok ? 0 : 1);
    })
    .catch((err: unknown) => {
      process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    });
}
