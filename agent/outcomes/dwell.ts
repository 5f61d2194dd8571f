import { median } from './median';
import type { PresenceRecord } from './types';

/** One stay at a presence device. */
export interface PresenceSession {
  device: string;
  start: number;
  durationMs: number;
  /** closed by the cap or the next start instead of its own presence_end */
  truncated: boolean;
}

export interface SessionBuild {
  sessions: PresenceSession[];
  /** presence_end with no open start (its start was lost or purged) */
  unmatchedEnds: number;
  /** starts still open at `now` and younger than the cap: not counted yet */
  open: number;
}

/**
 * Presence sessions from presence_start/presence_end, per device in time order. A start while one is open closes
 * the open one at the new start (or at the cap, whichever is first) as truncated; a session longer than the cap
 * is cut at the cap as truncated; a start still open at `now` counts once the cap has passed.
 */
export function presenceSessions(
  records: readonly PresenceRecord[],
  capMs: number,
  now: number,
): SessionBuild {
  const byDevice = new Map<string, PresenceRecord[]>();
  for (const r of records) {
    const list = byDevice.get(r.device) ?? [];
    list.push(r);
    byDevice.set(r.device, list);
  }
  const sessions: PresenceSession[] = [];
  let unmatchedEnds = 0;
  let open = 0;
  for (const [device, list] of byDevice) {
    list.sort((a, b) => a.at - b.at || (a.kind === 'end' ? -1 : 1)); // an end at the same ms closes before a start opens
    let start: number | null = null;
    const close = (end: number, own: boolean): void => {
      const s = start as number;
      const capped = end - s > capMs;
      sessions.push({ device, start: s, durationMs: capped ? capMs : end - s, truncated: capped || !own });
      start = null;
    };
    for (const r of list) {
      if (r.kind === 'start') {
        if (start !== null) close(Math.min(r.at, start + capMs), false);
        start = r.at;
      } else if (start === null) unmatchedEnds++;
      else close(r.at, true);
    }
    if (start !== null) {
      if (now - start >= capMs) close(start + capMs, false);
      else open++;
    }
  }
  return { sessions, unmatchedEnds, open };
}

export interface DwellGroup {
  sessions: number;
  medianMinutes: number | null;
  meanMinutes: number | null;
}

export interface DwellMetric {
  /** sessions starting within `withinMs` after a trigger of the same household */
  triggered: DwellGroup;
  baseline: DwellGroup;
  /** triggered median / baseline median */
  lift: number | null;
  truncated: number;
  unmatchedEnds: number;
  open: number;
}

const group = (durations: number[]): DwellGroup => ({
  sessions: durations.length,
  medianMinutes: durations.length === 0 ? null : (median(durations) as number) / 60_000,
  meanMinutes:
    durations.length === 0 ? null : durations.reduce((a, b) => a + b, 0) / durations.length / 60_000,
});

/** Dwell after a trigger vs baseline, over households; each key's sessions are matched to that key's triggers. */
export function dwellMetric(
  keys: ReadonlyArray<{ presence: readonly PresenceRecord[]; triggers: readonly number[] }>,
  withinMs: number,
  capMs: number,
  now: number,
): DwellMetric {
  const triggered: number[] = [];
  const baseline: number[] = [];
  let truncated = 0;
  let unmatchedEnds = 0;
  let open = 0;
  for (const k of keys) {
    const b = presenceSessions(k.presence, capMs, now);
    unmatchedEnds += b.unmatchedEnds;
    open += b.open;
    for (const s of b.sessions) {
      if (s.truncated) truncated++;
      const after = k.triggers.some((t) => s.start >= t && s.start - t <= withinMs);
      (after ? triggered : baseline).push(s.durationMs);
    }
  }
  const tg = group(triggered);
  const bg = group(baseline);
  return {
    triggered: tg,
    baseline: bg,
    lift:
      tg.medianMinutes === null || bg.medianMinutes === null || bg.medianMinutes === 0
        ? null
        : tg.medianMinutes / bg.medianMinutes,
    truncated,
    unmatchedEnds,
    open,
  };
}
