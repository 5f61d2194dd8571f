#!/usr/bin/env python3
"""Regenerates firmware-bridge/protocol/vectors.json.

Deliberately independent of the TypeScript codec: CBOR bodies are written here byte by byte, and CRC-16 and
COBS are re-implemented from the spec (DESIGN §3), so the vectors test the codec instead of echoing it.
"""
import json, os, struct

def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc

assert crc16(b"123456789") == 0x29B1

def cobs(data: bytes) -> bytes:
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block; block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block; block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out)

# --- minimal hand CBOR encoder: shortest forms, text keys -------------------------------------------
def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    if n < 256: return bytes([major << 5 | 24, n])
    if n < 65536: return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if n < 2**32: return bytes([major << 5 | 26]) + struct.pack(">I", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)
def t(s): b = s.encode(); return head(3, len(b)) + b
def u(n): return head(0, n) if n >= 0 else head(1, -1 - n)
def f64(x): return b"\xfb" + struct.pack(">d", x)
def f32(x): return b"\xfa" + struct.pack(">f", x)
def f16(x): return b"\xf9" + struct.pack(">e", x)
def m(*pairs): return head(5, len(pairs)) + b"".join(k + v for k, v in pairs)
def a(*items): return head(4, len(items)) + b"".join(items)
T, F = b"\xf5", b"\xf4"

def frame(typ, seq, body, version=1, crc_xor=0):
    raw = bytes([version, typ]) + struct.pack("<H", seq) + body
    c = crc16(raw) ^ crc_xor
    return raw + struct.pack("<H", c)

valid = []
def v(name, typ, seq, body, expect, canonical=True, note=None):
    raw = frame(typ, seq, body)
    d = {"name": name, "frame": raw.hex(), "wire": (cobs(raw) + b"\x00").hex(), "expect": expect, "canonical": canonical}
    if note: d["note"] = note
    valid.append(d)

R = lambda rs: {"type": "reading", "body": {"readings": rs}}
v("worked example: reading ch 1 = 21.5, seq 7 (DESIGN §3)", 0x02, 7, m((t("ch"), u(1)), (t("v"), f64(21.5))), {**R([{"ch": 1, "v": 21.5}]), "seq": 7})
v("reading with device time", 0x02, 8, m((t("ch"), u(2)), (t("v"), f64(-3.25)), (t("t"), u(123456))), {**R([{"ch": 2, "v": -3.25, "t": 123456}]), "seq": 8})
v("reading, integer value (1-byte uint)", 0x02, 9, m((t("ch"), u(1)), (t("v"), u(200))), {**R([{"ch": 1, "v": 200}]), "seq": 9})
v("reading, negative integer", 0x02, 10, m((t("ch"), u(1)), (t("v"), u(-40))), {**R([{"ch": 1, "v": -40}]), "seq": 10})
v("reading, value as half float (f9)", 0x02, 11, m((t("ch"), u(1)), (t("v"), f16(21.5))), {**R([{"ch": 1, "v": 21.5}]), "seq": 11}, canonical=False, note="devices may send any float width; the gateway re-encodes as double")
v("reading, value as single float (fa)", 0x02, 12, m((t("ch"), u(1)), (t("v"), f32(0.5))), {**R([{"ch": 1, "v": 0.5}]), "seq": 12}, canonical=False)
v("reading, 2-byte uint value", 0x02, 13, m((t("ch"), u(1)), (t("v"), u(1000))), {**R([{"ch": 1, "v": 1000}]), "seq": 13})
v("reading, 4-byte uint value", 0x02, 14, m((t("ch"), u(1)), (t("v"), u(100000))), {**R([{"ch": 1, "v": 100000}]), "seq": 14})
v("reading, 8-byte uint device time", 0x02, 15, m((t("ch"), u(1)), (t("v"), u(1)), (t("t"), b"\x1b" + struct.pack(">Q", 2**40))), {**R([{"ch": 1, "v": 1, "t": 2**40}]), "seq": 15}, canonical=False, note="integers of any width are accepted")
v("batched readings without time", 0x02, 16, m((t("r"), a(a(u(1), f64(1.5)), a(u(2), f64(2.5))))), {**R([{"ch": 1, "v": 1.5}, {"ch": 2, "v": 2.5}]), "seq": 16})
v("batched readings with and without time", 0x02, 17, m((t("r"), a(a(u(1), f64(1.5), u(10)), a(u(1), f64(1.75))))), {**R([{"ch": 1, "v": 1.5, "t": 10}, {"ch": 1, "v": 1.75}]), "seq": 17})
v("map16 body (b9 00 02) accepted", 0x02, 18, b"\xb9\x00\x02" + t("ch") + u(1) + t("v") + f64(21.5), {**R([{"ch": 1, "v": 21.5}]), "seq": 18}, canonical=False, note="what cbor-x emits without variableMapSize; readers accept any valid form")
v("hello", 0x01, 0, m((t("id"), t("scale-1")), (t("fw"), t("1.2.0")), (t("model"), t("kitchen-scale")), (t("ch"), a(m((t("n"), u(1)), (t("k"), t("weight")), (t("c"), t("usage"))), m((t("n"), u(2)), (t("k"), t("event")), (t("c"), t("usage")))))),
  {"type": "hello", "seq": 0, "body": {"id": "scale-1", "fw": "1.2.0", "model": "kitchen-scale", "ch": [{"n": 1, "k": "weight", "c": "usage"}, {"n": 2, "k": "event", "c": "usage"}]}})
