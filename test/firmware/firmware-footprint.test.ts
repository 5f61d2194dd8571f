import { callGraph, firmwareFootprintBench, sectionSizes, worstStack } from '../../scripts/bench/firmware-footprint';
import { missingFirmwareTools } from '../support/qemu-board';

describe('firmware footprint: map and call-graph readers', () => {
  it('sums linked input sections per component and kind, in both map line forms', () => {
    const map = [
      'Discarded input sections',
      ' .text.unused   0x00000000       0x40 /o/proto/session.o',
      'Linker script and memory map',
      ' .text          0x80000000       0x5c /o/board/start.o',
      ' .text.edge_session_send',
      '                0x80000060       0x9a /o/proto/session.o',
      ' .rodata.k      0x80001000       0x10 /o/proto/crc16.o',
      ' .sbss.s_x      0x80002000        0x4 /o/app/main.o',
      ' .text.memcpy   0x80003000       0x20 /usr/lib/picolibc/libc.a(libc_string_memcpy.c.o)',
      ' .bss.zero      0x80004000        0x0 /o/proto/reader.o',
    ].join('\n');
    expect(Object.fromEntries(sectionSizes(map))).toEqual({
      'board.text': 0x5c,
      'edge_proto.text': 0x9a,
      'edge_proto.rodata': 0x10,
      'app.bss': 4,
      'libc.text': 0x20,
    });
  });

  const ci = (nodes: Array<[string, number | null]>, edges: Array<[string, string]>): string =>
    [
      ...nodes.map(([t, b]) => (b === null ? `node: { title: "${t}" label: "${t}" shape : ellipse }` : `node: { title: "${t}" label: "${t}\\nf.c:1:1\\n${b} bytes (static)" }`)),
      ...edges.map(([a, b]) => `edge: { sourcename: "${a}" targetname: "${b}" label: "f.c:2:2" }`),
    ].join('\n');

  it.each<[string, number]>([
    ['a', 16 + 48 + 8],
    ['b', 48 + 8],
    ['d', 8],
  ])('deepest stack from %s is %i bytes, across files, through resolved indirect calls', (root, want) => {
    const g = callGraph([
      ci([['a', 16], ['b', null], ['f.c:c', 32]], [['a', 'b'], ['a', 'f.c:c'], ['f.c:c', 'memcpy']]),
      ci([['b', 48], ['d', 8]], [['b', '__indirect_call']]),
    ]);
    const unknown = new Set<string>();
    expect(worstStack(g, root, () => ['d'], unknown)).toBe(want);
  });

  it('refuses recursion and unbounded frames instead of printing a wrong figure', () => {
    const g = callGraph([ci([['a', 8], ['b', 8]], [['a', 'b'], ['b', 'a']])]);
    expect(() => worstStack(g, 'a', () => [], new Set())).toThrow(/recursion: a -> b -> a/);
    expect(() => callGraph(['node: { title: "v" label: "v\\nf.c:1:1\\n16 bytes (dynamic)" }'])).toThrow(/unbounded/);
  });
});

const missing = missingFirmwareTools();
if (missing) process.stderr.write(`firmware footprint: skipped, missing ${missing} (.ci/run installs them)\n`);
(missing ? describe.skip : describe)('firmware footprint of the real build (rv32imc, -Os)', () => {
  it('meets the targets: codec+session <= 12 KiB code, no static RAM of its own, stack <= 1.5 KiB', async () => {
    const rows = Object.fromEntries((await firmwareFootprintBench()).map((r) => [r.name, r.value]));
    expect(rows['firmware.edge_proto.text_plus_rodata']).toBeGreaterThan(2048);
    expect(rows['firmware.edge_proto.text_plus_rodata']).toBeLessThanOrEqual(12 * 1024);
    expect(rows['firmware.edge_proto.data_plus_bss']).toBeLessThanOrEqual(1024);
    expect(rows['firmware.edge_proto.stack_worst']).toBeGreaterThan(64);
    expect(rows['firmware.edge_proto.stack_worst']).toBeLessThanOrEqual(1536);
    expect(rows['firmware.stack_worst']).toBeGreaterThan(rows['firmware.edge_proto.stack_worst']);
  }, 60_000);
});
