import { indexChartSvg, renderNotify, type IndexSample } from '../../agent/outcomes';

const T0 = Date.UTC(2026, 2, 1);
const H = 3_600_000;

describe('index chart (SVG written by hand)', () => {
  const samples: IndexSample[] = [
    { profile: 'home-a', campaign: 'coffee', at: T0, index: 10, trigger: false },
    { profile: 'home-a', campaign: 'coffee', at: T0 + H, index: 50, trigger: true },
    { profile: 'home-a', campaign: 'coffee', at: T0 + 2 * H, index: 25, trigger: false },
    { profile: 'home-<b>', campaign: 'coffee', at: T0 + H, index: 5, trigger: false },
  ];

  it('one polyline per (profile, campaign), a dot per trigger, the threshold dashed, text escaped', () => {
    const svg = indexChartSvg(samples, { title: 'index & co', thresholds: { coffee: 30, tea: 99 } });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).toContain('threshold coffee 30');
    expect(svg).not.toContain('threshold tea'); // no samples of tea: its threshold is not drawn
    expect(svg).toContain('<title>index &amp; co</title>');
    expect(svg).toContain('home-&lt;b&gt; · coffee');
    expect(svg).not.toContain('home-<b>');
    // y axis runs to a round value above the highest sample (50 → 50 with a step of 10)
    expect(svg).toMatch(/>50<\/text>/);
  });

  it('an empty period says so instead of drawing axes', () => {
    const svg = indexChartSvg([], { title: 't' });
    expect(svg).toContain('no index samples in this period');
    expect(svg).not.toContain('<polyline');
  });
});

describe('notify template', () => {
  it('fills {campaign} and {index} and cuts to the display', () => {
    expect(renderNotify({ text: '{campaign}: {index}', led: 'amber', buzz: false }, 'coffee', 33.64)).toEqual(
      { text: 'coffee: 33.6', led: 'amber', buzz: false },
    );
    const long = renderNotify({ text: `${'x'.repeat(60)}{campaign}` }, 'coffee-reorder', 1);
    expect(long.text).toHaveLength(64);
    expect(long.text!.endsWith('…')).toBe(true);
    expect(renderNotify({ led: 'green' }, 'c', 1)).toEqual({ led: 'green' });
  });
});
