import { progressPrinter } from '../../agent/cli/commands/flash-command';
import type { CliOutput } from '../../agent/cli/output';
import type { FlashEvent } from '../../firmware-bridge/flasher';

function capture(isTTY: boolean): CliOutput & { lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return { isTTY, lines, out: (s) => lines.out.push(s), err: (s) => lines.err.push(s) };
}

const progress = (bytes: number, total = 1000): FlashEvent => ({
  event: 'progress',
  part: 1,
  parts: 1,
  bytes,
  total,
  percent: Math.floor((100 * bytes) / total),
  bytesPerSecond: 500,
  etaS: (total - bytes) / 500,
});
const stage: FlashEvent = {
  event: 'stage',
  stage: 'writing',
  message: 'writing app.bin (1000 bytes) at 0x10000',
};

describe('flash progress output', () => {
  it('on a terminal, redraws one bar line in place (cursor up, clear line) and finishes at 100 %', () => {
    const io = capture(true);
    const print = progressPrinter({}, io);
    print(stage);
    print(progress(0));
    print(progress(1000));
    expect(io.lines.err[0]).toBe('writing: writing app.bin (1000 bytes) at 0x10000');
    expect(io.lines.err[1]).toMatch(/^\[\.{24}\]   0%/);
    expect(io.lines.err[2]).toMatch(
      /^\x1b\[1A\x1b\[2K\[#{24}\] 100%  1000 B \/ 1000 B  500 B\/s  ETA 0\.0 s$/,
    );
    expect(io.lines.out).toEqual([]);
  });

  it('off a terminal, prints plain lines, one per tenth, and no escape codes', () => {
    const io = capture(false);
    const print = progressPrinter({}, io);
    for (let b = 0; b <= 1000; b += 50) print(progress(b));
    expect(io.lines.err).toHaveLength(11);
    expect(io.lines.err.join('\n')).not.toMatch(/\x1b/);
  });

  it('with --json, every stage and progress event is one JSON line on stdout; esptool logs only with --debug', () => {
    const io = capture(true);
    progressPrinter({ json: true }, io)(progress(500));
    progressPrinter({ json: true }, io)({ event: 'log', message: 'Stub running...' });
    progressPrinter({ json: true, debug: true }, io)({ event: 'log', message: 'Stub running...' });
    expect(io.lines.out.map((l) => JSON.parse(l) as { event: string })).toEqual([
      {
        event: 'progress',
        part: 1,
        parts: 1,
        bytes: 500,
        total: 1000,
        percent: 50,
        bytesPerSecond: 500,
        etaS: 1,
      },
      { event: 'log', message: 'Stub running...' },
    ]);
    expect(io.lines.err).toEqual([]);
  });
});
