import { decodeFrame, encodeFrame, type DeviceFrame } from '../../firmware-bridge/protocol';
import { DEVICE_CATALOG, SimDevice, seededRandom, RETRANSMIT_MS, type SimKind } from '../../drivers/sim';

const HOUR = 3_600_000;
const kinds = Object.keys(DEVICE_CATALOG) as SimKind[];

/** A device as a healthy gateway leaves it after its hello: answered with a consent-state allowing everything. */
function answered(dev: SimDevice): SimDevice {
  dev.onGatewayFrame({ type: 'consent-state', seq: 0, body: { cats: {} } });
  return dev;
}

/** Runs a device for `ms` of simulated time in 100 ms steps, acking everything (like a healthy gateway). */
function run(dev: SimDevice, from: number, ms: number, ack = true): DeviceFrame[] {
  const out: DeviceFrame[] = [];
  dev.next(from);
  for (let t = from + 100; t <= from + ms; t += 100) {
    for (const f of dev.next(t)) {
      out.push(f);
      if (ack && f.type !== 'heartbeat') dev.onGatewayFrame({ type: 'ack', seq: 0, body: { a: f.seq } });
    }
  }
  return out;
}

describe.each(kinds)('simulated %s', (kind) => {
  const desc = DEVICE_CATALOG[kind];
  const make = (rate?: number): SimDevice =>
    answered(new SimDevice({ id: `${kind}-1`, model: kind, fw: '1.0', kind, ...(rate !== undefined ? { ratePerMin: rate } : {}) }, seededRandom(99)));

  it('at first boot samples nothing until the gateway answers its hello with consent-state (default deny)', () => {
    const dev = new SimDevice({ id: `${kind}-1`, model: kind, fw: '1.0', kind, ratePerMin: 30 }, seededRandom(99));
    const data = (fs: DeviceFrame[]) => fs.filter((f) => f.type === 'reading' || f.type === 'event');
    expect(data(run(dev, 0, 10 * 60_000))).toEqual([]);
    dev.onGatewayFrame({ type: 'consent-state', seq: 1, body: { cats: {} } });
    expect(data(run(dev, 10 * 60_000, 10 * 60_000)).length).toBeGreaterThan(0);
  });

  it('emits only frames that survive the real codec, on declared channels', () => {
    const dev = make();
    const hello = decodeFrame(dev.hello());
    expect(hello).toMatchObject({ type: 'hello', body: { id: `${kind}-1`, model: kind, ch: desc.channels } });
    const frames = run(dev, 0, HOUR);
    expect(frames.length).toBeGreaterThan(0);
    const declared = new Set(desc.channels.map((c) => c.n));
    for (const f of frames) {
      expect(decodeFrame(encodeFrame(f))).toEqual(f);
      if (f.type === 'reading') for (const r of f.body.readings) expect(declared.has(r.ch)).toBe(true);
      if (f.type === 'event') expect(declared.has(f.body.ch!)).toBe(true);
    }
  });

  it('roughly respects its configured event rate over a simulated hour', () => {
    const rate = 10;
    const events = run(make(rate), 0, HOUR).filter((f) => f.type === 'event').length;
    expect(events).toBeGreaterThan(rate * 60 * 0.8);
    expect(events).toBeLessThan(rate * 60 * 1.2);
  });

  it.each(desc.channels.map((c) => c.c))('stops sampling %s when consent-state withholds it (privacy at the source)', (cat) => {
    const dev = make(30);
    dev.onGatewayFrame({ type: 'consent-state', seq: 1, body: { cats: { [cat]: false } } });
    const frames = run(dev, 0, HOUR);
    const catOf = (ch: number | undefined): string | undefined => desc.channels.find((c) => c.n === ch)?.c;
    for (const f of frames) {
      if (f.type === 'reading') for (const r of f.body.readings) expect(catOf(r.ch)).not.toBe(cat);
      if (f.type === 'event') expect(catOf(f.body.ch)).not.toBe(cat);
    }
    dev.onGatewayFrame({ type: 'consent-state', seq: 2, body: { cats: { [cat]: true } } });
    const after = run(dev, HOUR, HOUR).filter((f) => f.type === 'reading' || f.type === 'event');
    expect(after.length).toBeGreaterThan(0);
  });
});

