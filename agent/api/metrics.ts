import type { StatusDocument } from './status';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

type MetricFn = (name: string, type: 'gauge' | 'counter', help: string, rows: Array<[Record<string, string>, number]>) => void;

/** Campaign outcomes (docs/outcomes.md); a metric that is undefined (no data yet) is left out rather than shown as 0. */
function outcomeMetrics(o: NonNullable<StatusDocument['outcomes']>, metric: MetricFn): void {
  const rows = (f: (c: (typeof o.campaigns)[number]) => Array<[Record<string, string>, number | null]>): Array<[Record<string, string>, number]> =>
    o.campaigns.flatMap(f).filter((r): r is [Record<string, string>, number] => r[1] !== null);
  metric('edge_agent_outcome_triggers', 'gauge', 'Triggers fired in the retained history, per campaign.', rows((c) => [[{ campaign: c.campaign }, c.triggers]]));
  metric('edge_agent_outcome_converted', 'gauge', 'Triggers converted by a purchase within the attribution window.', rows((c) => [[{ campaign: c.campaign }, c.converted]]));
  metric('edge_agent_outcome_conversion_rate', 'gauge', 'Trigger-to-conversion rate: converted triggers / triggers.', rows((c) => [[{ campaign: c.campaign }, c.conversionRate]]));
  metric('edge_agent_outcome_purchases', 'gauge', 'Purchases (conversion events and upstream-reported), attributed or not.', rows((c) => [[{ campaign: c.campaign }, c.purchases]]));
  metric('edge_agent_outcome_reorder_interval_days', 'gauge', 'Median days between repeat purchases before/after the first trigger.', rows((c) => [
    [{ campaign: c.campaign, period: 'before' }, c.reorderCycle.medianBeforeDays],
    [{ campaign: c.campaign, period: 'after' }, c.reorderCycle.medianAfterDays],
  ]));
  metric('edge_agent_outcome_reorder_cycle_ratio', 'gauge', 'Reorder cycle after / before the first trigger (below 1: compressed).', rows((c) => [[{ campaign: c.campaign }, c.reorderCycle.ratio]]));
  metric('edge_agent_outcome_dwell_median_minutes', 'gauge', 'Median presence dwell after a trigger vs baseline.', rows((c) => [
    [{ campaign: c.campaign, group: 'triggered' }, c.dwell.triggered.medianMinutes],
    [{ campaign: c.campaign, group: 'baseline' }, c.dwell.baseline.medianMinutes],
  ]));
  metric('edge_agent_outcome_dwell_sessions', 'gauge', 'Presence sessions counted, after a trigger vs baseline.', rows((c) => [
    [{ campaign: c.campaign, group: 'triggered' }, c.dwell.triggered.sessions],
    [{ campaign: c.campaign, group: 'baseline' }, c.dwell.baseline.sessions],
  ]));
  metric('edge_agent_outcome_dwell_truncated', 'gauge', 'Presence sessions closed by the cap or the next start.', rows((c) => [[{ campaign: c.campaign }, c.dwell.truncated]]));
  metric('edge_agent_outcome_campaign_opt_out_rate', 'gauge', 'Share of devices of a type whose household withdrew consent to the campaign.', rows((c) =>
    c.optOutByDeviceType.map((r): [Record<string, string>, number] => [{ campaign: c.campaign, type: r.type }, r.rate]),
  ));
  metric('edge_agent_trigger_delivery', 'gauge', 'Triggers by delivery state of channel device (none: not delivered through the device).', rows((c) =>
    Object.entries(c.delivery).map(([state, n]): [Record<string, string>, number] => [{ campaign: c.campaign, state }, n]),
  ));
}

/** Fleet firmware updates (docs/firmware-updates.md): the package's state and every targeted device's. */
function firmwareMetrics(f: NonNullable<StatusDocument['firmware']>, metric: MetricFn): void {
  const pkg = f.package!;
  metric('edge_agent_firmware_package_state', 'gauge', 'The firmware package assigned upstream: 1 for its current state.', [
    [{ title: pkg.title, version: pkg.version, state: f.state ?? 'NONE' }, 1],
  ]);
  if (f.bytes !== null) metric('edge_agent_firmware_download_bytes', 'gauge', 'Package bytes durable on disk while downloading.', [[{ title: pkg.title, version: pkg.version }, f.bytes]]);
  metric('edge_agent_firmware_device_state', 'gauge', 'Each targeted device: 1 for its update state.', f.devices.map((d) => [{ device: d.id, state: d.state }, 1]));
  metric('edge_agent_firmware_device_progress', 'gauge', 'Flash progress of each targeted device, percent.', f.devices.map((d) => [{ device: d.id }, d.progress]));
}

