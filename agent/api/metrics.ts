import type { StatusDocument } from './status';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

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
  metric('edge_agent_upstream_connected', 'gauge', '1 when the MQTT uplink is connected.', [[{}, s.upstream.connected ? 1 : 0]]);
  metric('edge_agent_upstream_published_total', 'counter', 'Rows acknowledged by the broker.', [[{}, s.upstream.published]]);
  metric('edge_agent_upstream_messages_total', 'counter', 'MQTT messages published from the outbox.', [[{}, s.upstream.messages]]);
  metric('edge_agent_upstream_payload_bytes_total', 'counter', 'Payload bytes published from the outbox.', [[{}, s.upstream.payloadBytes]]);
  metric('edge_agent_upstream_connects_total', 'counter', 'Successful connections to the broker.', [[{}, s.upstream.connects]]);
  metric('edge_agent_downlink_total', 'counter', 'Downlink requests by outcome.', [
    [{ outcome: 'accepted' }, s.upstream.downlink.accepted],
    [{ outcome: 'rejected' }, s.upstream.downlink.rejected],
  ]);
  return out.join('\n') + '\n';
}
