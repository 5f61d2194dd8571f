import * as fc from 'fast-check';
import type { Agent } from '../../agent/controller';
import type { GatewayFrame } from '../../firmware-bridge/protocol';
import { DeviceInput } from '../../drivers/device-input';
import type { FrameSink } from '../../drivers/types';
import { waitUntil } from '../../test/support/wait-until';
import { deviceWireBytes } from './hostile-inputs';

export interface FrameFigures {
  /** byte runs handed to the links (each a frame, a cut frame or noise) */
  inputs: number;
  frames: number;
  badFrames: number;
  acked: number;
  hellosAnswered: number;
  crashes: number;
  /** rows stored without consent, device-button grants, hellos answered beyond the rate limit */
  stateChangesOnReject: number;
  perSecond: number;
}

/**
 * The device whose usage consent (the config's only device grant) frames never withdraw, so that data frames are
 * stored all campaign long; scale-b, without consent, gets consent frames too (withdrawals of nothing, grants the
 * policy refuses, special categories).
 */
const KEEPS_CONSENT = 'scale-a';

/** The hello budget per device (agent/pipeline/ingest-pipeline.ts): a burst of 5, then one a second. */
const HELLO_BURST = 5;
const HELLOS_PER_SECOND = 1;

/**
 * One device link as the serial driver runs it (drivers/serial/serial-link.ts): bytes through the transports'
 * one decode path (DeviceInput: bad frames and gateway-only types to onBadFrame), good frames into the agent's
 * ingest pipeline; what the pipeline answers is counted.
 */
class WireLink {
  private readonly input: DeviceInput;
  hellosAnswered = 0;
  acked = 0;
  constructor(
    agent: Agent,
    readonly id: string,
    figures: FrameFigures,
  ) {
    const pipeline = agent.pipeline;
    const sink: FrameSink = {
      onFrame: (device, frame, reply) => pipeline.onFrame(device, frame, reply),
      onBadFrame: (device, error) => {
        figures.badFrames++;
        pipeline.onBadFrame(device, error);
      },
      onLink: (device, connected, detail) => pipeline.onLink(device, connected, detail),
    };
    this.input = new DeviceInput(id, sink, (frame) => {
      figures.frames++;
      sink.onFrame(id, frame, (g: GatewayFrame) => {
        if (g.type === 'consent-state') this.hellosAnswered++;
        if (g.type === 'ack') this.acked++;
      });
    });
  }

  push(bytes: Uint8Array): void {
    this.input.stream(bytes);
  }
}

/**
 * What frames may have changed, checked against the household's consent: the campaign's config grants `usage`
 * to scale-a only, and a device button may grant nothing (consent.deviceButtonMayGrant: []), so frames can only
 * withdraw. Hence: rows only for scale-a's usage, none after a withdrawal of it, no grant from a device.
 */
function frameStateProblems(agent: Agent): string[] {
  const out: string[] = [];
  const db = agent.database;
  for (const table of ['readings', 'events']) {
    const stray = db.prepare(`SELECT device, category, count(*) AS n FROM ${table} WHERE NOT (device = 'scale-a' AND category = 'usage') GROUP BY device, category`).all() as Array<{
      device: string;
      category: string;
      n: number;
    }>;
    for (const s of stray) out.push(`${s.n} ${table} stored for ${s.device}/${s.category} without consent`);
  }
  const withdrawn = db
    .prepare(`SELECT min(at) AS at FROM consent_ledger WHERE scope = 'device' AND subject = 'scale-a' AND target IN ('usage', '*') AND granted = 0`)
    .get() as { at: number | null };
  if (withdrawn.at !== null) {
    for (const table of ['readings', 'events']) {
      const late = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE device = 'scale-a' AND t > ?`).get(withdrawn.at) as { n: number };
      if (late.n > 0) out.push(`${late.n} ${table} stored for scale-a after its usage consent was withdrawn`);
    }
  }
  const granted = db.prepare(`SELECT count(*) AS n FROM consent_ledger WHERE source = 'device' AND granted = 1`).get() as { n: number };
  if (granted.n > 0) out.push(`${granted.n} consent grants from a device button`);
  return out;
}

/**
 * Hostile device traffic on the household's two links, `count` byte runs in chunks, through the drivers' decode
 * path and the agent's real ingest pipeline (consent check, rate limits, group commit, SQLite).
 */
export async function runFrames(agent: Agent, count: number, seed: number, figures: FrameFigures, details: string[], stop?: AbortSignal): Promise<void> {
  const links = [new WireLink(agent, KEEPS_CONSENT, figures), new WireLink(agent, 'scale-b', figures)];
  const ids = links.map((l) => l.id);
  const started = Date.now();
  const chunk = 2000;
  for (let done = 0; done < count && !stop?.aborted; ) {
    const n = Math.min(chunk, count - done);
    const inputs = fc.sample(
      fc.oneof(...links.map((l, i) => deviceWireBytes(ids, l.id !== KEEPS_CONSENT).map((bytes) => [i, bytes] as const))),
      { seed: seed + 13 + done, numRuns: n },
    );
    for (const [which, bytes] of inputs) {
      try {
        links[which]!.push(bytes);
      } catch (err) {
        figures.crashes++;
        if (details.length < 20) details.push(`frame on ${links[which]!.id}: ${String(err)}`);
      }
    }
    done += n;
    figures.inputs = done;
    await new Promise((r) => setImmediate(r));
    await waitUntil('the ingest pipeline to answer every frame', () => agent.pipeline.idle, 60_000);
  }
  const seconds = (Date.now() - started) / 1000;
  for (const l of links) {
    figures.hellosAnswered += l.hellosAnswered;
    figures.acked += l.acked;
    const allowed = HELLO_BURST + HELLOS_PER_SECOND * Math.ceil(seconds + 1);
    if (l.hellosAnswered > allowed) {
      figures.stateChangesOnReject++;
      details.push(`${l.hellosAnswered} hellos answered on ${l.id} in ${seconds.toFixed(1)} s (rate limit: ${allowed})`);
    }
  }
  for (const p of frameStateProblems(agent)) {
    figures.stateChangesOnReject++;
    if (details.length < 20) details.push(p);
  }
  figures.perSecond = Math.round(figures.inputs / Math.max(0.001, (Date.now() - started) / 1000));
}
