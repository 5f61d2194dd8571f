/** The C side of the shared vectors, its unit groups and its fuzz loops, run under ASan/UBSan (host_test). */
import { VECTORS, hostTestPerFile, type HostTestRun } from '../support/c-firmware-host';
import { malformedVectors, validVectors } from '../support/protocol-vectors';

const host = hostTestPerFile();

describe('C host tests (shared vectors, units, fuzz under ASan/UBSan)', () => {
  let result: HostTestRun;
  beforeAll(() => {
    result = host.run([VECTORS]);
  }, 120_000);

  it('exits 0 with no failures and no sanitizer report', () => {
    expect(result.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.lines[result.lines.length - 1]).toMatch(/^summary \d+ passed 0 failed$/);
    expect(result.lines).toContain('ok vectors crcCheck');
  });

  it('reports every valid vector as passing: decoded, through the serial reader, and re-encoded when canonical', () => {
    for (const [i, v] of validVectors.entries()) {
      const line = result.lines.find((l) => l.startsWith(`ok valid ${i} [`));
      expect({ vector: v.name, line }).toEqual({ vector: v.name, line: expect.stringContaining(v.name) });
      const flags = /\[([^\]]*)\]/.exec(line!)![1].split(',');
      const deviceWritable = v.expect.type !== 'command' && v.expect.type !== 'consent-state';
      expect({ vector: v.name, flags }).toEqual({
        vector: v.name,
        flags: v.canonical && deviceWritable ? ['decode', 'serial', 'encode'] : ['decode', 'serial'],
      });
    }
    expect(result.lines.filter((l) => /^(ok|FAIL) valid /.test(l))).toHaveLength(validVectors.length);
  });

  it('rejects every malformed vector with the expected error kind', () => {
    for (const [i, v] of malformedVectors.entries()) {
      expect(result.lines).toContain(`ok malformed ${i} [${v.kind}] ${v.name}`);
    }
    expect(result.lines.filter((l) => /^(ok|FAIL) malformed /.test(l))).toHaveLength(malformedVectors.length);
  });

  it('runs every unit and fuzz group', () => {
    const units = result.lines.filter((l) => l.startsWith('ok unit '));
    for (const topic of [
      'crc16',
      'cobs edge cases',
      'worked example',
      'resynchronises',
      'oversize',
      'largest serial frame',
      'cbor reader numbers',
      'cbor bodies',
      'gateway bodies',
      'cbor writer',
      'firmware update',
      'session',
      'fuzz: random serial streams',
      'fuzz: mutated frames',
    ]) {
      expect({ topic, found: units.some((l) => l.includes(topic)) }).toEqual({ topic, found: true });
    }
    // The fuzz loops really ran and produced both outcomes.
    expect(result.lines.find((l) => l.startsWith('info fuzz stream'))).toMatch(
      /2000000 bytes, [1-9]\d* frames, [1-9]\d* rejected/,
    );
  });
});
