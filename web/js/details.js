// One transfer: summary, magnet link with copy and QR code, file selection, peers.
import { api } from './api.js';
import { el, eta, percent, rate, size } from './format.js';

const $ = (id) => document.getElementById(id);
let current = null; // id shown
let announce = () => {};
let filesDirty = false; // the person changed checkboxes: do not overwrite them on refresh

function summary(t) {
  const facts = [
    ['State', t.state + (t.error ? ` — ${t.error}` : '')],
    ['Progress', t.has_metadata
      ? `${percent(t.progress)} of ${size(t.total_wanted)} (torrent: ${size(t.total_size)})`
      : 'waiting for metadata from peers (the size and the files come with it)'],
    ['Rates', `↓ ${rate(t.download_rate)}  ↑ ${rate(t.upload_rate)}`],
    ['Peers', `${t.peers} (${t.seeds} seeds)`],
    ['ETA', eta(t.eta)],
    ['Kind', t.kind === 'share' ? 'shared by this node' : 'download'],
    ['Saved in', t.save_path],
    ['Id', t.id],
  ];
  return el('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function renderFiles(t) {
  const list = $('files-list');
  const canSelect = t.kind === 'get' && t.has_metadata;
  $('files-apply').hidden = !canSelect;
  if (!t.has_metadata) {
    list.replaceChildren();
    $('files-note').textContent = 'The file list arrives with the metadata from a peer.';
    return;
  }
  if (filesDirty) return;
  list.replaceChildren(...t.files.map((f) => {
    const id = `file-${f.index}`;
    return el('li', {},
      el('input', { type: 'checkbox', id, value: String(f.index), checked: f.wanted, disabled: !canSelect }),
      el('label', { for: id }, f.path),
      el('span', { class: 'size' }, `${percent(f.size ? f.done / f.size : 1)} of ${size(f.size)}`));
  }));
}

function renderPeers(peers) {
  const body = $('peers-table').querySelector('tbody');
  body.replaceChildren(...peers.map((p) => el('tr', {},
    el('td', {}, p.endpoint), el('td', {}, p.client || '?'), el('td', {}, percent(p.progress)),
    el('td', {}, rate(p.download_rate)), el('td', {}, rate(p.upload_rate)),
    el('td', {}, `${p.connection}${p.incoming ? ', in' : ''}`))));
  $('peers-empty').hidden = peers.length > 0;
  $('peers-table').hidden = peers.length === 0;
}

export async function show(id) {
  if (current !== id) {
    current = id;
    filesDirty = false;
    $('files-note').textContent = '';
    $('details-qr').src = api.qrUrl(id);
  }
  return refresh();
}

export async function refresh() {
  if (!current) return;
  const id = current;
  try {
    const [t, peers] = await Promise.all([api.transfer(id), api.peers(id)]);
    if (id !== current) return;
    $('details-title').textContent = t.name;
    $('details-summary').replaceChildren(summary(t));
    if ($('details-magnet').value !== t.magnet) $('details-magnet').value = t.magnet;
    renderFiles(t);
    renderPeers(peers);
  } catch (e) {
    $('details-summary').replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
  }
}

export function hide() { current = null; }

// Logged out: nothing of the node stays in the page.
export function clear() {
  current = null;
  filesDirty = false;
  $('details-title').textContent = 'Transfer';
  $('details-summary').replaceChildren();
  $('details-magnet').value = '';
  $('details-qr').removeAttribute('src');
  $('files-list').replaceChildren();
  $('files-note').textContent = '';
  $('peers-table').querySelector('tbody').replaceChildren();
}

async function copyMagnet() {
  const text = $('details-magnet').value;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard permission (or outside a secure context) fall back to selecting the text.
    $('details-magnet').select();
    document.execCommand('copy');
  }
  announce('Link copied');
}

async function applyFiles(event) {
  event.preventDefault();
  const wanted = [...$('files-list').querySelectorAll('input[type=checkbox]:checked')].map((c) => Number(c.value));
  try {
    await api.selectFiles(current, wanted);
    filesDirty = false;
    $('files-note').textContent = `Selection applied: ${wanted.length} file${wanted.length === 1 ? '' : 's'}.`;
    await refresh();
  } catch (e) {
    $('files-note').textContent = `Not applied: ${e.message}`;
  }
}

export function init(say) {
  announce = say;
  $('copy-magnet').addEventListener('click', copyMagnet);
  $('files-form').addEventListener('submit', applyFiles);
  $('files-list').addEventListener('change', () => { filesDirty = true; });
}
