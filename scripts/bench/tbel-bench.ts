import { ScriptHost, ScriptError, type ScriptLanguage } from '../../agent/sandbox';
import { medianPerCall } from './sandbox-bench';
import { percentile, type BenchResult } from './stats';

/**
 * TBEL against the equivalent JavaScript in the same sandbox (issue #25: a TBEL script within 2x the time of the
 * JavaScript doing the same work). Each pair runs through the agent's path (ScriptHost.run) with the same
 * arguments; the figure is the ratio of the medians. The scripts are ours, in the shapes converters take.
 */
interface Pair {
  name: string;
  kind: 'decoder' | 'rule';
  tbel: string;
  js: string;
  args: unknown[];
}

const LORA_JSON = JSON.stringify({ devEui: 'a84041000181c5e1', fPort: 2, time: '2024-03-01T10:15:30.250+01:00', rx: { rssi: -71, snr: 9.5 }, data: 'AQnE/zhkGhIAEwEU' });
const LORA_BYTES = [...Buffer.from(LORA_JSON, 'utf8')];

const PAIRS: Pair[] = [
  {
    name: 'small_decoder',
    kind: 'decoder',
    tbel: 'return { telemetry: { t: (payload[0] | (payload[1] << 8)) / 100, batt: payload[2] } };',
    js: 'return { telemetry: { t: (payload[0] | (payload[1] << 8)) / 100, batt: payload[2] } };',
    args: [[0x66, 0x08, 97], { deviceName: 'th-1' }],
  },
  {
    // a LoRaWAN integration converter: JSON envelope, base64 data, fields by offset, a channel loop
    name: 'lora_converter',
    kind: 'decoder',
    tbel: `var data = decodeToJson(payload);
var bytes = base64ToBytes(data.data);
var values = {};
values.weight = toFixed(parseBytesToInt(bytes, 1, 2) / 100.0, 2);
var temp = parseBytesToInt(bytes, 3, 2);
if (temp > 32767) { temp -= 65536; }
values.temperature = temp / 10.0;
values.battery = bytes[5] & 0xFF;
var i = 6;
while (i + 1 < bytes.length) {
    var ch = bytes[i] & 0xFF;
    values["ch" + ch] = bytes[i + 1] & 0xFF;
    i += 2;
}
var flags = [];
foreach (bit : [0, 1, 2, 3]) {
    if (((bytes[0] >> bit) & 1) == 1) { flags.add("f" + bit); }
}
values.flags = String.join(",", flags);
return {
    deviceName: "Scale " + data.devEui.toUpperCase(),
    deviceType: "scale",
    attributes: { fPort: data.fPort, rssi: data.rx.?rssi },
    telemetry: [{ ts: new Date(data.time).getTime(), values: values }]
};`,
    js: `var data = decodeToJson(payload);
var bin = atob(data.data);
var bytes = [];
for (var k = 0; k < bin.length; k++) bytes.push(bin.charCodeAt(k));
var values = {};
values.weight = Number((((bytes[1] << 8) | bytes[2]) / 100).toFixed(2));
var temp = (bytes[3] << 8) | bytes[4];
if (temp > 32767) { temp -= 65536; }
values.temperature = temp / 10;
values.battery = bytes[5] & 0xFF;
var i = 6;
while (i + 1 < bytes.length) {
  var ch = bytes[i] & 0xFF;
  values["ch" + ch] = bytes[i + 1] & 0xFF;
  i += 2;
}
var flags = [];
[0, 1, 2, 3].forEach(function (bit) { if (((bytes[0] >> bit) & 1) === 1) flags.push("f" + bit); });
values.flags = flags.join(",");
return {
  deviceName: "Scale " + data.devEui.toUpperCase(),
  deviceType: "scale",
  attributes: { fPort: data.fPort, rssi: data.rx ? data.rx.rssi : null },
  telemetry: [{ ts: new Date(data.time).getTime(), values: values }]
};`,
    args: [LORA_BYTES, {}],
  },
  {
    // a rule script working through a list and a map: method calls on collections dominate
    name: 'collections_rule',
    kind: 'rule',
    tbel: `var readings = msg.readings;
var byKey = {};
var total = 0.0;
foreach (r : readings) {
    var k = r.sensor;
    if (!byKey.containsKey(k)) { byKey.put(k, []); }
    byKey.get(k).add(r.v);
    total += r.v;
}
var out = {};
foreach (e : byKey.entrySet()) {
    var l = e.getValue();
    var max = l.get(0);
    for (int i = 1; i < l.size(); i++) { if (l.get(i) > max) { max = l.get(i); } }
    out.put(e.getKey(), max);
}
out.put("mean", total / readings.size());
return out;`,
    js: `var readings = msg.readings;
var byKey = {};
var total = 0;
readings.forEach(function (r) {
  var k = r.sensor;
  if (!Object.prototype.hasOwnProperty.call(byKey, k)) byKey[k] = [];
  byKey[k].push(r.v);
  total += r.v;
});
var out = {};
Object.keys(byKey).forEach(function (k) {
  var l = byKey[k];
  var max = l[0];
  for (var i = 1; i < l.length; i++) { if (l[i] > max) max = l[i]; }
  out[k] = max;
});
out.mean = total / readings.length;
return out;`,
    args: [{ readings: Array.from({ length: 60 }, (_, i) => ({ sensor: `s${i % 6}`, v: (i * 37) % 101 })) }, {}, 'POST_TELEMETRY_REQUEST'],
  },
  {
    // arithmetic in a loop: what TBEL translates to plain JavaScript
    name: 'arithmetic_loop',
    kind: 'rule',
    tbel: 'var sum = 0;\nfor (int i = 0; i < 2000; i++) { sum = (sum + i * 31 + (i >> 2)) % 65521; }\nreturn { s: sum };',
    js: 'var sum = 0;\nfor (var i = 0; i < 2000; i++) { sum = (sum + i * 31 + (i >> 2)) % 65521; }\nreturn { s: sum };',
    args: [{}, {}, 'POST_TELEMETRY_REQUEST'],
  },
];

