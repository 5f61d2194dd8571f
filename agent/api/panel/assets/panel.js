// Household privacy panel: entry point. Signs in with the pairing code, shows the gateway's consent state,
// sends each switch as one change, and follows changes made elsewhere (CLI, device button) over Server-Sent
// Events without a reload.
import * as api from './panel-api.js';
import { renderCampaigns, renderChannels, renderDevices, renderHistory } from './panel-render.js';

const $ = (id) => document.getElementById(id);

function announce(text) {
  // Re-setting the text makes screen readers announce a repeated message too.
  $('announcer').textContent = '';
  setTimeout(() => ($('announcer').textContent = text), 30);
}

function showError(text) {
  const el = $('error');
  el.textContent = text;
  el.hidden = !text;
}

function signedOut() {
  $('panel').hidden = true;
  $('sign-in').hidden = false;
  $('live-state').hidden = true;
  stopLive();
}

let refreshing = null;
let again = false;

/** Re-reads state and history and re-renders, keeping keyboard focus on the control that had it. */
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        again = false;
        const [st, hist] = await Promise.all([api.state(), api.history()]);
        const focused = document.activeElement && document.activeElement.id;
        renderDevices($('devices'), st.devices, handlers);
        renderCampaigns($('campaigns'), st.households, handlers);
        renderChannels($('channels'), st.households, handlers);
        renderHistory($('history'), $('ledger-state'), hist);
        document.body.dataset.ledgerEntries = String(hist.verify.entries);
        if (focused && $(focused) && document.activeElement !== $(focused)) $(focused).focus();
      } while (again);
    } catch (err) {
      if (err.status === 401) signedOut();
      else showError(`Could not load the current state: ${err.message}`);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

const handlers = {
  async toggle(target, next, button, what) {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    showError('');
    try {
      await api.change(target, next);
      // Show the new state at once; the refresh below brings the rest (history, notes) in line.
      button.setAttribute('aria-checked', next ? 'true' : 'false');
      button.querySelector('.state').textContent = next ? 'On' : 'Off';
      announce(`${what}: ${next ? 'switched on' : 'switched off'}.`);
    } catch (err) {
      if (err.status === 401) return signedOut();
      showError(`The change was not made: ${err.message}`);
    } finally {
      button.removeAttribute('aria-busy');
    }
    await refresh();
  },

  async firmwareChoice(device, body, label) {
    showError('');
    try {
      await api.firmwareChoice(device, body);
      announce(`${device}: ${label}.`);
    } catch (err) {
      if (err.status === 401) return signedOut();
      showError(`The change was not made: ${err.message}`);
    }
    await refresh();
  },

  erase(device) {
    const dialog = $('erase-dialog');
    $('erase-device').textContent = device;
    dialog.returnValue = '';
    dialog.onclose = async () => {
      if (dialog.returnValue !== 'erase') {
        $(`erase-${device}`)?.focus();
        return;
      }
      showError('');
      try {
        const r = await api.eraseDevice(device);
        announce(`Collection from ${device} switched off; erased ${r.purged.raw} stored readings and events, ${r.purged.engagement} counted events and ${r.purged.outbox} queued messages.`);
      } catch (err) {
        if (err.status === 401) return signedOut();
        showError(`Nothing was erased: ${err.message}`);
      }
      await refresh();
      $(`erase-${device}`)?.focus();
    };
    dialog.showModal();
  },
};

let source = null;

function startLive() {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('api/events');
  const live = $('live-state');
  live.hidden = false;
  source.onopen = () => {
    live.classList.remove('offline');
    $('live-text').textContent = 'Live: changes made elsewhere appear here';
    refresh();
  };
  source.onerror = () => {
    live.classList.add('offline');
    $('live-text').textContent = 'Reconnecting…';
  };
  const onChange = (e) => {
    const c = JSON.parse(e.data);
    if (e.type === 'consent' && c.source !== 'panel') {
      announce(`${c.granted ? 'Allowed' : 'Withdrawn'} elsewhere (${c.source}): ${c.target} for ${c.subject}.`);
    }
    refresh();
  };
  source.addEventListener('consent', onChange);
  source.addEventListener('device', onChange);
}

function stopLive() {
  if (source) source.close();
  source = null;
}

async function signedIn() {
  $('sign-in').hidden = true;
  $('panel').hidden = false;
  await refresh();
  startLive();
  document.body.dataset.ready = 'true';
}

$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('');
  try {
    await api.signIn($('code').value);
    $('code').value = '';
    await signedIn();
    $('main').focus();
  } catch (err) {
    showError(err.status === 403 ? 'That code is not right. Check it and try again.' : err.message);
    $('code').focus();
  }
});

$('sign-out').addEventListener('click', async () => {
  try {
    await api.signOut();
  } finally {
    signedOut();
    $('code').focus();
  }
});

(async () => {
  try {
    const s = await api.session();
    if (s.signedIn) await signedIn();
    else signedOut();
  } catch (err) {
    showError(`The gateway did not answer: ${err.message}`);
  }
})();
