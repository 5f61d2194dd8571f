import mqtt, { type MqttClient } from 'mqtt';
import { freePort } from '../support/free-port';
import { ThingsboardDouble } from '../support/thingsboard-double/thingsboard-double';
import { isParsable, numericValue, type TbValue } from '../support/thingsboard-double/tb-values';
import { waitUntil } from '../support/wait-until';

/*
 * The double is only useful if it reads messages as ThingsBoard's MQTT transport does. These cases are written
 * from the server's code (AbstractGatewaySessionHandler, JsonConverter, MqttTransportHandler): what each
 * message becomes in storage, and which ones cost the connection.
 */

describe('ThingsBoard value conversion (JsonConverter with type casting on)', () => {
  it.each<[string, TbValue]>([
    ['1', { type: 'LONG', value: 1 }],
    ['-0', { type: 'LONG', value: 0 }],
    ['1.0', { type: 'DOUBLE', value: 1 }], // a '.' without exponent keeps it a double
    ['1e3', { type: 'LONG', value: 1000 }], // integral value, exponent form: a long
    ['1.5e3', { type: 'LONG', value: 1500 }],
    ['2.5', { type: 'DOUBLE', value: 2.5 }],
    ['1e-3', { type: 'DOUBLE', value: 0.001 }],
    ['9223372036854775807', { type: 'LONG', value: '9223372036854775807' }],
    ['9223372036854775808', { type: 'STRING', value: '9223372036854775808' }], // beyond a long: its digits as text
    ['0.12345678901234567890', { type: 'STRING', value: '0.12345678901234567890' }], // scale 20 > 16
  ])('number %s', (text, expected) => expect(numericValue(text)).toEqual(expected));

  it.each([
    ['64', true],
    ['-6.5', true],
    ['.5', true],
    ['5.', false],
    ['1e3', false],
    ['+1', false],
    ['0x10', false],
    ['', false],
    ['-', false],
    ['1.2.3', false],
  ])('numeric string %j parsable: %s', (s, ok) => expect(isParsable(s)).toBe(ok));
});

