// Builds the panel's DOM from the gateway's state. Text always goes in through textContent (never innerHTML),
// so nothing a device or the config says can inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const slug = (...parts) => parts.join('-').replace(/[^A-Za-z0-9_-]/g, '_');

const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : null);

const MODEL_WORDS = {
  'kitchen-scale': 'Kitchen scale',
  'fridge-door': 'Fridge door sensor',
  presence: 'Presence sensor',
  wearable: 'Wearable',
};

/**
 * One consent switch: a visible <label> naming it, a <button role="switch"> with aria-checked, and the
 * plain-language explanation linked by aria-describedby. `onToggle(next)` is called with the wanted state.
 */
export function consentSwitch({ id, label, extra, explanation, allowed, decidedAt, onToggle }) {
  const swId = `sw-${id}`;
  const labelId = `lbl-${id}`;
  const descId = `desc-${id}`;
  const button = h(
    'button',
    {
      type: 'button',
      role: 'switch',
      class: 'switch',
      id: swId,
      'aria-checked': allowed ? 'true' : 'false',
      'aria-labelledby': labelId,
      'aria-describedby': descId,
      onclick: () => onToggle(button.getAttribute('aria-checked') !== 'true', button),
    },
    h('span', { class: 'track', 'aria-hidden': 'true' }, h('span', { class: 'thumb' })),
    h('span', { class: 'state', 'aria-hidden': 'true', text: allowed ? 'On' : 'Off' }),
  );
  const decided = when(decidedAt);
  return h(
    'li',
    {},
    h('div', {}, h('label', { id: labelId, for: swId }, label), extra ?? null),
    button,
    h('p', { class: 'explain', id: descId }, explanation, decided ? ` Last changed ${decided}.` : ' Never switched on.'),
  );
}

/** A firmware update of the device, in plain words, with the household's say: not now, never, or allow again. */
function updateSection(d, handlers) {
  const u = d.update;
  if (!u) return null;
  const name = `${u.package.title} ${u.package.version}`;
  const waiting = u.state === 'PENDING';
  const words = {
    PENDING: u.deferredUntil
      ? `A software update (${name}) is waiting. You put it off until ${when(u.deferredUntil)}.`
      : `A software update (${name}) is waiting. The gateway installs it when the device is not in use; it restarts once.`,
    UPDATING: `Installing the software update ${name} (${u.progress} %). The device restarts when it is done.`,
    UPDATED: `Software update ${name} installed.`,
    SKIPPED: `You chose not to update this device: ${name} is not installed on it.`,
    FAILED: `The software update ${name} did not work on this device; it runs its previous software again.`,
  }[u.state];
  const button = (kind, label, body) =>
    h('button', { type: 'button', class: 'update-choice', id: slug('update', kind, d.id), onclick: () => handlers.firmwareChoice(d.id, body, label) }, label);
  const buttons = [
    waiting && !u.deferredUntil ? button('defer', 'Not now (1 day)', { choice: 'defer', hours: 24 }) : null,
    waiting ? button('never', 'Do not update this device', { choice: 'never' }) : null,
    u.doNotUpdate || u.deferredUntil ? button('clear', 'Allow updates again', { choice: 'clear' }) : null,
  ].filter(Boolean);
  return h(
    'section',
    { class: `update state-${u.state.toLowerCase()}`, id: slug('update', d.id), 'aria-label': `Software update for ${d.id}` },
    h('p', { text: words }),
    buttons.length ? h('div', { class: 'update-actions' }, buttons) : null,
  );
}

export function renderDevices(container, devices, handlers) {
  const cards = devices.map((d) => {
    const title = `${MODEL_WORDS[d.model] ?? d.model ?? 'Device'} “${d.id}”`;
    const items = d.categories.map((c) =>
      consentSwitch({
        id: slug('device', d.id, c.category),
        label: `${c.label} data`,
        extra: c.special ? h('span', { class: 'badge special', text: 'Special category' }) : null,
        explanation: c.explanation,
        allowed: c.allowed,
        decidedAt: c.decidedAt,
        onToggle: (next, button) => handlers.toggle({ device: d.id, category: c.category }, next, button, `${c.label} data from ${d.id}`),
      }),
    );
    return h(
      'article',
      { class: 'card device', id: slug('device', d.id), 'aria-labelledby': slug('device-title', d.id) },
      h('h3', { id: slug('device-title', d.id), text: title }),
      h(
        'p',
        { class: 'meta' },
        h('span', { class: d.connected ? 'badge up' : 'badge down', text: d.connected ? 'Connected' : 'Not connected' }),
        d.profile ? ` Household ${d.profile}.` : '',
        d.lastSeen ? ` Last heard from ${when(d.lastSeen)}.` : '',
      ),
      d.introduced ? null : h('p', { class: 'note', text: 'This device has not said yet what it measures; every kind of data is listed.' }),
      d.wildcardGranted
        ? h('p', { class: 'note', text: 'Your installer allowed every ordinary kind of data for this device. Switching one off here overrides that for it. Special categories always need their own switch.' })
        : null,
      updateSection(d, handlers),
      h('ul', { class: 'consents', 'aria-label': `What ${d.id} may collect` }, items),
      h('button', { type: 'button', class: 'erase', id: slug('erase', d.id), onclick: () => handlers.erase(d.id) }, `Erase my data from ${d.id}…`),
    );
  });
  container.replaceChildren(h('div', { class: 'grid' }, cards));
}

