import type { IndexSample } from './outcome-store';

const W = 880;
const H = 420;
const M = { left: 64, right: 190, top: 36, bottom: 48 };
/** colour-blind-safe palette (Okabe–Ito) */
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number): string => (Math.round(n * 10) / 10).toString();

/** "Nice" tick step for a range: 1, 2 or 5 × 10^k, about `count` ticks. */
function step(range: number, count: number): number {
  const raw = range / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/**
 * The engagement index over time as a standalone SVG (support cases): one line per (profile, campaign), a dot per
 * trigger, the campaign thresholds dashed. Pure: samples in, SVG text out.
 */
export function indexChartSvg(
  samples: readonly IndexSample[],
  opts: { title: string; thresholds?: Record<string, number> },
): string {
  const series = new Map<string, IndexSample[]>();
  for (const s of samples) {
    const k = `${s.profile} · ${s.campaign}`;
    const list = series.get(k) ?? [];
    list.push(s);
    series.set(k, list);
  }
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(opts.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(opts.title)}</text>`,
  ];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  if (samples.length === 0) {
    out.push(
      `<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" fill="#666">no index samples in this period</text>`,
      '</svg>',
    );
    return out.join('\n') + '\n';
  }
  const t0 = Math.min(...samples.map((s) => s.at));
  const t1 = Math.max(t0 + 60_000, ...samples.map((s) => s.at));
  const thresholds = Object.entries(opts.thresholds ?? {}).filter(([c]) =>
    samples.some((s) => s.campaign === c),
  );
  const yMaxRaw = Math.max(1, ...samples.map((s) => s.index), ...thresholds.map(([, v]) => v));
  const yStep = step(yMaxRaw, 5);
  const yMax = Math.ceil(yMaxRaw / yStep) * yStep;
  const x = (t: number): number => M.left + ((t - t0) / (t1 - t0)) * pw;
  const y = (v: number): number => M.top + ph - (v / yMax) * ph;

  // axes and grid
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#e5e5e5"/>`,
    );
    out.push(`<text x="${M.left - 6}" y="${num(y(v) + 4)}" text-anchor="end" fill="#444">${num(v)}</text>`);
  }
  const span = t1 - t0;
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + (span * i) / ticks;
    const label =
      span > 2 * 86_400_000
        ? new Date(t).toISOString().slice(0, 10)
        : new Date(t).toISOString().slice(5, 16).replace('T', ' ');
    out.push(
      `<text x="${num(x(t))}" y="${M.top + ph + 18}" text-anchor="middle" fill="#444">${label}</text>`,
    );
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#444"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#444"/>`);
  out.push(
    `<text x="16" y="${M.top + ph / 2}" transform="rotate(-90 16 ${M.top + ph / 2})" text-anchor="middle" fill="#444">engagement index</text>`,
  );
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" fill="#444">time (UTC)</text>`);
  for (const [campaign, v] of thresholds) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#999" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${M.left + pw - 4}" y="${num(y(v) - 4)}" text-anchor="end" fill="#777">threshold ${esc(campaign)} ${num(v)}</text>`,
    );
  }
  // series
  [...series.entries()].forEach(([name, list], i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = list.map((s) => `${num(x(s.at))},${num(y(s.index))}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"><title>${esc(name)}</title></polyline>`,
    );
    for (const s of list.filter((s) => s.trigger)) {
      out.push(
        `<circle cx="${num(x(s.at))}" cy="${num(y(s.index))}" r="4" fill="${colour}"><title>trigger ${esc(name)} ${new Date(s.at).toISOString()} index ${num(s.index)}</title></circle>`,
      );
    }
    const ly = M.top + 8 + i * 18;
    out.push(
      `<line x1="${M.left + pw + 16}" x2="${M.left + pw + 36}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
    );
    out.push(`<text x="${M.left + pw + 42}" y="${ly + 4}">${esc(name)}</text>`);
  });
  out.push(
    `<text x="${M.left + pw + 16}" y="${M.top + 8 + series.size * 18 + 8}" fill="#666">● trigger</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}
