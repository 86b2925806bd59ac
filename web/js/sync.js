// The Sync view: folders kept in sync with other devices over Syncthing's protocol (docs/api.md §
// Folder sync, docs/sync.md). Folders with their state, counts and devices, files held back by the
// safety check, conflict copies and the last changes; add a folder; this node's device ID and the
// devices; folders other devices offer.
// Everything a device sends (labels, names, file names, reasons, client strings) goes in as text.
import { api } from './api.js';
import { el, size } from './format.js';

const $ = (id) => document.getElementById(id);
let announce = () => {};
let shown = false;
let devices = []; // the last GET /sync/devices list, for the share-with checkboxes and names
let conflicts = new Map(); // folder id -> its conflict copies (GET /sync/folders/{id}/conflicts)
let changes = new Map(); // folder id -> its recent changes, newest first (GET /sync/folders/{id}/changes)
let myDevice = ''; // this node's device ID: its own changes read "this device"
const SHOWN_CHANGES = 10; // the newest of a folder's recent changes its card lists (the node keeps 100)

export const EVENTS = ['sync.folder', 'sync.device.connected', 'sync.device.disconnected', 'sync.item',
  'sync.offered'];

const STATES = { idle: 'Up to date', scanning: 'Scanning', syncing: 'Syncing', paused: 'Paused', error: 'Error' };
const TYPES = { sendreceive: 'Send and receive', sendonly: 'Send only', receiveonly: 'Receive only' };

const ACTIONS = { updated: 'Updated', deleted: 'Deleted', held: 'Held back' };

// Who made a change: this device, a device by the name this node knows it by, else its ID's first group.
function byWhom(c) {
  if (!c.device) return 'an unknown device';
  if (c.device === myDevice) return 'this device';
  const known = devices.find((d) => d.id === c.device);
  return c.device_name || (known && known.name) || c.device.slice(0, 7);
}

function when(unix) { return unix ? new Date(unix * 1000).toLocaleString() : 'not yet'; }
const files = (n) => `${n} file${n === 1 ? '' : 's'}`;
function pct(p) { return `${Math.floor((p || 0) * 10) / 10} %`; }

async function act(what, fn) {
  try {
    await fn();
  } catch (e) {
    announce(`${what} failed: ${e.message}`);
  }
  await refresh().catch((e) => announce(e.message));
}