describe('ThingsBoard gateway API as the server parses it', () => {
  let tb: ThingsboardDouble;
  beforeEach(() => {
    tb = new ThingsboardDouble();
  });
  const verdict = (topic: string, body: unknown): string => tb.handle(topic, typeof body === 'string' ? body : JSON.stringify(body)).outcome;

  it('stores telemetry values typed as ThingsBoard does: numeric strings cast, JSON kept, nulls skipped', () => {
    const payload =
      '{"dev":[{"ts":1000,"values":{"a":1,"b":1.0,"c":"64","d":"6.5","e":"1e3","f":null,"g":{"x":1},"h":[1,2],"i":true,"j":"abc","k":1e3}}]}';
    expect(tb.handle('v1/gateway/telemetry', payload).outcome).toBe('accepted');
    const at = (k: string): unknown => tb.telemetry.get('dev')?.get(k)?.get(1000);
    expect(at('a')).toEqual({ type: 'LONG', value: 1 });
    expect(at('b')).toEqual({ type: 'DOUBLE', value: 1 });
    expect(at('c')).toEqual({ type: 'LONG', value: 64 });
    expect(at('d')).toEqual({ type: 'DOUBLE', value: 6.5 });
    expect(at('e')).toEqual({ type: 'STRING', value: '1e3' });
    expect(at('f')).toBeUndefined();
    expect(at('g')).toEqual({ type: 'JSON', value: '{"x":1}' });
    expect(at('h')).toEqual({ type: 'JSON', value: '[1,2]' });
    expect(at('i')).toEqual({ type: 'BOOLEAN', value: true });
    expect(at('j')).toEqual({ type: 'STRING', value: 'abc' });
    expect(at('k')).toEqual({ type: 'LONG', value: 1000 });
    expect(tb.devices.get('dev')).toEqual({ name: 'dev', type: 'default', connected: true }); // created on first use
  });

  it('upserts on (device, key, ts): the later value at the same ts wins, other ts are kept', () => {
    verdict('v1/gateway/telemetry', { d: [{ ts: 1, values: { k: 1 } }, { ts: 2, values: { k: 2 } }] });
    verdict('v1/gateway/telemetry', { d: [{ ts: 1, values: { k: 3 } }] });
    expect(tb.series('d', 'k')).toEqual([
      { ts: 1, value: 3 },
      { ts: 2, value: 2 },
    ]);
    expect(tb.latest('d')).toEqual({ k: { ts: 2, value: 2 } });
  });

  it.each<[string, string, unknown, string]>([
    ['numeric-string ts', 'v1/gateway/telemetry', { d: [{ ts: '1000', values: { k: 1 } }] }, 'accepted'],
    ['ts without values is a key at server time', 'v1/gateway/telemetry', { d: [{ ts: 5 }] }, 'accepted'],
    ['exponent ts string', 'v1/gateway/telemetry', { d: [{ ts: '1e3', values: { k: 1 } }] }, 'closed'],
    ['values not an object', 'v1/gateway/telemetry', { d: [{ ts: 1, values: [1] }] }, 'closed'],
    ['entry not an object', 'v1/gateway/telemetry', { d: [1] }, 'closed'],
    ['no device with an array', 'v1/gateway/telemetry', { d: { ts: 1 } }, 'acked-then-closed'],
    ['not a JSON object', 'v1/gateway/telemetry', [1], 'acked-then-closed'],
    ['invalid JSON', 'v1/gateway/telemetry', '{"d":', 'closed'],
    ['empty payload', 'v1/gateway/telemetry', '', 'acked-then-closed'],
    ['attributes of a device', 'v1/gateway/attributes', { d: { a: 1, b: null } }, 'accepted'],
    ['attributes not an object', 'v1/gateway/attributes', { d: [1] }, 'acked-then-closed'],
    ['attribute request, server shape', 'v1/gateway/attributes/request', { id: 1, device: 'd', client: false, keys: ['a', 'b'] }, 'accepted'],
    ['attribute request, single key', 'v1/gateway/attributes/request', { id: 1, device: 'd', client: true, key: 'a' }, 'accepted'],
    ['attribute request as on thingsboard.io (shared array)', 'v1/gateway/attributes/request', { id: 1, device: 'd', shared: ['a'] }, 'acked-then-closed'],
    ['attribute request without keys', 'v1/gateway/attributes/request', { id: 1, device: 'd', client: false }, 'acked-then-closed'],
    ['attribute request, id not a number', 'v1/gateway/attributes/request', { id: 'x', device: 'd', client: false, key: 'a' }, 'acked-then-closed'],
    ['connect', 'v1/gateway/connect', { device: 'd', type: 'profile' }, 'accepted'],
    ['connect without a name', 'v1/gateway/connect', { type: 'profile' }, 'acked-then-closed'],
    ['connect with an empty name', 'v1/gateway/connect', { device: '' }, 'acked-then-closed'],
    ['rpc reply', 'v1/gateway/rpc', { device: 'd', id: 1, data: { success: true } }, 'accepted'],
    ['rpc reply without data', 'v1/gateway/rpc', { device: 'd', id: 1 }, 'acked-then-closed'],
    ['unknown gateway topic', 'v1/gateway/whatever', 'x', 'accepted'],
    ['device telemetry, array', 'v1/devices/me/telemetry', [{ ts: 1, values: { a: 1 } }, { b: 2 }], 'accepted'],
    ['device telemetry, scalar', 'v1/devices/me/telemetry', '5', 'closed'],
    ['device rpc response, bad id', 'v1/devices/me/rpc/response/abc', {}, 'closed'],
  ])('%s', (_what, topic, body, outcome) => expect(verdict(topic, body)).toBe(outcome));

  it('drops null attribute values: a null never clears a stored attribute', () => {
    verdict('v1/gateway/attributes', { d: { lastDownlinkError: 'boom' } });
    verdict('v1/gateway/attributes', { d: { lastDownlinkError: null } });
    expect(tb.clientAttribute('d', 'lastDownlinkError')).toBe('boom');
    verdict('v1/gateway/attributes', { d: { lastDownlinkError: '' } });
    expect(tb.clientAttribute('d', 'lastDownlinkError')).toBe('');
  });
});

