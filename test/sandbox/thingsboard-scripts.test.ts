import { ScriptHost, checkCondition, checkDecoded } from '../../agent/sandbox';

// Scripts written the way ThingsBoard users write them (converter bodies with helpers at the bottom, whole
// Decoder functions, rule-node bodies), pasted unchanged.
const bytes = (s: string): number[] => [...Buffer.from(s, 'latin1')];
const any = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });

describe('ThingsBoard-style scripts run unchanged', () => {
  const host = new ScriptHost();
  afterAll(() => host.stop());

  test('uplink converter body: helpers declared after the return, metadata read by key', async () => {
    const source = `// payload - array of bytes, metadata - key/value object
var data = decodeToJson(payload);
var deviceName = data.serial;
var result = {
   deviceName: deviceName,
   deviceType: 'thermostat',
   attributes: { model: 'T-100', integrationName: metadata['integrationName'] },
   telemetry: { temperature: data.t, humidity: data.h, rawData: decodeToString(payload) }
};

/** Helper functions **/
function decodeToString(payload) {
   return String.fromCharCode.apply(String, payload);
}
function decodeToJson(payload) {
   var str = decodeToString(payload);
   return JSON.parse(str);
}
return result;`;
    expect(await host.add({ id: 'tb-json', kind: 'decoder', source })).toBeNull();
    const raw = '{"serial":"SN-7","t":21.5,"h":40}';
    const run = host.run('tb-json', [bytes(raw), { integrationName: 'edge' }], checkDecoded);
    expect(run).toEqual({
      ok: true,
      value: [
        {
          deviceName: 'SN-7',
          deviceType: 'thermostat',
          attributes: { model: 'T-100', integrationName: 'edge' },
          telemetry: [{ values: { temperature: 21.5, humidity: 40, rawData: raw } }],
          events: [],
        },
      ],
    });
  });

  test('a whole Decoder function with binary parsing and timestamped telemetry arrays', async () => {
    const source = `function Decoder(payload, metadata) {
  var view = new DataView(new Uint8Array(payload).buffer);
  var t = view.getInt16(0, true) / 100;
  var batt = payload[2];
  return [{
    deviceName: metadata.deviceName,
    telemetry: [{ ts: metadata.ts, values: { temperature: t } }, { ts: metadata.ts + 1000, values: { battery: batt } }]
  }];
}`;
    expect(await host.add({ id: 'tb-binary', kind: 'decoder', source })).toBeNull();
    const run = host.run('tb-binary', [[0x66, 0x08, 97], { deviceName: 'ble-th', ts: 1700000000000 }], checkDecoded);
    expect(run).toEqual({
      ok: true,
      value: [{ deviceName: 'ble-th', attributes: {}, events: [], telemetry: [{ ts: 1700000000000, values: { temperature: 21.5 } }, { ts: 1700000001000, values: { battery: 97 } }] }],
    });
  });

  test('a decoder that declares Decoder and helpers without a top-level return', async () => {
    const source = `function toInt(hi, lo) { return (hi << 8) | lo; }
function Decoder(payload, metadata) {
  return { telemetry: { co2: toInt(payload[0], payload[1]) }, event: payload[2] ? 'door_open' : undefined };
}`;
    expect(await host.add({ id: 'tb-declared', kind: 'decoder', source })).toBeNull();
    expect(host.run('tb-declared', [[0x02, 0x64, 1], {}], checkDecoded)).toEqual({ ok: true, value: [{ telemetry: [{ values: { co2: 612 } }], attributes: {}, events: ['door_open'] }] });
  });

  test('rule node filter, switch and transform bodies', async () => {
    await host.add({ id: 'filter', kind: 'condition', source: 'return msg.temperature > 20;' });
    expect(host.run('filter', [{ temperature: 21 }, {}, 'POST_TELEMETRY_REQUEST'], checkCondition)).toEqual({ ok: true, value: true });
    await host.add({
      id: 'switch',
      kind: 'rule',
      source: "if (msgType === 'POST_TELEMETRY_REQUEST') {\n  if (msg.temperature < 18) { return ['Low Temperature Telemetry']; }\n  return ['Normal Telemetry'];\n}\nreturn ['Other'];",
    });
    expect(host.run('switch', [{ temperature: 15 }, {}, 'POST_TELEMETRY_REQUEST'], any)).toEqual({ ok: true, value: ['Low Temperature Telemetry'] });
    await host.add({
      id: 'transform',
      kind: 'rule',
      source: 'var newMsg = {};\nnewMsg.celsius = (msg.fahrenheit - 32) * 5 / 9;\nmetadata.converted = "true";\nreturn {msg: newMsg, metadata: metadata, msgType: msgType};',
    });
    expect(host.run('transform', [{ fahrenheit: 212 }, { deviceName: 'x' }, 'POST_TELEMETRY_REQUEST'], any)).toEqual({
      ok: true,
      value: { msg: { celsius: 100 }, metadata: { deviceName: 'x', converted: 'true' }, msgType: 'POST_TELEMETRY_REQUEST' },
    });
  });

  test('a rule written as a whole function expression, and an arrow function', async () => {
    await host.add({ id: 'fn-expr', kind: 'condition', source: 'function (msg, metadata, msgType) {\n  return metadata.deviceType === "fridge" && msg.open === true;\n}' });
    expect(host.run('fn-expr', [{ open: true }, { deviceType: 'fridge' }, 'EVENT'], checkCondition)).toEqual({ ok: true, value: true });
    await host.add({ id: 'arrow', kind: 'condition', source: '(msg) => msg.v >= 3' });
    expect(host.run('arrow', [{ v: 2 }, {}, 'EVENT'], checkCondition)).toEqual({ ok: true, value: false });
  });

  test('console output is captured for technicians, never printed by the agent', async () => {
    await host.add({ id: 'chatty', kind: 'rule', source: 'console.log("got", msg, 42); console.warn("careful"); return 1;' });
    const run = host.run('chatty', [{ a: 1 }, {}, 'EVENT'], any, { logs: true });
    expect(run).toEqual({ ok: true, value: 1, logs: ['log got {"a":1} 42', 'warn careful'] });
  });
});
