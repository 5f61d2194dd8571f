import { AckedFrames, frameHash } from '../../drivers/ble/acked-frames';

const ack = (seq: number) => ({ type: 'ack' as const, seq: 0, body: { a: seq } });

describe('AckedFrames: what a BLE retransmission after a reconnect gets', () => {
  let now: number;
  let frames: AckedFrames;
  const h = frameHash(Uint8Array.from([1, 2, 3]));
  const other = frameHash(Uint8Array.from([1, 2, 4]));

  beforeEach(() => {
    now = 1_000;
    frames = new AckedFrames(4096, () => now);
  });

  it('a frame still committing: the copy is dropped (its ack follows the commit)', () => {
    frames.forwarded(7, h);
    now += 1_200; // the link dropped and came back while the group commit waited
    expect(frames.stillCommitting(7, h)).toBe(true);
    expect(frames.suppressed).toBe(1);
  });

  it('same seq, other bytes (a rebooted device): not a copy', () => {
    frames.forwarded(7, h);
    expect(frames.stillCommitting(7, other)).toBe(false);
  });

  it('no ack for longer than any commit takes: forwarded again, so a lost ack cannot wedge the frame', () => {
    frames.forwarded(7, h);
    now += 15_001;
    expect(frames.stillCommitting(7, h)).toBe(false);
  });

  it('once acked, a copy gets the same ack again and is no longer committing', () => {
    frames.forwarded(7, h);
    frames.ackSent(ack(7));
    expect(frames.stillCommitting(7, h)).toBe(false);
    expect(frames.repeatAck(7, h)).toEqual(ack(7));
    expect(frames.repeatAck(7, other)).toBeNull();
  });

  it('a hello (the device booted) forgets both', () => {
    frames.forwarded(7, h);
    frames.forwarded(8, h);
    frames.ackSent(ack(8));
    frames.clear();
    expect(frames.stillCommitting(7, h)).toBe(false);
    expect(frames.repeatAck(8, h)).toBeNull();
  });
});