const pass = (v: unknown): { ok: true; value: unknown } => ({ ok: true, value: v });

/** How long past its limit a runaway script is stopped (wall ms): an endless loop and a list growing without end. */
async function stopPastLimit(language: ScriptLanguage, source: string, runs: number): Promise<number> {
  let now = 0;
  // the breaker's clock moves a minute between runs, so every run meets the script enabled
  const host = new ScriptHost({ limits: { timeoutMs: 50, memoryBytes: 8 * 1048576 }, clock: () => now });
  try {
    const err = await host.add({ id: 'runaway', kind: 'rule', source, language });
    if (err) throw err;
    let worst = 0;
    for (let r = 0; r < runs; r++) {
      await host.settled();
      now += 61_000;
      const t0 = process.hrtime.bigint();
      const res = host.run('runaway', [{}, {}, 'X'], pass);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.ok || res.disabled || !(res.error instanceof ScriptError)) throw new Error(`${language} runaway was not stopped by its limit`);
      worst = Math.max(worst, ms);
    }
    return worst;
  } finally {
    host.stop();
  }
}

export async function tbelBench(quick: boolean): Promise<BenchResult[]> {
  const batches = quick ? 3 : 30;
  const n = quick ? 50 : 300;
  const out: BenchResult[] = [];
  // generous: on a loaded machine a call can wait for a core; speed, not the limit, is measured here
  const host = new ScriptHost({ limits: { timeoutMs: 10_000 } });
  try {
    for (const p of PAIRS) {
      for (const language of ['tbel', 'js'] as const) {
        const err = await host.add({ id: `${p.name}.${language}`, kind: p.kind, source: language === 'tbel' ? p.tbel : p.js, language });
        if (err) throw err;
      }
      const call = (language: ScriptLanguage) => (): void => {
        const r = host.run(`${p.name}.${language}`, p.args, pass);
        if (!r.ok) throw r.error;
      };
      // TBEL and JavaScript batches alternate, so both meet the same machine load; the ratio is the median of
      // the per-batch ratios
      const tbel: number[] = [];
      const js: number[] = [];
      const ratios: number[] = [];
      for (let b = 0; b < batches; b++) {
        tbel.push(medianPerCall(1, n, call('tbel')).p50);
        js.push(medianPerCall(1, n, call('js')).p50);
        ratios.push(tbel[b] / js[b]);
      }
      const median = (xs: number[]): number => percentile(Float64Array.from(xs).sort(), 50);
      out.push({ name: `tbel.${p.name}_call_median`, value: median(tbel), unit: 'µs' });
      out.push({ name: `tbel.${p.name}_js_call_median`, value: median(js), unit: 'µs', peer: 'same script in JavaScript' });
      out.push({ name: `tbel.${p.name}_vs_js`, value: Math.round(median(ratios) * 100) / 100, unit: 'x', target: '<= 2x' });
    }
    // The same limits: a runaway TBEL script stops as a JavaScript one does (50 ms, 8 MB; worst of the runs).
    const runs = quick ? 2 : 10;
    const stop = { unit: 'ms', target: '<= 100 ms (2x the limit)' };
    out.push({ name: 'tbel.endless_loop_stopped_after', value: Math.round(await stopPastLimit('tbel', 'while (true) { }', runs)), ...stop });
    out.push({ name: 'tbel.endless_loop_js_stopped_after', value: Math.round(await stopPastLimit('js', 'while (true) { }', runs)), unit: 'ms', peer: 'JavaScript' });
    out.push({ name: 'tbel.growing_list_stopped_after', value: Math.round(await stopPastLimit('tbel', 'var l = ["x"];\nwhile (true) { l.addAll(l); }', runs)), ...stop });
    out.push({ name: 'tbel.growing_list_js_stopped_after', value: Math.round(await stopPastLimit('js', 'var l = ["x"];\nwhile (true) { l = l.concat(l); }', runs)), unit: 'ms', peer: 'JavaScript' });
  } finally {
    host.stop();
  }
  return out;
}
