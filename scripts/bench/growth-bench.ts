import { openDatabase, databasePath } from '../../agent/store/database';
import type { Agent } from '../../agent/controller';
import { processLoadBench } from './agent-process-bench';
import { ingestThroughput } from './ingest-bench';
import { percentile, type BenchResult } from './stats';

const DAY = 86_400_000;

/**
 * Writes a stored history into a fresh database before the agent opens it: `n` raw events, `n` qualifying events
 * in the engagement window (which the engine loads at start) and an outbox backlog of `n` signals (a gateway that
 * was offline). Generated inside SQLite (recursive CTE), so a million rows take seconds, not minutes.
 */
export function prefillHistory(n: number): (dataDir: string) => void {
  return (dataDir) => {
    const db = openDatabase(databasePath(dataDir));
    const now = Date.now();
    // spread over 29 days so everything stays in the 30-day window
    const step = Math.max(1, Math.floor((29 * DAY) / n));
    const series = 'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @n)';
    db.transaction(() => {
      db.prepare(
        `${series} INSERT INTO events (device, name, category, ch, v, device_t, t)
        SELECT 'scale-' || (i % 20), 'dispense', 'usage', 2, 18.5, NULL, @now - i * @step FROM s`,
      ).run({ n, now, step });
      db.prepare(
        `${series} INSERT INTO engagement_events (profile, campaign, t, device, category)
        SELECT 'home-' || (i % 4), 'coffee-reorder', @now - i * @step, 'scale-' || (i % 20), 'usage' FROM s`,
      ).run({ n, now, step });
      db.prepare(
        `${series} INSERT INTO outbox (signal_id, kind, profile, campaign, device, category, payload, bytes, created_at)
        SELECT 'prefill-' || i, 'signal', 'home-' || (i % 4), 'coffee-reorder', NULL, NULL,
          printf('{"id":"prefill-%d","profile":"home-%d","campaign":"coffee-reorder","index":123.4,"r":1.5,"f":%d,"v":72,"trigger":false,"channels":[],"ts":%d}', i, i % 4, i % 40, @now - i * @step),
          120, @now - i * @step FROM s`,
      ).run({ n, now, step });
    })();
    db.close();
  };
}

/** Latency of `agent.status()` (what GET /api/status, /metrics and the sync heartbeat call): median and max of 20. */
function statusLatency(agent: Agent, label: string): BenchResult[] {
  const ms: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    agent.status();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return [
    {
      name: `growth.stored_${label}.status_median`,
      value: Number(percentile(ms, 50).toFixed(3)),
      unit: 'ms',
    },
    { name: `growth.stored_${label}.status_max`, value: Number(ms[ms.length - 1].toFixed(3)), unit: 'ms' },
  ];
}

const label = (n: number): string => `1e${Math.round(Math.log10(n))}`;

/**
 * How cost grows. (1) Devices 1, 10, 100, 1,000: durable ingest throughput in-process (same frames, spread over
 * more devices), and a real `edge-agent run` process's RSS and CPU with that many devices at 1 event/s each.
 * (2) Stored history 1e3…1e6: status() latency and ingest throughput on a prefilled database.
 */
export async function growthBench(quick: boolean): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const devices of quick ? [1, 10] : [1, 10, 100, 1000]) {
    out.push(
      ...(await ingestThroughput(quick ? 2_000 : 100_000, devices, undefined, `${devices}dev`))
        .filter((r) => r.name.startsWith('ingest.durable'))
        .map((r) => ({ ...r, name: `growth.devices_${devices}.durable_throughput`, target: undefined })),
    );
    const proc = await processLoadBench(
      `devices_${devices}`,
      { devices, ratePerSec: 1 },
      quick ? 3 : 10,
      quick ? 1 : 3,
    );
    out.push(
      ...proc
        .filter((r) => !r.name.endsWith('.offered'))
        .map((r) => ({ ...r, name: r.name.replace('agent.load.', 'growth.') })),
    );
  }
  for (const n of quick ? [1e3, 1e4] : [1e3, 1e4, 1e5, 1e6]) {
    const probe: BenchResult[] = [];
    const rs = await ingestThroughput(
      quick ? 2_000 : 50_000,
      20,
      prefillHistory(n),
      `stored_${label(n)}`,
      (agent) => probe.push(...statusLatency(agent, label(n))),
    );
    out.push(...probe);
    out.push(
      ...rs
        .filter((r) => r.name.startsWith('ingest.durable'))
        .map((r) => ({ ...r, name: `growth.stored_${label(n)}.durable_throughput`, target: undefined })),
    );
  }
  return out.map(({ target, ...r }) => (target === undefined ? r : { ...r, target }));
}