v("hello with a special category channel", 0x01, 1, m((t("id"), t("wearable-1")), (t("fw"), t("0.9")), (t("model"), t("wearable")), (t("ch"), a(m((t("n"), u(1)), (t("k"), t("heart_rate")), (t("c"), t("health")))))),
  {"type": "hello", "seq": 1, "body": {"id": "wearable-1", "fw": "0.9", "model": "wearable", "ch": [{"n": 1, "k": "heart_rate", "c": "health"}]}})
v("event, name only", 0x03, 20, m((t("e"), t("door_open"))), {"type": "event", "seq": 20, "body": {"e": "door_open"}})
v("event with channel, value and time", 0x03, 21, m((t("e"), t("dispense")), (t("ch"), u(2)), (t("v"), f64(18.5)), (t("t"), u(5000))), {"type": "event", "seq": 21, "body": {"e": "dispense", "ch": 2, "v": 18.5, "t": 5000}})
v("event with an unknown extra key (tolerated)", 0x03, 22, m((t("e"), t("button")), (t("x"), u(1))), {"type": "event", "seq": 22, "body": {"e": "button"}}, canonical=False, note="unknown keys are ignored for forward compatibility")
v("consent: device privacy button off", 0x04, 30, m((t("s"), t("device")), (t("g"), F)), {"type": "consent", "seq": 30, "body": {"s": "device", "g": False}})
v("consent: one category granted", 0x04, 31, m((t("s"), t("presence")), (t("g"), T)), {"type": "consent", "seq": 31, "body": {"s": "presence", "g": True}})
v("heartbeat", 0x05, 40, m((t("up"), u(3600))), {"type": "heartbeat", "seq": 40, "body": {"up": 3600}})
v("heartbeat with negative rssi", 0x05, 41, m((t("up"), u(7)), (t("rssi"), u(-67))), {"type": "heartbeat", "seq": 41, "body": {"up": 7, "rssi": -67}})
v("seq wraps: 0xFFFF", 0x05, 0xFFFF, m((t("up"), u(1))), {"type": "heartbeat", "seq": 65535, "body": {"up": 1}})
v("gateway ack", 0x81, 3, m((t("a"), u(7))), {"type": "ack", "seq": 3, "body": {"a": 7}})
v("gateway command: identify", 0x82, 4, m((t("c"), t("identify"))), {"type": "command", "seq": 4, "body": {"c": "identify"}})
v("gateway command: notify with text", 0x82, 5, m((t("c"), t("notify")), (t("text"), t("Coffee low"))), {"type": "command", "seq": 5, "body": {"c": "notify", "text": "Coffee low"}})
v("gateway consent-state", 0x83, 6, m((t("cats"), m((t("usage"), T), (t("health"), F)))), {"type": "consent-state", "seq": 6, "body": {"cats": {"usage": True, "health": False}}})
v("hello declaring the update capability (cap)", 0x01, 0, m((t("id"), t("scale-1")), (t("fw"), t("2.4.0")), (t("model"), t("kitchen-scale")), (t("ch"), a(m((t("n"), u(1)), (t("k"), t("weight")), (t("c"), t("usage"))))), (t("cap"), a(t("update")))),
  {"type": "hello", "seq": 0, "body": {"id": "scale-1", "fw": "2.4.0", "model": "kitchen-scale", "ch": [{"n": 1, "k": "weight", "c": "usage"}], "cap": ["update"]}})
v("firmware-choice: defer for 24 hours (the device button)", 0x06, 50, m((t("d"), t("defer")), (t("h"), u(24))), {"type": "firmware-choice", "seq": 50, "body": {"d": "defer", "h": 24}})
v("firmware-choice: defer, hours left to the gateway", 0x06, 51, m((t("d"), t("defer"))), {"type": "firmware-choice", "seq": 51, "body": {"d": "defer"}})
v("firmware-choice: never (do not update)", 0x06, 52, m((t("d"), t("never"))), {"type": "firmware-choice", "seq": 52, "body": {"d": "never"}})
v("firmware-choice: allow", 0x06, 53, m((t("d"), t("allow"))), {"type": "firmware-choice", "seq": 53, "body": {"d": "allow"}})
v("gateway command: update pending", 0x82, 8, m((t("c"), t("update")), (t("v"), t("2.5.0"))), {"type": "command", "seq": 8, "body": {"c": "update", "v": "2.5.0"}})
v("frame with a zero byte in the CRC (COBS must escape it)", 0x05, 0x0100, m((t("up"), u(0))), {"type": "heartbeat", "seq": 256, "body": {"up": 0}})

