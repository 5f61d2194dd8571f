/**
 * The Node-RED flow a typical user would build for the same job as edge-agent (issue #11): serial in (split on
 * 0x00, binary) → a function node that decodes the frame (COBS, CRC-16, CBOR via cbor-x from the global context)
 * and computes the engagement index in flow context → SQLite (node-red-node-sqlite, one INSERT per message, i.e.
 * one transaction each) → a function node building the ack → serial out; and the index as a signal to MQTT out
 * (QoS 1) for every event. A setup function sets WAL and synchronous=FULL on the same connection first, so the
 * durability matches the agent's (and Node-RED gets WAL's single fsync per commit, the kinder setting).
 */

/** Node-RED node records as they appear in flows.json; only the fields we set. */
type NodeRecord = Record<string, unknown> & { id: string; type: string };

const DECODE_AND_INDEX = String.raw`
const cbor = global.get('cbor');
const raw = msg.payload; // one COBS-encoded frame and its 0x00 delimiter
const n = raw.length - 1;
const f = Buffer.alloc(n);
let o = 0, i = 0;
while (i < n) {
  const code = raw[i++];
  for (let k = 1; k < code && i < n; k++) f[o++] = raw[i++];
  if (code < 0xff && i < n) f[o++] = 0;
}
if (o < 7) return null;
let crc = 0xffff;
for (let j = 0; j < o - 2; j++) {
  crc ^= f[j] << 8;
  for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
}
if (crc !== (f[o - 2] | (f[o - 1] << 8))) { node.warn('bad CRC'); return null; }
const type = f[1];
const seq = f[2] | (f[3] << 8);
const body = cbor.decode(f.subarray(4, o - 2));
const now = Date.now();
const device = flow.get('device') || 'unknown';
if (type === 0x01) { flow.set('device', body.id); return null; }            // hello
if (type === 0x02) {                                                          // reading
  const r = body.r ? body.r[0] : [body.ch, body.v];
  return [{ topic: 'INSERT INTO readings (device, ch, v, t) VALUES ($device, $ch, $v, $t)', payload: [device, r[0], r[1], now], seq }, null];
}
if (type !== 0x03) return null;
// event: store it and update the engagement index (S/R) x F x (V/100) of the household's campaign
const store = { topic: 'INSERT INTO events (device, name, ch, v, t) VALUES ($device, $name, $ch, $v, $t)', payload: [device, body.e, body.ch, body.v, now], seq };
if (body.e !== 'dispense') return [store, null];
const S = 100, floorDays = 1, windowMs = 30 * 86400000, V = 72, threshold = 30, cooldownMs = 3600000;
const st = flow.get('engagement') || { times: [], lastTrigger: 0, armed: true };
st.times.push(now);
while (st.times.length > 0 && st.times[0] < now - windowMs) st.times.shift();
const F = st.times.length;
const R = Math.max(floorDays, (now - st.times[st.times.length - 1]) / 86400000);
const index = (S / R) * F * (V / 100);
let trigger = false;
if (index >= threshold && st.armed && now - st.lastTrigger >= cooldownMs) { trigger = true; st.armed = false; st.lastTrigger = now; }
if (index < threshold) st.armed = true;
flow.set('engagement', st);
const signal = { payload: JSON.stringify({ profile: 'home-0', campaign: 'coffee-reorder', index, r: R, f: F, v: V, trigger, ts: now }) };
return [store, signal];
`;

const BUILD_ACK = String.raw`
if (msg.seq === undefined) return null; // setup statements
const cbor = global.get('cbor');
const gseq = ((context.get('seq') || 0) + 1) & 0xffff;
context.set('seq', gseq);
const body = cbor.encode({ a: msg.seq });
const f = Buffer.alloc(4 + body.length + 2);
f[0] = 0x01; f[1] = 0x81; f[2] = gseq & 0xff; f[3] = gseq >> 8;
body.copy(f, 4);
let crc = 0xffff;
for (let j = 0; j < f.length - 2; j++) {
  crc ^= f[j] << 8;
  for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
}
f[f.length - 2] = crc & 0xff; f[f.length - 1] = crc >> 8;
const out = [];
let codeAt = 0; out.push(0);
for (const byte of f) {
  if (byte === 0) { out[codeAt] = out.length - codeAt; codeAt = out.length; out.push(0); }
  else { out.push(byte); if (out.length - codeAt === 0xff) { out[codeAt] = 0xff; codeAt = out.length; out.push(0); } }
}
out[codeAt] = out.length - codeAt;
out.push(0);
return { payload: Buffer.from(out) };
`;

