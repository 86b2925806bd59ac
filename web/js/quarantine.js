// The quarantine view: downloads the safety check held back (docs/safety.md), with why, from where,
// and the user's two choices: release anyway, or delete. GET /quarantine, POST …/release, DELETE.
import { api } from './api.js';
import { el } from './format.js';

const $ = (id) => document.getElementById(id);
let announce = () => {};

const OUTCOMES = {
  infected: 'Infected',
  incomplete: 'Not fully scanned',
  no_database: 'Not scanned (no signature database)',
  held_runnable: 'Can run code (held by setting)',
};

function when(unix) { return unix ? new Date(unix * 1000).toLocaleString() : ''; }

function findingText(f) {
  const parts = [];
  if ((f.detections || []).length) parts.push(f.detections.join(', '));
  if (f.problem) parts.push(f.problem);
  if (f.runnable) parts.push(`runs code: ${f.runnable}`);
  return `${f.path}: ${parts.join('; ')}`;
}

async function act(item, action) {
  const question = action === 'release'
    ? `Release "${item.name}" into ${item.destination} although the safety check held it back?`
    : `Delete "${item.name}" and its data?`;
  if (!window.confirm(question)) return;
  try {
    if (action === 'release') await api.releaseQuarantined(item.id);
    else await api.deleteQuarantined(item.id);
    announce(action === 'release' ? `Releasing ${item.name}` : `Deleted ${item.name}`);
  } catch (e) {
    announce(`${action === 'release' ? 'Release' : 'Delete'} failed: ${e.message}`);
  }
  await refresh();
}

function card(item) {
  const held = item.state === 'held';
  const facts = [
    ['Why', item.reason],
    ['Signature', item.signature || '—'],
    ['From', item.source],
    ['Peers', (item.peers || []).map((p) => p.endpoint).join(', ') || 'unknown'],
    ['Held since', when(item.quarantined_at)],
    ['Release goes to', item.destination],
  ];
  if (!held) facts.push(['Resolved', `${item.state} ${when(item.resolved_at)}`]);
  const findings = (item.details && item.details.findings) || [];
  const children = [
    el('div', { class: 'head' }, el('span', { class: 'name' }, item.name),
      el('span', { class: 'state ' + (held ? 'held' : item.state) }, held ? OUTCOMES[item.outcome] || item.outcome : item.state)),
    el('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))])),
  ];
  if (findings.length) children.push(el('ul', { class: 'findings' }, ...findings.map((f) => el('li', {}, findingText(f)))));
  if (held) {
    const release = el('button', { type: 'button', class: 'secondary', 'aria-label': `Release ${item.name} anyway` }, 'Release anyway');
    const del = el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${item.name}` }, 'Delete');
    release.addEventListener('click', () => act(item, 'release'));
    del.addEventListener('click', () => act(item, 'delete'));
    children.push(el('div', { class: 'actions' }, release, del));
  }
  return el('li', { class: 'transfer quarantined', 'data-id': item.id }, ...children);
}

export async function refresh() {
  const items = await api.quarantine($('quarantine-all').checked);
  $('quarantine-list').replaceChildren(...items.map(card));
  $('quarantine-empty').hidden = items.length > 0;
}

// Logged out: nothing of the node stays in the page.
export function clear() {
  $('quarantine-list').replaceChildren();
  $('quarantine-empty').hidden = true;
  $('quarantine-all').checked = false;
}

export function init(say) {
  announce = say;
  $('quarantine-all').addEventListener('change', () => refresh().catch((e) => say(e.message)));
}