function folderCard(f) {
  const name = f.label || f.id;
  const state = f.paused ? 'paused' : f.state;
  const facts = [
    ['ID', f.id],
    ['Path', f.path],
    ['Type', TYPES[f.type] || f.type],
    ['Here', `${files(f.local_files)}, ${size(f.local_bytes)}`],
    ['In the share', `${files(f.global_files)}, ${size(f.global_bytes)}`],
    ['Still needed', f.need_files ? `${files(f.need_files)}, ${size(f.need_bytes)}` : 'nothing'],
    ['Last scan', when(f.last_scan)],
  ];
  const children = [
    el('div', { class: 'head' }, el('span', { class: 'name' }, name),
      el('span', { class: 'state ' + state, 'data-state': state }, STATES[state] || state)),
  ];
  if (state === 'error' && f.error) children.push(el('p', { class: 'error', role: 'alert' }, f.error));
  children.push(el('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))])));
  if ((f.held || []).length) {
    children.push(el('div', { class: 'held', role: 'alert' },
      el('strong', {}, `Held back by the safety check (${f.held.length})`), ' — see ',
      el('a', { href: '#/quarantine' }, 'Quarantine'),
      el('ul', {}, ...f.held.map((h) => el('li', { 'data-quarantine-id': h.quarantine_id },
        el('span', { class: 'name' }, h.name), ': ', h.reason || 'held',
        el('span', { class: 'muted' }, ` (quarantine ${h.quarantine_id})`))))));
  }
  const failed = f.pull_errors || [];
  if (failed.length) {
    // Syncthing's "Failed items": retried by itself; each error says why (and what to do, if anything).
    children.push(el('div', { class: 'failed', 'aria-label': `Failed items in ${name}` },
      el('strong', {}, `Failed items (${failed.length})`), ' — tried again by itself',
      el('ul', {}, ...failed.slice(0, 10).map((e) => el('li', {},
        el('span', { class: 'name' }, e.name), ': ', e.error)))));
  }
  if (f.case_insensitive) {
    children.push(el('p', { class: 'muted' },
      'This file system does not tell upper from lower case: names that differ only in case are refused.'));
  }
  const copies = conflicts.get(f.id) || [];
  if (copies.length) {
    children.push(el('div', { class: 'conflicts', 'aria-label': `Conflicts in ${name}` },
      el('strong', {}, `Conflict copies (${copies.length})`),
      ' — a change that lost to another, kept beside the version that won: keep what you want in the original, then delete the copy',
      el('ul', {}, ...copies.map((c) => el('li', { 'data-original': c.original },
        el('span', { class: 'name' }, c.name), ' beside ', el('span', { class: 'name' }, c.original),
        el('span', { class: 'muted' }, ` (${c.device}'s change)`))))));
  }
  const recent = (changes.get(f.id) || []).slice(0, SHOWN_CHANGES);
  children.push(el('div', { class: 'changes', 'aria-label': `Last changes in ${name}` },
    el('strong', {}, 'Last changes'),
    recent.length
      ? el('ol', {}, ...recent.map((c) => el('li', { 'data-action': c.action, 'data-name': c.name },
        el('time', { datetime: c.time ? new Date(c.time * 1000).toISOString() : null, class: 'muted' }, when(c.time)), ' ',
        el('span', { class: 'action ' + c.action }, ACTIONS[c.action] || c.action), ' ',
        el('span', { class: 'name' }, c.name), c.type === 'directory' ? ' (folder)' : '',
        el('span', { class: 'muted' }, ` by ${byWhom(c)}`),
        c.reason ? el('span', { class: 'muted' }, ` (${c.reason})`) : null,
        c.runnable ? el('span', { class: 'runnable' }, ` · can run code: ${c.runnable}`) : null)))
      : el('p', { class: 'muted' }, 'None since the node started.')));
  const devs = f.devices || [];
  children.push(el('ul', { class: 'sync-devs', 'aria-label': `Devices of ${name}` },
    ...(devs.length ? devs.map((d) => el('li', { 'data-device': d.device },
      el('span', { class: 'name' }, d.name || d.device.slice(0, 7)), ' ',
      el('span', { class: d.connected ? 'online' : 'muted' }, d.connected ? 'connected' : 'not connected'), ' ',
      el('span', { class: 'completion' }, pct(d.completion)),
      d.need_files ? el('span', { class: 'muted' }, ` (needs ${files(d.need_files)}, ${size(d.need_bytes)})`) : null))
      : [el('li', { class: 'muted' }, 'Not shared with any device.')])));
  const rescan = el('button', { type: 'button', class: 'secondary', 'aria-label': `Rescan ${name}` }, 'Rescan');
  const pause = el('button', { type: 'button', class: 'secondary', 'aria-label': `${f.paused ? 'Resume' : 'Pause'} ${name}` },
    f.paused ? 'Resume' : 'Pause');
  const remove = el('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${name}` }, 'Remove');
  rescan.addEventListener('click', () => act('Rescan', async () => {
    await api.syncRescan(f.id);
    announce(`Rescanning ${name}`);
  }));
  pause.addEventListener('click', () => act(f.paused ? 'Resume' : 'Pause',
    () => (f.paused ? api.syncResume(f.id) : api.syncPause(f.id))));
  remove.addEventListener('click', () => {
    if (!window.confirm(`Stop syncing "${name}"? Its files stay in ${f.path}.`)) return;
    act('Remove', async () => {
      await api.syncRemoveFolder(f.id);
      announce(`Stopped syncing ${name}`);
    });
  });
  children.push(el('div', { class: 'actions' }, rescan, pause, remove));
  return el('li', { class: 'transfer sync-folder', 'data-id': f.id }, ...children);
}

function deviceCard(d) {
  const name = d.name || d.id.slice(0, 7);
  const remove = el('button', { type: 'button', class: 'danger', 'aria-label': `Remove device ${name}` }, 'Remove');
  remove.addEventListener('click', () => {
    if (!window.confirm(`Remove the device "${name}"? Its folders are no longer shared with it.`)) return;
    act('Remove device', () => api.syncRemoveDevice(d.id));
  });
  const facts = [['ID', d.id], ['Dials', (d.addresses || []).join(', ') || 'no address']];
  if (d.contact) facts.push(['Contact', `${d.contact} (their node told it: no need to add it)`]);
  if (d.connected) facts.push(['Address', d.address || ''], ['Runs', d.client || '']);
  return el('li', { class: 'transfer sync-device', 'data-id': d.id },
    el('div', { class: 'head' }, el('span', { class: 'name' }, name),
      el('span', { class: 'state ' + (d.connected ? 'completed' : '') }, d.connected ? 'connected' : 'not connected')),
    el('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))])),
    el('div', { class: 'actions' }, remove));
}

function offerCard(o) {
  const name = o.label || o.id;
  const from = o.device_name || o.device.slice(0, 7);
  const path = el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: '/home/me/' + o.id,
    'aria-label': `Path for ${name}` });
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el('form', {}, el('label', {}, 'Accept into path', path),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Accept')), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await api.syncAccept(o.id, path.value.trim());
      announce(`Syncing ${name} from ${from}`);
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    await refresh().catch((err) => announce(err.message));
  });
  return el('li', { class: 'transfer sync-offer', 'data-id': o.id },
    el('div', { class: 'head' }, el('span', { class: 'name' }, name), el('span', { class: 'muted' }, `from ${from}`)),
    el('p', { class: 'muted' }, `Folder ID ${o.id}`), form);
}

function deviceChoices() {
  const box = $('sync-folder-devices');
  const ticked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
  const legend = el('legend', {}, 'Share with');
  if (!devices.length) { box.replaceChildren(legend, el('p', { class: 'muted' }, 'No devices added yet.')); return; }
  box.replaceChildren(legend, ...devices.map((d) => el('label', { class: 'inline' },
    el('input', { type: 'checkbox', value: d.id, checked: ticked.has(d.id) }), ' ', d.name || d.id)));
}

export async function refresh() {
  const [fl, dv, pd] = await Promise.all([api.syncFolders(), api.syncDevices(), api.syncPending()]);
  devices = dv.devices || [];
  myDevice = dv.device_id || '';
  // Conflict copies and recent changes per folder (small requests, two each: folders are few).
  const folders = fl.folders || [];
  const [lists, recents] = await Promise.all([
    Promise.all(folders.map((f) => api.syncConflicts(f.id).catch(() => ({ conflicts: [] })))),
    Promise.all(folders.map((f) => api.syncChanges(f.id).catch(() => ({ changes: [] })))),
  ]);
  conflicts = new Map(folders.map((f, i) => [f.id, lists[i].conflicts || []]));
  changes = new Map(folders.map((f, i) => [f.id, recents[i].changes || []]));
  $('sync-my-id').value = dv.device_id || '';
  $('sync-folders').replaceChildren(...(fl.folders || []).map(folderCard));
  $('sync-folders-empty').hidden = (fl.folders || []).length > 0;
  $('sync-devices').replaceChildren(...devices.map(deviceCard));
  deviceChoices();
  // An offer form being filled in stays as it is.
  const offers = pd.folders || [];
  const list = $('sync-offers');
  const typing = list.contains(document.activeElement) || [...list.querySelectorAll('input')].some((i) => i.value);
  const same = [...list.children].map((li) => li.dataset.id).join() === offers.map((o) => o.id).join();
  if (!(typing && same)) list.replaceChildren(...offers.map(offerCard));
  $('sync-offers-panel').hidden = offers.length === 0;
}

let queued = false;
// An event from the sync service: redraw once per burst, while the view is shown.
export function onEvent(type, data) {
  if (type === 'sync.offered' && data.offer) {
    announce(`${data.offer.device_name || 'A device'} offers the folder ${data.offer.label || data.offer.id}`);
  }
  if (type === 'sync.item' && data.action === 'held') announce(`Held back: ${data.name} (${data.reason})`);
  if (!shown || queued) return;
  queued = true;
  setTimeout(() => {
    queued = false;
    if (shown) refresh().catch(() => {});
  }, 200);
}

export async function show() { shown = true; await refresh(); }
export function hide() { shown = false; }

// Logged out: nothing of the node stays in the page.
export function clear() {
  shown = false;
  devices = [];
  conflicts = new Map();
  changes = new Map();
  myDevice = '';
  for (const id of ['sync-folders', 'sync-devices', 'sync-offers']) $(id).replaceChildren();
  $('sync-folder-devices').replaceChildren(el('legend', {}, 'Share with'));
  $('sync-offers-panel').hidden = true;
  $('sync-folders-empty').hidden = true;
  $('sync-my-id').value = '';
  for (const id of ['sync-copy-note', 'sync-folder-error', 'sync-device-error']) $(id).textContent = '';
  for (const id of ['sync-folder-path', 'sync-folder-label', 'sync-device-id', 'sync-device-address', 'sync-device-name']) $(id).value = '';
}

export function init(say) {
  announce = say;
  $('sync-copy-id').addEventListener('click', async () => {
    const field = $('sync-my-id');
    try {
      await navigator.clipboard.writeText(field.value);
      $('sync-copy-note').textContent = 'Copied.';
    } catch {
      field.select();
      $('sync-copy-note').textContent = 'Selected: press Ctrl+C to copy.';
    }
  });
  $('sync-folder-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('sync-folder-error').textContent = '';
    const body = { path: $('sync-folder-path').value.trim(), type: $('sync-folder-type').value };
    const label = $('sync-folder-label').value.trim();
    if (label) body.label = label;
    body.devices = [...$('sync-folder-devices').querySelectorAll('input:checked')].map((i) => i.value);
    try {
      const f = await api.syncAddFolder(body);
      announce(`Syncing ${f.label || f.id}`);
      $('sync-folder-path').value = '';
      $('sync-folder-label').value = '';
      for (const i of $('sync-folder-devices').querySelectorAll('input')) i.checked = false;
    } catch (err) {
      $('sync-folder-error').textContent = err.message;
      return;
    }
    await refresh().catch((err) => announce(err.message));
  });
  $('sync-device-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('sync-device-error').textContent = '';
    const body = { id: $('sync-device-id').value.trim() };
    const address = $('sync-device-address').value.trim();
    const name = $('sync-device-name').value.trim();
    if (address) body.addresses = [address];
    if (name) body.name = name;
    try {
      await api.syncAddDevice(body);
      announce(`Added the device ${name || body.id}`);
      for (const id of ['sync-device-id', 'sync-device-address', 'sync-device-name']) $(id).value = '';
    } catch (err) {
      $('sync-device-error').textContent = err.message;
      return;
    }
    await refresh().catch((err) => announce(err.message));
  });
}