describe('device behaviour', () => {
  const dev = (): SimDevice => answered(new SimDevice({ id: 's', model: 'kitchen-scale', fw: '1', kind: 'kitchen-scale', ratePerMin: 60 }, seededRandom(1)));

  it('retransmits unacked frames after the timeout, and stops once acked', () => {
    const d = dev();
    const first = run(d, 0, 5_000, false).filter((f) => f.type === 'event');
    expect(first.length).toBeGreaterThan(0);
    const seq = first[0].seq;
    const again = d.next(5_000 + RETRANSMIT_MS).filter((f) => f.seq === seq);
    expect(again).toHaveLength(1);
    d.onGatewayFrame({ type: 'ack', seq: 0, body: { a: seq } });
    expect(d.next(5_000 + 3 * RETRANSMIT_MS).some((f) => f.seq === seq)).toBe(false);
  });

  it('sequence numbers wrap at 16 bits', () => {
    const d = dev();
    d.setSeq(0xfffe);
    const seqs = run(d, 0, 60_000).map((f) => f.seq);
    expect(seqs.slice(0, 3)).toEqual([0xfffe, 0xffff, 0]);
  });

  it('pause stops sampling, resume restarts it, and commands are acked with the command seq', () => {
    const d = dev();
    expect(d.onGatewayFrame({ type: 'command', seq: 41, body: { c: 'pause' } })).toEqual([{ type: 'ack', seq: expect.any(Number), body: { a: 41 } }]);
    expect(run(d, 0, 60_000).filter((f) => f.type === 'event' || f.type === 'reading')).toEqual([]);
    d.onGatewayFrame({ type: 'command', seq: 42, body: { c: 'resume' } });
    expect(run(d, 60_000, 60_000).filter((f) => f.type === 'event').length).toBeGreaterThan(0);
    d.onGatewayFrame({ type: 'command', seq: 43, body: { c: 'notify', text: 'Coffee low' } });
    expect(d.notifications).toEqual([{ c: 'notify', text: 'Coffee low' }]);
  });

  it('a reboot command is acked, then the device starts over as the firmware does: seq after hello, empty queue, silent until consent-state', () => {
    const d = dev();
    run(d, 0, 5_000, false);
    expect(d.unacked().length).toBeGreaterThan(0);
    d.onGatewayFrame({ type: 'command', seq: 44, body: { c: 'pause' } });
    expect(d.onGatewayFrame({ type: 'command', seq: 45, body: { c: 'reboot' } })).toEqual([{ type: 'ack', seq: expect.any(Number), body: { a: 45 } }]);
    expect(d.takeReboot()).toBe(true);
    expect(d.takeReboot()).toBe(false);
    d.reboot();
    expect(d.unacked()).toEqual([]);
    expect(d.isPaused).toBe(false);
    const silent = run(d, 10_000, 60_000);
    expect(silent.map((f) => f.type)).toEqual(['heartbeat', 'heartbeat']); // alive, but sampling nothing
    expect(silent[0].seq).toBe(1); // the hello after the reboot took seq 0
    d.onGatewayFrame({ type: 'consent-state', seq: 1, body: { cats: { usage: true } } });
    expect(run(d, 70_000, 60_000, false).filter((f) => f.type === 'event' || f.type === 'reading').length).toBeGreaterThan(0);
  });

  it('is deterministic for a given seed', () => {
    const a = run(dev(), 0, 120_000);
    const b = run(dev(), 0, 120_000);
    expect(a).toEqual(b);
  });

  it('presence sensors alternate start and end', () => {
    const d = answered(new SimDevice({ id: 'p', model: 'presence', fw: '1', kind: 'presence', ratePerMin: 30 }, seededRandom(3)));
    const names = run(d, 0, HOUR).filter((f) => f.type === 'event').map((f) => (f.type === 'event' ? f.body.e : ''));
    names.forEach((n, i) => expect(n).toBe(i % 2 === 0 ? 'presence_start' : 'presence_end'));
  });
});
