// Browser-side accessibility audit of the panel, evaluated in the page by test/panel/panel-browser.test.ts: an
// explicit subset of axe-core's rules (names, roles and states, labels, headings, lang, viewport, contrast).
// The value of this expression is { violations, checked }; no violations = pass.
(() => {
  const violations = [];
  const text = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim();
  const visible = (el) => {
    const cs = getComputedStyle(el);
    return el.getClientRects().length > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const where = (el) => el.id || `${el.tagName.toLowerCase()}.${el.className || ''}`;

  // Accessible name, the parts of the accname algorithm the panel's controls can use.
  function accessibleName(el) {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const n = by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map(text).join(' ').trim();
      if (n) return n;
    }
    const aria = (el.getAttribute('aria-label') || '').trim();
    if (aria) return aria;
    if (el.id) {
      const l = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (l && text(l)) return text(l);
    }
    const wrap = el.closest('label');
    if (wrap && text(wrap)) return text(wrap);
    if (['BUTTON', 'A', 'SUMMARY'].includes(el.tagName) && text(el)) return text(el);
    return (el.getAttribute('title') || '').trim();
  }

  if (!document.documentElement.lang) violations.push({ rule: 'html-has-lang' });
  const vp = document.querySelector('meta[name="viewport"]');
  if (!vp || !/width=device-width/.test(vp.getAttribute('content') || '')) violations.push({ rule: 'meta-viewport' });
  if (!document.title.trim()) violations.push({ rule: 'document-title' });

  const ids = new Map();
  for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) violations.push({ rule: 'duplicate-id', id });
  for (const el of document.querySelectorAll('[aria-labelledby],[aria-describedby]')) {
    for (const attr of ['aria-labelledby', 'aria-describedby']) {
      for (const id of (el.getAttribute(attr) || '').split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) violations.push({ rule: `${attr}-target`, element: where(el), id });
      }
    }
  }
  for (const l of document.querySelectorAll('label[for]')) {
    if (!document.getElementById(l.htmlFor)) violations.push({ rule: 'label-target', for: l.htmlFor });
  }

  const switches = [...document.querySelectorAll('[role="switch"]')];
  const names = [];
  for (const s of switches) {
    const name = accessibleName(s);
    names.push(name);
    if (!name) violations.push({ rule: 'switch-has-name', element: where(s) });
    const checked = s.getAttribute('aria-checked');
    if (checked !== 'true' && checked !== 'false') violations.push({ rule: 'switch-aria-checked', element: where(s), checked });
    // Keyboard operable: a native button (Space/Enter built in), or at least focusable.
    if (s.tagName !== 'BUTTON' && s.tabIndex < 0) violations.push({ rule: 'switch-focusable', element: where(s) });
  }

  const controls = [...document.querySelectorAll('button, a[href], input, select, textarea, [role="switch"]')].filter(visible);
  for (const c of controls) if (!accessibleName(c)) violations.push({ rule: 'control-has-name', element: where(c) });

  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(visible);
  if (headings.filter((h) => h.tagName === 'H1').length !== 1) violations.push({ rule: 'page-has-one-h1' });
  let level = 0;
  for (const h of headings) {
    const l = Number(h.tagName[1]);
    if (l > level + 1) violations.push({ rule: 'heading-order', heading: text(h), from: level, to: l });
    level = l;
  }

  // Contrast of every visible element that holds text of its own, against the background it is drawn on.
  const rgba = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const luminance = ([r, g, b]) => {
    const f = (c) => {
      const v = c / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  let textElements = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || el.closest('[aria-hidden="true"]') && !el.closest('[role="switch"]')) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    textElements++;
    const cs = getComputedStyle(el);
    const fg = rgba(cs.color);
    const bg = background(el);
    const L1 = luminance(fg);
    const L2 = luminance(bg);
    const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) violations.push({ rule: 'color-contrast', element: where(el), text: text(el).slice(0, 40), ratio: Number(ratio.toFixed(2)) });
  }
  return { violations, checked: { switches: switches.length, names, controls: controls.length, headings: headings.length, textElements } };
})();