describe('ThingsBoard double on the wire', () => {
  let tb: ThingsboardDouble;
  let c: MqttClient | null = null;
  beforeEach(async () => {
    tb = new ThingsboardDouble({ accessToken: 'TOKEN' });
    await tb.start(await freePort());
  });
  afterEach(async () => {
    c?.end(true);
    c = null;
    await tb.stop();
  });
  const connect = async (): Promise<{ client: MqttClient; got: Array<{ topic: string; body: unknown }>; closed: () => boolean }> => {
    const client = mqtt.connect(tb.url, { username: 'TOKEN', reconnectPeriod: 0 });
    c = client;
    const got: Array<{ topic: string; body: unknown }> = [];
    let closed = false;
    client.on('message', (topic, p) => got.push({ topic, body: JSON.parse(p.toString()) }));
    client.on('close', () => (closed = true));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(['v1/gateway/attributes', 'v1/gateway/attributes/response', 'v1/gateway/rpc', 'v1/devices/me/rpc/request/+'], { qos: 1 });
    return { client, got, closed: () => closed };
  };

  it('refuses a wrong access token', async () => {
    const client = mqtt.connect(tb.url, { username: 'WRONG', reconnectPeriod: 0 });
    c = client;
    const err = await new Promise<Error & { code?: number }>((resolve) => client.once('error', resolve));
    expect(err.code).toBe(5);
  });

  it('answers attribute requests in the server shape, sends updates, deletions and RPC, and never echoes a client publish', async () => {
    await tb.setSharedAttributes('d', { one: '64', two: 2 });
    const { client, got, closed } = await connect();
    await client.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'd', type: 'profile' }), { qos: 1 });
    await client.publishAsync('v1/gateway/attributes/request', JSON.stringify({ id: 1, device: 'd', client: false, keys: ['one'] }), { qos: 1 });
    await client.publishAsync('v1/gateway/attributes/request', JSON.stringify({ id: 2, device: 'd', client: false, keys: ['one', 'two', 'three'] }), { qos: 1 });
    await client.publishAsync('v1/gateway/attributes/request', JSON.stringify({ id: 3, device: 'd', client: false, key: 'three' }), { qos: 1 });
    await waitUntil('3 responses', () => got.filter((m) => m.topic === 'v1/gateway/attributes/response').length === 3);
    expect(got.filter((m) => m.topic === 'v1/gateway/attributes/response').map((m) => m.body)).toEqual([
      { id: 1, device: 'd', value: '64' },
      { id: 2, device: 'd', values: { one: '64', two: 2 } },
      { id: 3, device: 'd' },
    ]);
    await tb.setSharedAttributes('d', { one: 5 });
    await tb.deleteSharedAttributes('d', ['two']);
    const reply = tb.rpcToDevice('d', 'setValue', { v: 1 });
    await waitUntil('rpc request', () => got.some((m) => m.topic === 'v1/gateway/rpc'));
    await client.publishAsync('v1/gateway/rpc', JSON.stringify({ device: 'd', id: 1, data: { success: true } }), { qos: 1 });
    await expect(reply).resolves.toEqual({ success: true });
    expect(got.filter((m) => m.topic !== 'v1/gateway/attributes/response').map((m) => m.body)).toEqual([
      { device: 'd', data: { one: 5 } },
      { device: 'd', data: { deleted: ['two'] } },
      { device: 'd', data: { id: 1, method: 'setValue', params: { v: 1 } } },
    ]);
    expect(closed()).toBe(false);
    expect(tb.closesByServer).toBe(0);
  });

  it('closes the connection on the request shape the server cannot read, after a PUBACK', async () => {
    const { client, closed } = await connect();
    await client.publishAsync('v1/gateway/attributes/request', JSON.stringify({ id: 1, device: 'd', shared: ['a'] }), { qos: 1 });
    await waitUntil('connection closed', closed);
    expect(tb.closesByServer).toBe(1);
    expect(tb.rejections[0]).toMatchObject({ outcome: 'acked-then-closed', reason: expect.stringMatching(/"client"/) });
  });

  it('closes without a PUBACK on a telemetry value it cannot convert, and keeps the store across a restart', async () => {
    const { client, closed } = await connect();
    await client.publishAsync('v1/gateway/telemetry', JSON.stringify({ d: [{ ts: 1, values: { k: 1 } }] }), { qos: 1 });
    let acked = false;
    client.publish('v1/gateway/telemetry', JSON.stringify({ d: [{ ts: 'soon', values: { k: 2 } }] }), { qos: 1 }, (err) => (acked = !err));
    await waitUntil('connection closed', closed);
    expect(acked).toBe(false);
    await tb.restart();
    expect(tb.series('d', 'k')).toEqual([{ ts: 1, value: 1 }]);
    expect(tb.restarts).toBe(1);
  });
});

describe('ThingsBoard double: the payload limit', () => {
  it('closes the connection on a packet over transport.mqtt.max_payload_size, counting the topic and packet id', async () => {
    const tb = new ThingsboardDouble({ maxPayloadSize: 100 });
    await tb.start(await freePort());
    const client = mqtt.connect(tb.url, { reconnectPeriod: 0 });
    try {
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      let closed = false;
      client.on('close', () => (closed = true));
      const topic = 'v1/devices/me/telemetry'; // 23 bytes: 4 + 23 + 73 = 100 fits, 74 does not
      await client.publishAsync(topic, JSON.stringify({ k: 'x'.repeat(73 - 8) }), { qos: 1 });
      expect(closed).toBe(false);
      client.publish(topic, JSON.stringify({ k: 'x'.repeat(74 - 8) }), { qos: 1 });
      await waitUntil('closed', () => closed);
      expect(tb.closesByServer).toBe(1);
      expect(tb.rejections[0].reason).toMatch(/too large message: 101 bytes/);
    } finally {
      client.end(true);
      await tb.stop();
    }
  });
});
