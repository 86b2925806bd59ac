// The transfers view: add by link or .torrent, share by drop or file picker, and the live list.
import { api } from './api.js';
import { el, eta, percent, rate, size } from './format.js';

const $ = (id) => document.getElementById(id);
const rows = new Map(); // id -> {li, parts}
let announce = () => {};

const PAUSABLE = new Set(['downloading', 'seeding', 'finished', 'completed', 'metadata', 'checking']);

function stateLabel(t) {
  return t.state === 'metadata' ? 'fetching metadata' : t.state;
}

function buildRow(t) {
  const nameLink = el('a', { class: 'name', href: `#/transfers/${t.id}` });
  const state = el('span', { class: 'state' });
  const bar = el('progress', { max: '1' });
  const facts = el('div', { class: 'facts' });
  const error = el('p', { class: 'error', role: 'alert' });
  const toggle = el('button', { type: 'button', class: 'secondary' });
  const remove = el('button', { type: 'button', class: 'danger' }, 'Remove');
  const li = el('li', { class: 'transfer', 'data-id': t.id },
    el('div', { class: 'head' }, nameLink, state), bar, facts, error,
    el('div', { class: 'actions' }, toggle, remove));
  const parts = { nameLink, state, bar, facts, error, toggle, remove };
  toggle.addEventListener('click', () => control(li.dataset.id, toggle.dataset.action, parts.name));
  remove.addEventListener('click', () => removeTransfer(li.dataset.id, parts.name));
  return { li, parts };
}

function fillRow({ parts }, t) {
  parts.name = t.name;
  parts.nameLink.textContent = t.name;
  parts.state.textContent = stateLabel(t);
  parts.state.className = 'state ' + t.state;
  // Before a magnet's metadata arrives nothing is known of the size: say so, not "0% of 0 B".
  if (t.has_metadata) {
    parts.bar.value = t.progress || 0;
    parts.bar.setAttribute('aria-label', `${t.name}: ${percent(t.progress)} done`);
  } else {
    parts.bar.removeAttribute('value'); // indeterminate
    parts.bar.setAttribute('aria-label', `${t.name}: waiting for metadata`);
  }
  const f = [
    t.has_metadata ? `${percent(t.progress)} of ${size(t.total_wanted)}` : 'waiting for metadata from peers',
    `↓ ${rate(t.download_rate)}`,
    `↑ ${rate(t.upload_rate)}`,
    `${t.peers} peer${t.peers === 1 ? '' : 's'}`,
  ];
  if (t.kind === 'get' && t.state === 'downloading') f.push(`ETA ${eta(t.eta)}`);
  if (t.kind === 'share') f.push('shared by this node');
  if ((t.runnable || []).length) f.push(`can run code: ${t.runnable[0]}${t.runnable.length > 1 ? ` +${t.runnable.length - 1}` : ''}`);
  if (t.publisher && t.publisher.signed) f.push(t.publisher.you ? 'signed by you' : `signed by ${t.publisher.id.slice(0, 12)}…`);
  parts.facts.replaceChildren(...f.map((x) => el('span', {}, x)));
  parts.error.textContent = t.error || '';
  const paused = t.state === 'paused' || t.state === 'error' || t.state === 'held';
  parts.toggle.hidden = t.state === 'quarantined';  // released or deleted from the Quarantine view
  parts.toggle.dataset.action = paused ? 'resume' : 'pause';
  parts.toggle.textContent = paused ? 'Resume' : 'Pause';
  parts.toggle.disabled = !paused && !PAUSABLE.has(t.state);
  parts.toggle.setAttribute('aria-label', `${paused ? 'Resume' : 'Pause'} ${t.name}`);
  parts.remove.setAttribute('aria-label', `Remove ${t.name}`);
}

export function render(list) {
  const ul = $('transfer-list');
  const seen = new Set();
  list.sort((a, b) => b.added_at - a.added_at || a.id.localeCompare(b.id));
  list.forEach((t, i) => {
    seen.add(t.id);
    let row = rows.get(t.id);
    if (!row) {
      row = buildRow(t);
      rows.set(t.id, row);
    }
    fillRow(row, t);
    if (ul.children[i] !== row.li) ul.insertBefore(row.li, ul.children[i] || null);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) { row.li.remove(); rows.delete(id); }
  }
  $('empty').hidden = list.length > 0;
}

// A transfer.progress event carries a full (short) transfer object: update its row in place.
export function updateOne(t) {
  const row = rows.get(t.id);
  if (row) fillRow(row, t);
  return Boolean(row);
}

export async function refresh() {
  render(await api.transfers());
}

// Logged out: nothing of the node stays in the page.
export function clear() {
  rows.clear();
  $('transfer-list').replaceChildren();
  $('empty').hidden = true;
  $('add-form').reset();
  for (const id of ['add-note', 'add-error', 'share-progress', 'share-error']) $(id).replaceChildren();
  $('share-name-cancel').click();
}

// Points at a row for a moment (the transfer a link added earlier).
function highlight(id) {
  const row = rows.get(id);
  if (!row) return;
  row.li.classList.add('flash');
  row.li.scrollIntoView({ block: 'nearest' });
  setTimeout(() => row.li.classList.remove('flash'), 4000);
}

async function control(id, action, name) {
  try {
    await (action === 'resume' ? api.resume(id) : api.pause(id));
    announce(`${action === 'resume' ? 'Resumed' : 'Paused'} ${name}`);
    await refresh();
  } catch (e) {
    announce(`Could not ${action} ${name}: ${e.message}`);
  }
}

