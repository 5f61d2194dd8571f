import { scriptedDecoder } from '../../agent/drivers';
import { ScriptHost, checkDecoded } from '../../agent/sandbox';

/*
 * Decoder results are taken as ThingsBoard's JsonConverter takes them (the cases are ours, written from the
 * converter contract: a value may be a number, string, boolean, object or array; null is skipped; a string that
 * reads as a number is that number; `ts` may be a string of digits).
 */
describe('decoder results accepted as ThingsBoard accepts them', () => {
  it.each<[string, unknown, unknown]>([
    ['JSON object and array values kept', { telemetry: { gps: { lat: 52.1, lon: 4.3 }, cells: [1, 2] } }, [{ values: { gps: { lat: 52.1, lon: 4.3 }, cells: [1, 2] } }]],
    ['null values skipped', { telemetry: { t: 21.5, rssi: null } }, [{ values: { t: 21.5 } }]],
    ['numeric-string ts', { telemetry: { ts: '1700000000000', values: { t: 1 } } }, [{ ts: 1700000000000, values: { t: 1 } }]],
    ['fractional ts truncated', { telemetry: [{ ts: 1700000000000.7, values: { t: 1 } }] }, [{ ts: 1700000000000, values: { t: 1 } }]],
    ['ISO-8601 ts', { telemetry: [{ ts: '2024-11-10T12:51:50+00:00', values: { t: 1 } }] }, [{ ts: 1731243110000, values: { t: 1 } }]],
    ['numeric strings become numbers', { telemetry: { a: '21.5', b: '-3', c: '.5', d: '007' } }, [{ values: { a: 21.5, b: -3, c: 0.5, d: 7 } }]],
    ['other strings stay text', { telemetry: { a: '1e3', b: '5.', c: '+1', d: '12345678901234567890', e: 'on' } }, [{ values: { a: '1e3', b: '5.', c: '+1', d: '12345678901234567890', e: 'on' } }]],
    ['values without ts: the whole object is values', { telemetry: { values: { t: 1 } } }, [{ values: { values: { t: 1 } } }]],
    ['ts without values: ts is just a key', { telemetry: { ts: 5, t: 1 } }, [{ values: { ts: 5, t: 1 } }]],
  ])('%s', (_what, result, telemetry) => {
    const r = checkDecoded(result);
    expect(r).toEqual({ ok: true, value: [expect.objectContaining({ telemetry })] });
  });

  it('attributes follow the same value rules', () => {
    expect(checkDecoded({ attributes: { fw: '1.2.3', rev: '7', cfg: { a: 1 }, gone: null } })).toEqual({
      ok: true,
      value: [{ telemetry: [], attributes: { fw: '1.2.3', rev: 7, cfg: { a: 1 } }, events: [] }],
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['ts that is not a time', { telemetry: { ts: 'soon', values: { t: 1 } } }, /telemetry\.ts must be ms since epoch/],
    ['null ts', { telemetry: { ts: null, values: { t: 1 } } }, /telemetry\.ts must be/],
    ['values not an object', { telemetry: { ts: 1, values: [1] } }, /telemetry\.values must be an object/],
    ['telemetry a number', { telemetry: 5 }, /result\.telemetry must be an object/],
    ['attributes an array', { attributes: [1] }, /result\.attributes must be an object/],
  ])('refuses %s', (_what, result, message) => {
    const r = checkDecoded(result);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('such messages do not count toward the 3-failures breaker, and reach a BLE driver as numbers', async () => {
    const host = new ScriptHost();
    try {
      const source = `var d = decodeToJson(payload);
return { telemetry: { ts: String(d.at), values: { temperature: String(d.t), pos: { x: d.x }, missing: null } }, attributes: { raw: btoa(decodeToString(payload)) } };`;
      expect(await host.add({ id: 'dec', kind: 'decoder', source })).toBeNull();
      const decode = scriptedDecoder(host);
      for (let i = 0; i < 5; i++) {
        const r = decode('dec', Buffer.from(JSON.stringify({ at: 1700000000000 + i, t: 20.5 + i, x: i })), {});
        expect(r).toEqual({ ok: true, value: { values: { temperature: 20.5 + i }, events: [] } });
      }
      expect(host.status().find((s) => s.id === 'dec')).toMatchObject({ state: 'ok', failures: 0, failuresInARow: 0, calls: 5 });
      expect(host.run('dec', [[...Buffer.from('{"at":1,"t":2,"x":3}')], {}], checkDecoded)).toMatchObject({
        ok: true,
        value: [{ attributes: { raw: Buffer.from('{"at":1,"t":2,"x":3}').toString('base64') } }],
      });
    } finally {
      host.stop();
    }
  });

  it('atob decodes what btoa encodes, and refuses what is not base64', async () => {
    const host = new ScriptHost();
    try {
      await host.add({ id: 'b64', kind: 'rule', source: 'return [atob("aGk="), atob(btoa("\\u00ff\\u0000x")) === "\\u00ff\\u0000x", atob(" aGk "), btoa("hi!")];' });
      expect(host.run('b64', [{}, {}, 'X'], (v) => ({ ok: true, value: v }))).toEqual({ ok: true, value: ['hi', true, 'hi', 'aGkh'] });
      await host.add({ id: 'bad', kind: 'rule', source: 'return atob("a*b=");' });
      expect(host.run('bad', [{}, {}, 'X'], (v) => ({ ok: true, value: v }))).toMatchObject({ ok: false, error: { kind: 'runtime' } });
    } finally {
      host.stop();
    }
  });
});