/** Prometheus text exposition of the status document. */
export function renderMetrics(s: StatusDocument): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, rows: Array<[Record<string, string>, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) {
      const l = Object.entries(labels)
        .map(([k, x]) => `${k}="${esc(x)}"`)
        .join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(v) ? v : 0}`);
    }
  };
  metric('edge_agent_uptime_seconds', 'gauge', 'Seconds since the agent started.', [[{}, s.gateway.uptimeS]]);
  metric('edge_agent_ingest_accepted_total', 'counter', 'Readings and events stored after consent.', [[{}, s.ingest.accepted]]);
  metric('edge_agent_ingest_dropped_no_consent_total', 'counter', 'Items dropped before storage for lack of consent.', [
    [{}, s.ingest.droppedNoConsent],
  ]);
  metric('edge_agent_ingest_duplicates_total', 'counter', 'Retransmitted frames dropped as duplicates.', [[{}, s.ingest.duplicates]]);
  metric('edge_agent_frames_bad_total', 'counter', 'Frames that failed to decode, per device.', s.devices.map((d) => [{ device: d.id }, d.framesBad]));
  metric('edge_agent_frames_ok_total', 'counter', 'Frames decoded, per device.', s.devices.map((d) => [{ device: d.id }, d.framesOk]));
  metric('edge_agent_device_connected', 'gauge', '1 when the device link is up.', s.devices.map((d) => [{ device: d.id }, d.connected ? 1 : 0]));
  metric(
    'edge_agent_engagement_index',
    'gauge',
    'IoT Engagement Index per profile and campaign.',
    s.engagement.map((e) => [{ profile: e.profile, campaign: e.campaign }, e.index]),
  );
  metric('edge_agent_triggers_total', 'counter', 'Campaign triggers fired.', [[{}, s.triggers.total]]);
  metric('edge_agent_outbox_pending', 'gauge', 'Rows waiting in the outbox.', [[{}, s.outbox.pending]]);
  metric('edge_agent_outbox_dropped_total', 'counter', 'Rows dropped by the storage.maxBytes policy (all reasons).', [[{}, s.outbox.dropped]]);
  metric(
    'edge_agent_storage_dropped_total',
    'counter',
    'Rows dropped by the storage.maxBytes policy, per reason (raw data first, consent receipts never).',
    Object.entries(s.outbox.droppedByReason).map(([reason, n]) => [{ reason }, n]),
  );
  metric('edge_agent_outbox_dropped_no_consent_total', 'counter', 'Queued rows not sent because consent was withdrawn.', [
    [{}, s.outbox.droppedNoConsentAtSync],
  ]);
  metric('edge_agent_storage_used_bytes', 'gauge', 'Database pages in use.', [[{}, s.storage.usedBytes]]);
  metric('edge_agent_storage_max_bytes', 'gauge', 'storage.maxBytes.', [[{}, s.storage.maxBytes]]);
  metric('edge_agent_storage_full', 'gauge', '1 while only undroppable data is left and new frames are refused.', [[{}, s.storage.full ? 1 : 0]]);
  metric(
    'edge_agent_consent_opt_out_rate',
    'gauge',
    'Share of devices of a type with a device-layer consent withdrawal in force.',
    s.consent.optOutByDeviceType.map((r) => [{ type: r.type }, r.rate]),
  );
  metric(
    'edge_agent_ingest_dropped_no_consent_by_type_total',
    'counter',
    'Items dropped before storage for lack of consent, per device type.',
    s.ingest.droppedNoConsentByType ? Object.entries(s.ingest.droppedNoConsentByType).map(([type, n]) => [{ type }, n]) : [],
  );
  metric('edge_agent_script_calls_total', 'counter', 'Calls of each user script.', s.scripts.map((x) => [{ script: x.id }, x.calls]));
  metric('edge_agent_script_failures_total', 'counter', 'Failed calls of each user script (any class).', s.scripts.map((x) => [{ script: x.id }, x.failures]));
  metric('edge_agent_script_disabled', 'gauge', '1 while a script is disabled after 3 failures in a row.', s.scripts.map((x) => [{ script: x.id }, x.state === 'disabled' ? 1 : 0]));
  if (s.sandbox) {
    metric('edge_agent_script_worker_restarts_total', 'counter', 'Script workers replaced after a call was stopped from outside (past 2x its time limit) or the worker died.', [
      [{}, s.sandbox.workerRestarts],
    ]);
  }
  if (s.outcomes) outcomeMetrics(s.outcomes, metric);
  if (s.firmware?.package) firmwareMetrics(s.firmware, metric);
  metric('edge_agent_upstream_connected', 'gauge', '1 when the MQTT uplink is connected.', [[{}, s.upstream.connected ? 1 : 0]]);
  metric('edge_agent_upstream_published_total', 'counter', 'Rows acknowledged by the broker.', [[{}, s.upstream.published]]);
  metric('edge_agent_upstream_messages_total', 'counter', 'MQTT messages published from the outbox.', [[{}, s.upstream.messages]]);
  metric('edge_agent_upstream_payload_bytes_total', 'counter', 'Payload bytes published from the outbox.', [[{}, s.upstream.payloadBytes]]);
  metric('edge_agent_upstream_connects_total', 'counter', 'Successful connections to the broker.', [[{}, s.upstream.connects]]);
  metric('edge_agent_downlink_total', 'counter', 'Downlink requests by outcome.', [
    [{ outcome: 'accepted' }, s.upstream.downlink.accepted],
    [{ outcome: 'rejected' }, s.upstream.downlink.rejected],
  ]);
  if (s.faults) {
    metric('edge_agent_uncaught_errors_total', 'counter', 'Errors that reached the last-resort handler (each is a bug).', [
      [{ kind: 'exception' }, s.faults.uncaughtExceptions],
      [{ kind: 'rejection' }, s.faults.unhandledRejections],
    ]);
  }
  return out.join('\n') + '\n';
}