export function renderCampaigns(container, households, handlers) {
  container.replaceChildren(
    ...households.map((hh) =>
      h(
        'section',
        { class: 'household', 'aria-labelledby': slug('campaigns-of', hh.profile) },
        h('h3', { id: slug('campaigns-of', hh.profile), text: `Household “${hh.profile}”` }),
        hh.campaigns.length === 0
          ? h('p', { text: 'No offers are set up on this gateway.' })
          : h(
              'ul',
              { class: 'consents card' },
              hh.campaigns.map((c) => {
                const uses = c.uses.length > 0 ? c.uses.map((u) => `${u.label}${u.special ? ' (special category)' : ''}`).join(', ') : 'events';
                return consentSwitch({
                  id: slug('campaign', hh.profile, c.id),
                  label: `Offer “${c.id}”`,
                  extra: h('p', { class: 'uses' }, `Uses: ${uses} data from ${c.devices.length > 0 ? c.devices.join(', ') : 'no device of this household'}.`),
                  explanation: c.description,
                  allowed: c.allowed,
                  decidedAt: c.decidedAt,
                  onToggle: (next, button) => handlers.toggle({ profile: hh.profile, campaign: c.id }, next, button, `offer ${c.id} for ${hh.profile}`),
                });
              }),
            ),
      ),
    ),
  );
}

export function renderChannels(container, households, handlers) {
  container.replaceChildren(
    ...households.map((hh) =>
      h(
        'section',
        { class: 'household', 'aria-labelledby': slug('channels-of', hh.profile) },
        h('h3', { id: slug('channels-of', hh.profile), text: `Household “${hh.profile}”` }),
        h(
          'ul',
          { class: 'consents card' },
          hh.channels.map((ch) =>
            consentSwitch({
              id: slug('channel', hh.profile, ch.channel),
              label: ch.label,
              explanation: ch.explanation,
              allowed: ch.allowed,
              decidedAt: ch.decidedAt,
              onToggle: (next, button) => handlers.toggle({ profile: hh.profile, channel: ch.channel }, next, button, `${ch.label.toLowerCase()} for ${hh.profile}`),
            }),
          ),
        ),
      ),
    ),
  );
}

const METHOD_WORDS = { cli: 'by the installer (command line)', panel: 'in this panel', device: 'with the device’s button', upstream: 'by the brand’s platform' };

export function renderHistory(list, ledgerState, doc) {
  ledgerState.className = `ledger-state ${doc.verify.ok ? 'ok' : 'broken'}`;
  ledgerState.textContent = doc.verify.ok
    ? `Record intact: ${doc.verify.entries} ${doc.verify.entries === 1 ? 'entry' : 'entries'}, each sealed to the one before.`
    : `Warning: the record was altered at entry ${doc.verify.brokenAt} (${doc.verify.reason}).`;
  list.replaceChildren(
    ...doc.receipts.map((r) => {
      const erased =
        r.state === 'withdrawn' && r.erased.queuedSignals + r.erased.engagementEvents + r.erased.rawRows > 0
          ? ` Erased ${r.erased.rawRows} stored readings/events, ${r.erased.engagementEvents} counted events, ${r.erased.queuedSignals} queued messages.`
          : '';
      return h(
        'li',
        { id: `receipt-${r.sequence}`, value: String(r.sequence) },
        h('span', { class: `state-${r.state}`, text: r.state === 'granted' ? 'Allowed' : 'Withdrawn' }),
        ` — ${r.purpose}${r.sensitive ? ' (special category)' : ''}. `,
        h('span', { class: 'meta', text: `${when(r.consentTimestamp)}, ${METHOD_WORDS[r.collectionMethod] ?? r.collectionMethod}.${erased} ` }),
        h('a', { href: `api/receipts/${r.sequence}.json`, download: true, class: 'receipt' }, `Receipt #${r.sequence} (JSON)`),
      );
    }),
  );
}
