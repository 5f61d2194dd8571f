import { boundedText, echoable, parseDownlinkPayload } from './downlink-payload';
import { packItems, runsOfKind, type DownlinkAnswer, type DownlinkKind, type DownlinkRequest, type OutboxItem, type Publication, type SyncProfile } from './sync-profile';

const TOPIC_OF: Record<string, string> = { signal: 'signals', consent: 'consent', telemetry: 'telemetry', outcomes: 'outcomes' };
const LIST_KEY: Record<string, string> = { signal: 'signals', consent: 'receipts', telemetry: 'telemetry', outcomes: 'outcomes' };
const DOWNLINK: readonly DownlinkKind[] = ['consent', 'campaign', 'value', 'conversion'];

interface GenericReply {
  what: string;
  /** echoed only when short and plain (see echoable) */
  transaction: string | number | undefined;
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
    const parsed = parseDownlinkPayload(payload);
    if (!parsed.ok) return [{ kind: 'invalid', body: null, error: parsed.error, reply: { what, transaction: undefined } satisfies GenericReply }];
    const body = parsed.value;
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    const reply: GenericReply = { what, transaction: isObject ? echoable((body as Record<string, unknown>).transaction) : undefined };
    if (!(DOWNLINK as readonly string[]).includes(what)) {
      return [{ kind: 'invalid', body, error: boundedText(`unknown request set/${what} (one of: ${DOWNLINK.map((d) => `set/${d}`).join(', ')})`), reply }];
    }
    if (!isObject) return [{ kind: what as DownlinkKind, body, reply }];
    const rest = { ...(body as Record<string, unknown>) };
    delete rest.transaction;
    return [{ kind: what as DownlinkKind, body: rest, reply }];
  }

  answer(req: DownlinkRequest, a: DownlinkAnswer): Omit<Publication, 'rowIds'> {
    const r = req.reply as GenericReply;
    const body: Record<string, unknown> = { status: a.ok ? 'ok' : 'error', data: a.data ?? {} };
    if (!a.ok) body.error = a.error ?? 'failed';
    if (r.transaction !== undefined) body.transaction = r.transaction;
    return { topic: `${this.root}/response/${r.what}`, payload: JSON.stringify(body) };
  }
}
