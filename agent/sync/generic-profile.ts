import { packItems, runsOfKind, type DownlinkAnswer, type DownlinkKind, type DownlinkRequest, type OutboxItem, type Publication, type SyncProfile } from './sync-profile';

const TOPIC_OF: Record<string, string> = { signal: 'signals', consent: 'consent', telemetry: 'telemetry', outcomes: 'outcomes' };
const LIST_KEY: Record<string, string> = { signal: 'signals', consent: 'receipts', telemetry: 'telemetry', outcomes: 'outcomes' };
const DOWNLINK: readonly DownlinkKind[] = ['consent', 'campaign', 'value', 'conversion'];

interface GenericReply {
  what: string;
  transaction: unknown;
}

/**
 * Profile `generic` (DESIGN §6): `<base>/<gateway>/signals|consent|telemetry` batches, retained `state` with a last
 * will, and `set/<what>` → `response/<what>` with `{status, data, error, transaction}` (Zigbee2MQTT bridge style).
 */
export class GenericProfile implements SyncProfile {
  readonly name = 'generic';
  private readonly root: string;

  constructor(baseTopic: string, private readonly gatewayId: string) {
    this.root = `${baseTopic}/${gatewayId}`;
  }

  will(): { topic: string; payload: string; retain: boolean } {
    return { topic: `${this.root}/state`, payload: 'offline', retain: true };
  }

  subscriptions(): string[] {
    return [`${this.root}/set/+`];
  }

  onConnect(): Array<Omit<Publication, 'rowIds'>> {
    return [{ topic: `${this.root}/state`, payload: 'online', retain: true }];
  }

  onStop(): Array<Omit<Publication, 'rowIds'>> {
    return [{ topic: `${this.root}/state`, payload: 'offline', retain: true }];
  }

  encode(items: readonly OutboxItem[], maxPayloadBytes: number): Publication[] {
    const out: Publication[] = [];
    for (const { kind, run } of runsOfKind(items)) {
      const key = LIST_KEY[kind] ?? kind;
      const envelope = (n: number): number => Buffer.byteLength(JSON.stringify({ gateway: this.gatewayId, batch: 0, [key]: [] })) + 20 + n;
      for (const part of packItems(run, (it) => JSON.stringify(it.body), (b, n) => envelope(b + n), maxPayloadBytes)) {
        out.push({
          topic: `${this.root}/${TOPIC_OF[kind] ?? kind}`,
          // `batch` is the first row id: stable across re-sends of the same rows
          payload: JSON.stringify({ gateway: this.gatewayId, batch: part[0].row.id, [key]: part.map((it) => it.body) }),
          rowIds: part.map((it) => it.row.id),
        });
      }
    }
    return out;
  }

  parseDownlink(topic: string, payload: Buffer): DownlinkRequest[] | null {
    const prefix = `${this.root}/set/`;
    if (!topic.startsWith(prefix)) return null;
    const what = topic.slice(prefix.length);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return [{ kind: 'invalid', body: null, error: 'payload is not JSON', reply: { what, transaction: null } satisfies GenericReply }];
    }
    const transaction = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).transaction ?? null : null;
    const reply: GenericReply = { what, transaction };
    if (!(DOWNLINK as readonly string[]).includes(what)) {
      return [{ kind: 'invalid', body, error: `unknown request set/${what} (one of: ${DOWNLINK.map((d) => `set/${d}`).join(', ')})`, reply }];
    }
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const rest = { ...(body as Record<string, unknown>) };
      delete rest.transaction;
      body = rest;
    }
    return [{ kind: what as DownlinkKind, body, reply }];
  }

  answer(req: DownlinkRequest, a: DownlinkAnswer): Omit<Publication, 'rowIds'> {
    const r = req.reply as GenericReply;
    const body: Record<string, unknown> = { status: a.ok ? 'ok' : 'error', data: a.data ?? {} };
    if (!a.ok) body.error = a.error ?? 'failed';
    if (r.transaction !== null && r.transaction !== undefined) body.transaction = r.transaction;
    return { topic: `${this.root}/response/${r.what}`, payload: JSON.stringify(body) };
  }
}
