import {
  appPlacementProblems,
  inspectPartitionTable,
} from '../../firmware-bridge/flasher/partition-table-inspector';
import { buildPartitionTable } from '../support/esp-rom-sim';

describe('PartitionTableInspector', () => {
  const table = buildPartitionTable();

  it('reads the entries of an ESP-IDF table and verifies its MD5 entry', () => {
    const r = inspectPartitionTable(table);
    expect(r.problems).toEqual([]);
    expect(r.md5Ok).toBe(true);
    expect(r.partitions).toEqual([
      { type: 1, subtype: 0x02, offset: 0x9000, size: 0x6000, label: 'nvs' },
      { type: 1, subtype: 0x01, offset: 0xf000, size: 0x1000, label: 'phy_init' },
      { type: 0, subtype: 0x00, offset: 0x10000, size: 0x100000, label: 'factory' },
    ]);
  });

  it('accepts a table without MD5 entry', () => {
    const noMd5 = Buffer.concat([table.subarray(0, 96), Buffer.alloc(0xc00 - 96, 0xff)]);
    expect(inspectPartitionTable(noMd5)).toMatchObject({ md5Ok: null, problems: [] });
  });

  const edited = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(table);
    f(b);
    return b;
  };
  it.each<[string, Buffer, string, RegExp]>([
    [
      'an app image instead of a table',
      Buffer.from([0xe9, 3, 2, 0x20, ...Buffer.alloc(60)]),
      'partition-table',
      /not an ESP-IDF partition table/,
    ],
    [
      'a file shorter than one entry',
      Buffer.from([0xaa, 0x50]),
      'partition-table',
      /not an ESP-IDF partition table/,
    ],
    [
      'an edited partition size',
      edited((b) => b.writeUInt32LE(0x200000, 64 + 8)),
      'partition-md5',
      /MD5 does not match its entries/,
    ],
    [
      'a garbled second entry',
      edited((b) => b.writeUInt16LE(0x1234, 32)),
      'partition-table',
      /entry 2 is corrupted \(magic 0x1234\)/,
    ],
  ])('flags %s', (_name, bytes, code, message) => {
    const r = inspectPartitionTable(bytes);
    expect(r.problems.map((p) => p.code)).toEqual([code]);
    expect(r.problems[0].message).toMatch(message);
  });

  it.each<[string, number, number, RegExp | null]>([
    ['app at the factory partition', 0x10000, 200_000, null],
    [
      'app where no app partition starts',
      0x20000,
      200_000,
      /goes to 0x20000, but the partition table has no app partition there \(factory at 0x10000\)/,
    ],
    [
      'app larger than its partition',
      0x10000,
      0x100001,
      /app \(1048577 bytes\) is larger than its partition factory \(1048576 bytes\)/,
    ],
  ])('%s', (_name, address, length, message) => {
    const problems = appPlacementProblems(inspectPartitionTable(table).partitions, address, length);
    if (message === null) expect(problems).toEqual([]);
    else
      expect(problems[0]).toMatchObject({
        code: 'app-placement',
        message: expect.stringMatching(message) as unknown as string,
      });
  });
});