const SETUP = String.raw`
return [[
  { topic: 'PRAGMA journal_mode = WAL' },
  { topic: 'PRAGMA synchronous = FULL' },
  { topic: 'CREATE TABLE IF NOT EXISTS readings (id INTEGER PRIMARY KEY, device TEXT, ch INTEGER, v REAL, t INTEGER)' },
  { topic: 'CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, device TEXT, name TEXT, ch INTEGER, v REAL, t INTEGER)' },
]];
`;

export interface FlowOptions {
  serialPort: string;
  dbFile: string;
  mqttPort: number | null;
}

/** flows.json for the peer: one tab, the nodes above, wired as a user would wire them in the editor. */
export function nodeRedFlow(opts: FlowOptions): NodeRecord[] {
  const tab = 'bench-tab';
  const nodes: NodeRecord[] = [
    { id: tab, type: 'tab', label: 'edge-agent peer' },
    {
      id: 'serial-cfg',
      type: 'serial-port',
      name: 'ESP32',
      serialport: opts.serialPort,
      serialbaud: '921600',
      databits: '8',
      parity: 'none',
      stopbits: '1',
      waitfor: '',
      dtr: 'none',
      rts: 'none',
      cts: 'none',
      dsr: 'none',
      newline: '0x00',
      bin: 'bin',
      out: 'char',
      addchar: '',
      responsetimeout: '10000',
    },
    { id: 'db-cfg', type: 'sqlitedb', db: opts.dbFile, mode: 'RWC' },
    {
      id: 'n1-serial-in',
      type: 'serial in',
      z: tab,
      name: 'frames',
      serial: 'serial-cfg',
      wires: [['n2-decode']],
    },
    {
      id: 'n2-decode',
      type: 'function',
      z: tab,
      name: 'decode + index',
      func: DECODE_AND_INDEX,
      outputs: 2,
      wires: [['n5-store'], opts.mqttPort !== null ? ['n8-mqtt-out'] : []],
    },
    {
      id: 'n3-setup-inject',
      type: 'inject',
      z: tab,
      name: 'on start',
      once: true,
      onceDelay: '0.1',
      repeat: '',
      topic: '',
      payload: '',
      payloadType: 'date',
      props: [{ p: 'payload' }],
      wires: [['n4-setup']],
    },
    {
      id: 'n4-setup',
      type: 'function',
      z: tab,
      name: 'schema + durability',
      func: SETUP,
      outputs: 1,
      wires: [['n5-store']],
    },
    {
      id: 'n5-store',
      type: 'sqlite',
      z: tab,
      name: 'store',
      mydb: 'db-cfg',
      sqlquery: 'msg.topic',
      sql: '',
      wires: [['n6-ack']],
    },
    {
      id: 'n6-ack',
      type: 'function',
      z: tab,
      name: 'ack frame',
      func: BUILD_ACK,
      outputs: 1,
      wires: [['n7-serial-out']],
    },
    { id: 'n7-serial-out', type: 'serial out', z: tab, name: 'acks', serial: 'serial-cfg', wires: [] },
  ];
  if (opts.mqttPort !== null) {
    nodes.push(
      {
        id: 'mqtt-cfg',
        type: 'mqtt-broker',
        name: 'local',
        broker: '127.0.0.1',
        port: String(opts.mqttPort),
        clientid: 'node-red-bench',
        autoConnect: true,
        usetls: false,
        protocolVersion: '4',
        keepalive: '60',
        cleansession: true,
      },
      {
        id: 'n8-mqtt-out',
        type: 'mqtt out',
        z: tab,
        name: 'signals',
        topic: 'edge/node-red/signals',
        qos: '1',
        retain: 'false',
        broker: 'mqtt-cfg',
        wires: [],
      },
    );
  }
  return nodes;
}

/** settings.js for a headless run in a temp userDir; cbor-x reaches function nodes through the global context. */
export function nodeRedSettings(port: number, cborModule: string): string {
  return `module.exports = {
  uiPort: ${port},
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: false,
  functionGlobalContext: { cbor: require(${JSON.stringify(cborModule)}) },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { tours: false },
};
`;
}