ok_reading = frame(0x02, 7, m((t("ch"), u(1)), (t("v"), f64(21.5))))
malformed = []
def bad(name, kind, frame_bytes=None, wire=None):
    d = {"name": name, "kind": kind}
    if frame_bytes is not None: d["frame"] = frame_bytes.hex()
    if wire is not None: d["wire"] = wire.hex()
    malformed.append(d)

bad("CRC flipped", "crc", frame(0x02, 7, m((t("ch"), u(1)), (t("v"), f64(21.5))), crc_xor=0x0001))
bad("payload byte flipped (CRC catches it)", "crc", ok_reading[:5] + bytes([ok_reading[5] ^ 0x40]) + ok_reading[6:])
bad("version 2", "version", frame(0x02, 7, m((t("ch"), u(1)), (t("v"), u(1))), version=2))
bad("too short", "short", bytes([1, 2, 0, 0, 0xa0]))
bad("unknown type 0x7f", "type", frame(0x7F, 1, b"\xa0"))
bad("body is an array, not a map", "cbor", frame(0x02, 1, a(u(1), u(2))))
bad("trailing bytes after the map", "cbor", frame(0x02, 1, m((t("ch"), u(1)), (t("v"), u(1))) + b"\x01"))
bad("truncated CBOR", "cbor", frame(0x02, 1, b"\xa2" + t("ch") + u(1)))
bad("integer map key", "cbor", frame(0x02, 1, m((u(1), u(1)))))
bad("reading without v", "field", frame(0x02, 1, m((t("ch"), u(1)))))
bad("reading with text value", "field", frame(0x02, 1, m((t("ch"), u(1)), (t("v"), t("hot")))))
bad("reading with negative channel", "field", frame(0x02, 1, m((t("ch"), u(-1)), (t("v"), u(1)))))
bad("event without name", "field", frame(0x03, 1, m((t("ch"), u(1)))))
bad("hello with unknown category", "field", frame(0x01, 0, m((t("id"), t("x")), (t("fw"), t("1")), (t("model"), t("m")), (t("ch"), a(m((t("n"), u(1)), (t("k"), t("k")), (t("c"), t("mood"))))))))
bad("consent with non-boolean g", "field", frame(0x04, 1, m((t("s"), t("usage")), (t("g"), u(1)))))
bad("consent for unknown category", "field", frame(0x04, 1, m((t("s"), t("mood")), (t("g"), T))))
bad("firmware-choice with an unknown choice", "field", frame(0x06, 1, m((t("d"), t("later")))))
bad("firmware-choice deferring 0 hours", "field", frame(0x06, 1, m((t("d"), t("defer")), (t("h"), u(0)))))
bad("firmware-choice deferring more than 744 hours", "field", frame(0x06, 1, m((t("d"), t("defer")), (t("h"), u(745)))))
bad("firmware-choice with hours on never", "field", frame(0x06, 1, m((t("d"), t("never")), (t("h"), u(3)))))
bad("firmware-choice without d", "field", frame(0x06, 1, m((t("h"), u(3)))))
bad("hello with cap not an array", "field", frame(0x01, 0, m((t("id"), t("x")), (t("fw"), t("1")), (t("model"), t("m")), (t("ch"), a()), (t("cap"), t("update")))))
bad("command update without the version", "field", frame(0x82, 1, m((t("c"), t("update")))))
bad("NaN reading value", "field", frame(0x02, 1, m((t("ch"), u(1)), (t("v"), f64(float("nan"))))))
bad("COBS code points past the end", "cobs", wire=bytes([0x09, 0x01, 0x02, 0x00]))
bad("oversize run (700 bytes without delimiter)", "oversize", wire=bytes([0x41]) * 700 + b"\x00")

doc = {
    "description": "Device protocol v1 test vectors (DESIGN §3, firmware-bridge/protocol/PROTOCOL.md). 'frame' is the decoded frame (version|type|seq u16le|CBOR map|CRC-16/CCITT-FALSE u16le) as sent in one BLE notification/write; 'wire' is the serial form: COBS(frame) followed by 0x00. 'expect' is the decoded frame; readings are normalised to body.readings[] for both the single and the batched form. 'canonical': true means an encoder must reproduce 'frame' byte for byte (shortest CBOR forms, floats as doubles); false means the input is valid but not what the gateway emits. 'malformed' entries give 'frame' (decode one frame) or 'wire' (feed a serial stream) and the error kind a decoder must report: short|version|crc|type|cbor|field|cobs|oversize. Regenerate with scripts/dev/make-vectors.py, which shares no code with the TypeScript codec.",
    "crcCheck": {"input": "123456789", "crc": "29b1"},
    "valid": valid,
    "malformed": malformed,
}
out = os.path.join(os.path.dirname(__file__), "..", "..", "firmware-bridge", "protocol", "vectors.json")
with open(out, "w") as fh:
    json.dump(doc, fh, indent=2)
    fh.write("\n")
print(f"{len(valid)} valid, {len(malformed)} malformed vectors -> {os.path.normpath(out)}")
