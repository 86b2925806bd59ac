// The node view: ports, DHT/LSD state, rates and limits (GET /status), and every setting of the
// registry as an editable form (GET /settings, PUT /settings/{name}).
import { api } from './api.js';
import { el, rate } from './format.js';

const $ = (id) => document.getElementById(id);
let announce = () => {};

function limit(v) { return v ? rate(v) : 'none'; }

const NAT = {
  none: 'no NAT: reachable directly',
  'endpoint-independent': 'endpoint-independent (hole punching can work)',
  'endpoint-dependent': 'endpoint-dependent (contacts reach you through relays)',
};

// Reach across NATs (daemon only): what contacts see of this node, and relaying for them.
function reach(m) {
  if (!m) return [];
  const nat = m.nat || {};
  const relay = m.relay || {};
  return [
    ['NAT', NAT[nat.type] || 'not known yet (needs channels with two public peers)'],
    ['Public IP', (nat.public_ips || []).join(', ') || 'unknown'],
    ['Advertised to contacts', (m.addresses || []).join(', ') || 'none'],
    ['Relay for contacts', relay.enabled
      ? `on: ${relay.circuits} of ${relay.max_circuits} circuits, ${relay.bytes} bytes relayed`
      : 'off'],
    ['Your relayed channels', relay.relayed_channels || 0],
  ];
}

function scanner(s) {
  if (s.scanner === 'ready') return `ClamAV, ${s.signatures} signatures`;
  if (s.scanner === 'unavailable') return `unavailable: ${s.reason} (every download is held)`;
  return s.scanner || 'unknown';
}

export async function refreshStatus() {
  const s = await api.status();
  const dht = s.dht || {};
  const facts = [
    ['Version', s.version],
    ['Your kith ID', s.user_id],
    ['Node id', s.node_id],
    ['Home', s.home],
    ['BitTorrent port', s.bt_port],
    ['Address in links', (s.peer_hints || []).join(', ') || 'none'],
    ['API / web UI port', s.api_port],
    ['DHT', dht.enabled ? (dht.running ? `running, ${dht.nodes} nodes` : 'starting') : 'off'],
    ['LAN discovery (LSD)', s.lsd ? 'on' : 'off'],
    ['Rates', `↓ ${rate(s.download_rate)}  ↑ ${rate(s.upload_rate)}`],
    ['Rate limits', `↓ ${limit(s.limits.download)}  ↑ ${limit(s.limits.upload)}`],
    ['Transfers', s.transfers],
    ['Virus scanner', scanner(s.safety || {})],
    ['In quarantine', s.quarantined],
    ...reach(s.messaging),
  ];
  $('node-status').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
}

function input(s, id) {
  const shown = s.pending !== undefined ? s.pending : s.value;
  if (s.type === 'bool') return el('input', { type: 'checkbox', id, checked: Boolean(shown) });
  if (s.choices) {
    return el('select', { id }, s.choices.map((c) => el('option', { value: c, selected: c === shown }, c)));
  }
  if (s.type === 'int') return el('input', { type: 'number', id, min: '0', step: '1', value: String(shown) });
  return el('input', { type: 'text', id, value: String(shown), spellcheck: 'false' });
}

function settingRow(s) {
  const id = 'setting-' + s.name.replace(/\W/g, '-');
  const field = input(s, id);
  const note = el('p', { class: 'note', id: `${id}-note`, role: 'status', 'aria-live': 'polite' },
    s.pending !== undefined ? 'Saved; applies at the next start.' : '');
  const error = el('p', { class: 'error', id: `${id}-error`, role: 'alert' });
  field.setAttribute('aria-describedby', `${id}-error ${id}-note`);
  // The node checks every value with the parser that uses it; its message goes next to the field.
  const refused = (message) => {
    note.textContent = '';
    error.textContent = `Not saved: ${message}`;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  };
  const form = el('form', { 'data-name': s.name },
    el('label', { for: id }, s.name), field,
    el('button', { type: 'submit', class: 'secondary', 'aria-label': `Save ${s.name}` }, 'Save'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let value;
    if (s.type === 'bool') value = field.checked;
    else if (s.type === 'int') value = Number(field.value);
    else value = field.value;
    if (s.type === 'int' && field.value.trim() === '') {
      refused('enter a whole number, 0 or more.');
      return;
    }
    try {
      const r = await api.setSetting(s.name, value);
      error.textContent = '';
      field.removeAttribute('aria-invalid');
      note.textContent = r.applied === 'live' ? 'Saved and applied.' : 'Saved; applies at the next start.';
      announce(`${s.name} saved`);
      await refreshStatus();
    } catch (err) {
      refused(err.message);
    }
  });
  field.addEventListener('input', () => {
    error.textContent = '';
    field.removeAttribute('aria-invalid');
  });
  return el('div', { class: 'setting' }, form, error,
    el('p', { class: 'desc' }, `${s.description} (default: ${JSON.stringify(s.default)})`), note);
}

export async function show() {
  const [, settings] = await Promise.all([refreshStatus(), api.settings()]);
  $('settings-list').replaceChildren(...settings.map(settingRow));
}

// Logged out: nothing of the node stays in the page.
export function clear() {
  $('node-status').replaceChildren();
  $('settings-list').replaceChildren();
}

export function init(say) { announce = say; }
