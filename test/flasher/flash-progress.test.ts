import {
  FlashProgressMeter,
  formatBytes,
  formatProgressLine,
} from '../../firmware-bridge/flasher/flash-progress';

describe('FlashProgressMeter', () => {
  it('scales compressed bytes to image bytes across parts, with rate and ETA from the injected clock', () => {
    let now = 1000;
    const meter = new FlashProgressMeter([4000, 16000], () => now);
    expect(meter.total).toBe(20000);
    expect(meter.update(0, 0, 1000)).toMatchObject({
      part: 1,
      parts: 2,
      bytes: 0,
      percent: 0,
      bytesPerSecond: null,
      etaS: null,
    });
    now = 2000;
    // half of part 1's compressed bytes sent = half of its 4000 image bytes
    expect(meter.update(0, 500, 1000)).toMatchObject({
      bytes: 2000,
      percent: 10,
      bytesPerSecond: 2000,
      etaS: 9,
    });
    now = 3000;
    expect(meter.update(1, 2000, 8000)).toMatchObject({
      part: 2,
      bytes: 8000,
      percent: 40,
      bytesPerSecond: 4000,
      etaS: 3,
    });
    now = 6000;
    expect(meter.update(1, 8000, 8000)).toMatchObject({
      bytes: 20000,
      percent: 100,
      bytesPerSecond: 4000,
      etaS: 0,
    });
  });

  it('never reports more than the part when esptool-js over-reports', () => {
    const meter = new FlashProgressMeter([100], () => 0);
    expect(meter.update(0, 150, 100).bytes).toBe(100);
  });

  it.each<[number, string]>([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [163840, '160.0 KiB'],
    [3 * 1024 * 1024, '3.0 MiB'],
  ])('formatBytes(%d) = %s', (n, s) => expect(formatBytes(n)).toBe(s));

  it('draws a bar with rate and ETA, and names the part when there are several', () => {
    expect(
      formatProgressLine(
        { part: 1, parts: 1, bytes: 51200, total: 102400, percent: 50, bytesPerSecond: 25600, etaS: 2 },
        10,
      ),
    ).toBe('[#####.....]  50%  50.0 KiB / 100.0 KiB  25.0 KiB/s  ETA 2.0 s');
    expect(
      formatProgressLine(
        { part: 2, parts: 3, bytes: 0, total: 100, percent: 0, bytesPerSecond: null, etaS: null },
        4,
      ),
    ).toBe('part 2/3  [....]   0%  0 B / 100 B');
  });
});
