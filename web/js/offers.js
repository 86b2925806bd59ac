// Files to and from the contact shown in the chat pane (docs/api.md § Files to contacts). Sending: the
// browser cannot name a path on disk, so each chosen file is uploaded first (the same upload routes
// as sharing in transfers.js) and the upload's file, under the node's home, is offered to the contact.
import { api } from './api.js';
import { el, percent, size } from './format.js';
import * as people from './people.js';

const $ = (id) => document.getElementById(id);

let announce = () => {};
let contactId = null; // the contact whose files are shown, or null (a group, or nothing open)
let offers = []; // every offer of the node (GET /api/v1/files), newest first
let loadSeq = 0;
const hashing = new Set(); // names of files sent from this page whose offer is not made yet

const OUT = {
  pending: 'waiting for them to take it', offered: 'they are fetching it', transferring: 'sending',
  scanning: 'being scanned at their end', delivered: 'delivered', quarantined: 'held in their quarantine',
  refused: 'refused',
};
const IN = {
  accepted: 'downloading', offered: 'downloading', transferring: 'downloading', scanning: 'being scanned',
  delivered: 'received', quarantined: 'held in quarantine (see Quarantine)', refused: 'refused',
};

function offerItem(o) {
  const who = people.nameOf(o.contact);
  const incoming = o.direction === 'in';
  const states = incoming ? IN : OUT;
  let state = states[o.state] || o.state;
  const moving = o.state === 'transferring' && o.size > 0;
  if (moving) state += ' ' + percent(o.done / o.size);
  if (o.state === 'refused' && o.reason) state += ': ' + o.reason;
  const label = `${incoming ? 'From' : 'To'} ${who}: `;
  const name = o.transfer_id ? el('a', { href: `#/transfers/${o.transfer_id}` }, o.name) : o.name;
  const children = [
    el('p', { class: 'offer-head' }, el('span', { class: 'offer-who' }, label), name),
    el('p', { class: 'facts' }, el('span', {}, size(o.size)),
      el('span', { class: 'offer-state', 'data-state': o.state }, state)),
  ];
  if (moving) {
    children.push(el('progress', { max: String(o.size), value: String(o.done), 'aria-label': `${o.name}: ${state}` }));
  }
  return el('li', { class: 'offer ' + (incoming ? 'in' : 'out'), 'data-id': o.id }, children);
}

function render() {
  const mine = contactId ? offers.filter((o) => o.contact === contactId) : [];
  $('offer-list').replaceChildren(...mine.map(offerItem));
  $('offers-empty').hidden = mine.length > 0;
}

export async function refresh() {
  if (!contactId) return;
  const seq = ++loadSeq;
  const list = await api.offers();
  if (seq !== loadSeq) return;
  offers = list;
  render();
}

// The chat pane shows `conv`: a contact gets its files and the "Send a file" button; a group neither
// (the API sends files to one contact).
export function show(conv) {
  const isContact = !!conv && !conv.startsWith('group:');
  const c = isContact ? people.contact(conv) : null;
  const changed = contactId !== (isContact ? conv : null);
  contactId = isContact ? conv : null;
  $('offers').hidden = !isContact;
  $('chat-file-button').hidden = !(c && c.state === 'accepted');
  if (!changed) return;
  $('offer-progress').textContent = '';
  render();
  if (isContact) refresh().catch((e) => announce(e.message));
}

// file.offered, file.accepted, file.transferring, … and file.received: the offer as it is now.
export function onEvent(type, o) {
  const i = offers.findIndex((x) => x.id === o.id);
  if (i >= 0) offers[i] = o; else offers.unshift(o);
  if (type === 'file.offered' && hashing.delete(o.name) && !hashing.size) $('offer-progress').textContent = '';
  if (type === 'file.received') announce(`${people.nameOf(o.contact)} sent you ${o.name}`);
  if (o.contact === contactId) render();
}

async function sendFiles(files) {
  const to = contactId;
  const progress = $('offer-progress');
  if (!to || !files.length) return;
  const home = people.homeDir() || (await people.loadIdentity(), people.homeDir());
  for (const file of files) {
    try {
      progress.textContent = `Uploading ${file.name} (${size(file.size)})…`;
      const { id } = await api.newUpload();
      await api.uploadFile(id, file.name, file);
      progress.textContent = `Preparing ${file.name} for ${people.nameOf(to)}…`;
      await api.sendFile(to, `${home}/uploads/${id}/${file.name}`);
      // The node hashes it first; the offer (file.offered) then appears in the list.
      progress.textContent = `Hashing ${file.name}; it is offered to ${people.nameOf(to)} when that is done.`;
      hashing.add(file.name);
    } catch (e) {
      progress.textContent = `${file.name}: ${e.message}`;
    }
  }
}

export function init(say) {
  announce = say;
  $('chat-file-button').addEventListener('click', () => $('chat-file').click());
  $('chat-file').addEventListener('change', (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    sendFiles(files);
  });
}

export function clear() {
  contactId = null;
  offers = [];
  hashing.clear();
  loadSeq++;
  $('offer-list').replaceChildren();
  $('offer-progress').textContent = '';
}