async function removeTransfer(id, name) {
  if (!window.confirm(`Remove "${name}" from this node? Finished downloads and shared files stay on disk.`)) return;
  try {
    await api.remove(id, false);
    announce(`Removed ${name}`);
    await refresh();
  } catch (e) {
    announce(`Could not remove ${name}: ${e.message}`);
  }
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function onAdd(event) {
  event.preventDefault();
  const link = $('add-link').value.trim();
  const file = $('add-torrent').files[0];
  const error = $('add-error');
  error.textContent = '';
  $('add-note').replaceChildren();
  if (!link && !file) {
    error.textContent = 'Paste a magnet link or choose a .torrent file.';
    $('add-link').focus();
    return;
  }
  $('add-submit').disabled = true;
  try {
    const t = link ? await api.addLink(link) : await api.addTorrent(await readAsBase64(file));
    $('add-form').reset();
    if (t.existing) {
      // The node answers with the transfer it already has (200, "existing": true).
      $('add-note').replaceChildren('Already in your transfers: ',
        el('a', { href: `#/transfers/${t.id}` }, t.name), '. Nothing was added.');
      announce(`${t.name} is already in your transfers`);
      await refresh();
      highlight(t.id);
    } else {
      announce(`Added ${t.name}`);
      await refresh();
    }
  } catch (e) {
    error.textContent = e.message;
  } finally {
    $('add-submit').disabled = false;
  }
}

// ---- Sharing by upload: the browser cannot name a path on disk, so it sends the bytes. ----

// Walks dropped entries (files and folders) into [{path, file}].
async function collect(entry, prefix, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    out.push({ path: prefix + entry.name, file });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const child of batch) await collect(child, prefix + entry.name + '/', out);
    }
  }
}

// What the node names a share of several loose files when it is given no name: the first name
// (sorted, without its extension) "and N more". The field starts with the same, for the user to edit.
export function suggestedName(tops) {
  const sorted = [...tops].sort();
  const stem = sorted[0].replace(/(.)\.[^.]*$/, '$1');
  return `${stem} and ${sorted.length - 1} more`;
}

// Several files or folders side by side become one folder: ask for its name (null: cancelled).
function askName(count, suggested) {
  const form = $('share-name-form');
  const field = $('share-name');
  $('share-name-count').textContent = String(count);
  field.value = suggested;
  form.hidden = false;
  field.focus();
  field.select();
  return new Promise((resolve) => {
    const done = (value) => {
      form.hidden = true;
      form.onsubmit = null;
      $('share-name-cancel').onclick = null;
      resolve(value);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      const value = field.value.trim();
      if (!value || value.includes('/')) {
        $('share-error').textContent = 'Give the folder a name, without "/".';
        field.focus();
        return;
      }
      $('share-error').textContent = '';
      done(value);
    };
    $('share-name-cancel').onclick = () => done(null);
  });
}

async function share(items) {
  const progress = $('share-progress');
  const error = $('share-error');
  error.textContent = '';
  progress.textContent = '';
  if (!items.length) {
    error.textContent = 'Nothing to share: the selection has no files.';
    return;
  }
  const tops = new Set(items.map((x) => x.path.split('/')[0]));
  let name;
  if (tops.size > 1) {
    name = await askName(tops.size, suggestedName(tops));
    if (name === null) return;
  }
  try {
    const { id } = await api.newUpload();
    let done = 0;
    const total = items.reduce((n, x) => n + x.file.size, 0);
    for (const [i, item] of items.entries()) {
      progress.textContent = `Uploading ${i + 1} of ${items.length}: ${item.path}`;
      await api.uploadFile(id, item.path, item.file);
      done += item.file.size;
    }
    progress.textContent = `Uploaded ${size(done)} of ${size(total)}; hashing…`;
    const t = await api.shareUpload(id, name);
    progress.textContent = `Sharing ${t.name}.`;
    announce(`Sharing ${t.name}`);
    await refresh();
  } catch (e) {
    progress.textContent = '';
    error.textContent = e.message;
  }
}

async function onDrop(event) {
  event.preventDefault();
  $('drop-zone').classList.remove('over');
  const items = [];
  const dt = event.dataTransfer;
  const entries = [...(dt.items || [])].map((it) => (it.webkitGetAsEntry ? it.webkitGetAsEntry() : null));
  if (entries.length && entries.every(Boolean)) {
    for (const entry of entries) await collect(entry, '', items);
  } else {
    for (const file of dt.files) items.push({ path: file.name, file });
  }
  await share(items);
}

function fromInput(input, useRelative) {
  const items = [...input.files].map((file) => ({
    path: useRelative && file.webkitRelativePath ? file.webkitRelativePath : file.name, file,
  }));
  input.value = '';
  return share(items);
}

export function init(say) {
  announce = say;
  $('add-form').addEventListener('submit', onAdd);
  $('add-link').addEventListener('input', () => {
    $('add-error').textContent = '';
    $('add-note').replaceChildren();
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', onDrop);
  // Keyboard users: Enter or Space on the drop zone opens the file picker.
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('share-files').click(); }
  });
  $('share-files').addEventListener('change', (e) => fromInput(e.target, false));
  $('share-folder').addEventListener('change', (e) => fromInput(e.target, true));
}
