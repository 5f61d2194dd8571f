import * as path from 'node:path';
import { ConsentRules } from '../../agent/consent/consent-rules';
import { LoginThrottle } from '../../agent/api/panel/login-throttle';
import { loadPanelAssets, panelAssetsDir } from '../../agent/api/panel/panel-assets';
import { PanelSessions, cookieValue, csrfMatches } from '../../agent/api/panel/panel-sessions';
import { panelState, type PanelDeviceFacts } from '../../agent/api/panel/panel-view';
import { formatPairingCode, pairingCodeMatches } from '../../agent/api/panel/pairing-code';
import { HostAllowList, checkMutationOrigin, hostName } from '../../agent/api/panel/request-guard';
import { campaignWords } from '../../agent/api/panel/plain-language';
import { householdConfig } from './panel-harness';

const REPO = path.resolve(__dirname, '..', '..');

describe('panel parts', () => {
  it('finds its page files from the TypeScript sources and from the compiled dist/ tree', () => {
    const sources = path.join(REPO, 'agent', 'api', 'panel');
    expect(panelAssetsDir(sources)).toBe(path.join(sources, 'assets'));
    expect(panelAssetsDir(path.join(REPO, 'dist', 'agent', 'api', 'panel'))).toBe(path.join(sources, 'assets'));
    expect(() => panelAssetsDir('/')).toThrow(/household panel files not found/);
    expect([...loadPanelAssets().keys()].sort()).toEqual(['index.html', 'panel-api.js', 'panel-render.js', 'panel.css', 'panel.js']);
  });

  it('throttles sign-in attempts per address and in total, counting each when it is taken, and forgets them after the window', () => {
    let now = 1_000_000;
    const th = new LoginThrottle(() => now, { perAddress: 3, total: 5, windowMs: 60_000 });
    const wait = (a: string): number => {
      const t = th.take(a);
      return t.granted ? 0 : t.retryAfterMs;
    };
    for (let i = 0; i < 3; i++) expect(wait('10.0.0.2')).toBe(0);
    expect(wait('10.0.0.2')).toBe(60_000); // a refused attempt is not counted
    expect(wait('10.0.0.3')).toBe(0); // another address is not blocked by one guesser…
    const right = th.take('10.0.0.6');
    expect(right.granted).toBe(true);
    if (right.granted) right.giveBack(); // the right code gives its attempt back
    expect(wait('10.0.0.4')).toBe(0);
    expect(wait('10.0.0.5')).toBe(60_000); // …until all of them together reach the total
    now += 30_000;
    expect(wait('10.0.0.2')).toBe(30_000);
    now += 30_000;
    expect(wait('10.0.0.2')).toBe(0);
  });

  it('sessions expire, are found only by the exact cookie, and carry their own CSRF token', () => {
    let now = 0;
    const s = new PanelSessions(() => now, 1000, 2);
    const a = s.create();
    expect(s.fromCookie(`x=1; edge_panel=${a.id}`)).toBe(a.session);
    expect(s.fromCookie(`edge_panel=${a.id}x`)).toBeUndefined();
    expect(csrfMatches(a.session, a.session.csrf)).toBe(true);
    expect(csrfMatches(a.session, a.session.csrf.slice(1))).toBe(false);
    expect(csrfMatches(a.session, undefined)).toBe(false);
    s.create();
    s.create(); // beyond the maximum the oldest is dropped
    expect(s.fromCookie(`edge_panel=${a.id}`)).toBeUndefined();
    const b = s.create();
    now = 1000;
    expect(s.fromCookie(`edge_panel=${b.id}`)).toBeUndefined();
    expect(cookieValue('a=1;  b = 2 ', 'b')).toBe('2');
  });

  it('answers only to names a household can use (DNS-rebinding guard) and only to its own Origin', () => {
    const hosts = new HostAllowList(['gateway.home'], 'raspberrypi');
    for (const h of ['127.0.0.1:8787', '[::1]:8787', '192.168.1.20:8788', 'localhost:8787', 'raspberrypi.local:8788', 'GATEWAY.home']) expect([h, hosts.allows(h)]).toEqual([h, true]);
    for (const h of ['evil.example:8787', '127.0.0.1.evil.example', '', undefined]) expect([h, hosts.allows(h)]).toEqual([h, false]);
    expect(hostName('[fe80::1]:80')).toBe('fe80::1');
    expect(checkMutationOrigin({ host: 'gw:1', origin: 'http://gw:1' })).toEqual({ ok: true });
    expect(checkMutationOrigin({ host: 'gw:1', origin: 'http://gw:2' }).ok).toBe(false);
    expect(checkMutationOrigin({ host: 'gw:1', origin: 'null' }).ok).toBe(false);
    expect(checkMutationOrigin({ host: 'gw:1', origin: 'http://gw:1', 'sec-fetch-site': 'same-site' }).ok).toBe(false);
  });

  it('pairing codes are shown with a dash and accepted as typed', () => {
    expect(formatPairingCode('12345678')).toBe('1234-5678');
    expect(pairingCodeMatches('12345678', ' 1234 - 5678')).toBe(true);
    expect(pairingCodeMatches('12345678', '1234567')).toBe(false);
  });

  it('the state marks special categories and never shows them allowed by a wildcard grant', () => {
    const cfg = householdConfig('/tmp/unused');
    const rules = new ConsentRules();
    rules.apply({ scope: 'device', subject: 'wearable-1', target: '*', granted: true, source: 'cli', policyVersion: 1, at: 1 });
    const facts = new Map<string, PanelDeviceFacts>([
      ['wearable-1', { id: 'wearable-1', model: 'wearable', connected: true, lastSeen: 5, categories: ['health', 'usage'], eventCategories: ['usage'] }],
    ]);
    const st = panelState(cfg, rules, facts);
    const wearable = st.devices.find((d) => d.id === 'wearable-1')!;
    expect(wearable.wildcardGranted).toBe(true);
    expect(wearable.categories.map((c) => [c.category, c.special, c.allowed])).toEqual([
      ['usage', false, true],
      ['health', true, false],
    ]);
    // A device that has not said hello yet: every category is offered, all off.
    const scale = st.devices.find((d) => d.id === 'scale-1')!;
    expect(scale.introduced).toBe(false);
    expect(scale.categories.map((c) => c.category)).toEqual(['environment', 'presence', 'usage', 'location', 'health', 'biometric']);
    expect(scale.categories.every((c) => !c.allowed)).toBe(true);
    const coffee = st.households[0]!.campaigns[0]!;
    expect(coffee.uses).toEqual([{ category: 'usage', label: 'Usage', special: false }]);
    expect(st.households[0]!.channels.find((c) => c.channel === 'push')!.allowed).toBe(false);
  });

  it('describes a campaign in plain words', () => {
    expect(campaignWords({ event: 'door_open', devices: ['fridge-1'], threshold: 150, cooldownMs: 300_000, channels: ['push', 'email'] })).toBe(
      'Counts each time the fridge door is opened on fridge-1, on this gateway only. When those counts show enough interest ' +
        '(engagement index above 150), the brand may send you an offer by app notifications or email — only through the ' +
        'channels you allow below. At most once every 5 minutes. The brand receives the score, never the readings themselves.',
    );
  });
});
