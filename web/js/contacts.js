// The contacts view (#/contacts, #/contacts/CONVERSATION): your invite, adding a contact by invite,
// incoming requests, the people list with online state and unread counts (and the total in the nav),
// groups, and the chat pane (chat.js) with files (offers.js). Kept live by the contact.*, message.*
// and file.* events (docs/api.md § Event stream), which app.js hands to `onEvent`.
import { api } from './api.js';
import * as chat from './chat.js';
import { el } from './format.js';
import * as groups from './groups.js';
import * as notify from './notify.js';
import * as offers from './offers.js';
import * as people from './people.js';
import * as roomstart from './roomstart.js';

const $ = (id) => document.getElementById(id);

export const EVENTS = ['contact.request', 'contact.accepted', 'contact.online', 'contact.offline',
  'contact.blocked', 'contact.removed', 'message.sent', 'message.received', 'message.delivered',
  'message.read', 'file.offered', 'file.accepted', 'file.transferring', 'file.scanning',
  'file.delivered', 'file.quarantined', 'file.refused', 'file.received'];

let announce = () => {};
let shown = false; // the view is on screen
let openConv = null; // the conversation in the route, or null
let requests = [];

function presence(c) {
  if (c.state === 'outgoing') return 'request sent';
  if (c.state === 'blocked') return 'blocked';
  return c.online ? 'online' : 'offline';
}

function renderPeople() {
  const list = people.allContacts().sort((x, y) =>
    (y.state === 'accepted') - (x.state === 'accepted') || (y.online === true) - (x.online === true) ||
    x.name.localeCompare(y.name));
  $('contact-list').replaceChildren(...list.map((c) => {
    const unread = c.state === 'accepted' ? c.unread || 0 : 0;
    return el('li', { class: 'person', 'data-id': c.id },
      el('a', { href: `#/contacts/${c.id}`, 'aria-current': c.id === openConv ? 'page' : null },
        el('span', { class: 'dot' + (c.online ? ' on' : ''), 'aria-hidden': 'true' }),
        el('span', { class: 'person-name' }, c.name)),
      el('span', { class: 'presence' + (c.online ? ' online' : '') }, presence(c)),
      unread ? el('span', { class: 'unread' }, String(unread), el('span', { class: 'visually-hidden' }, ' unread')) : null);
  }));
  $('contacts-empty').hidden = list.length > 0;
}

function renderBadge() {
  const n = people.totalUnread();
  const badge = $('unread-count');
  badge.textContent = n ? `(${n})` : ''; // the link then reads as Contacts (2)
}

function renderRequests() {
  $('requests-panel').hidden = requests.length === 0;
  $('request-list').replaceChildren(...requests.map((r) => {
    const act = (label, cls, fn) => el('button', {
      type: 'button', class: cls, 'aria-label': `${label} ${r.name}`,
      onclick: () => fn(r).catch((e) => announce(e.message)),
    }, label);
    return el('li', { class: 'request', 'data-id': r.id },
      el('p', {}, el('strong', {}, r.name), ' wants to be your contact.'),
      r.note ? el('p', { class: 'note' }, '“', r.note, '”') : null,
      el('p', { class: 'kith-id' }, 'kith ID ' + r.id),
      el('div', { class: 'actions' },
        act('Accept', '', accept), act('Decline', 'secondary', decline), act('Block', 'danger', block)));
  }));
}

function renderAll() {
  renderBadge();
  if (!shown) return;
  renderPeople();
  groups.render(openConv);
  roomstart.render();
  chat.renderHeader();
  offers.show(openConv);
}

async function accept(r) {
  await api.acceptContact(r.id);
  announce(`${r.name} is now a contact.`);
  await Promise.all([loadRequests(), people.loadContacts()]);
}

async function decline(r) {
  await api.declineContact(r.id);
  announce(`Declined ${r.name}'s request.`);
  await loadRequests();
}

async function block(r) {
  if (!confirm(`Block ${r.name}? They will not be able to reach you.`)) return;
  await api.blockContact(r.id);
  announce(`Blocked ${r.name}.`);
  await Promise.all([loadRequests(), people.loadContacts()]);
}

async function loadRequests() {
  requests = await api.requests();
  if (shown) renderRequests();
}

async function addContact(e) {
  e.preventDefault();
  const invite = $('contact-invite').value.trim();
  const note = $('contact-note').value.trim();
  $('contact-add-error').textContent = '';
  $('contact-add-note').textContent = '';
  if (!invite) { $('contact-add-error').textContent = 'Paste their invite link first.'; return; }
  try {
    const c = await api.addContact(invite, note);
    $('contact-invite').value = '';
    $('contact-note').value = '';
    $('contact-add-note').textContent = c.state === 'accepted'
      ? `${c.name} is now a contact.` : `Request sent to ${c.name}; they appear here once they accept.`;
    await Promise.all([people.loadContacts(), loadRequests()]);
  } catch (err) {
    $('contact-add-error').textContent = err.message;
  }
}

async function copyInvite() {
  const field = $('invite-link');
  try {
    await navigator.clipboard.writeText(field.value);
    $('invite-note').textContent = 'Copied.';
  } catch {
    field.select(); // no clipboard access (e.g. not a secure context): leave it selected to copy
    $('invite-note').textContent = 'Selected: press Ctrl+C to copy.';
  }
}

// Shows the view, with `conv` (a kith ID or group:ID) in the chat pane, or none.
export async function show(conv) {
  shown = true;
  roomstart.show(true);
  openConv = conv;
  $('contacts-layout').classList.toggle('open', !!conv); // narrow screens: the list or the conversation
  if (conv) chat.open(conv).catch((e) => announce(e.message)); else chat.close();
  renderAll();
  renderRequests();
  const me = people.identity() || await people.loadIdentity();
  if (shown) {
    $('invite-link').value = me.invite;
    $('invite-qr').src = api.inviteQrUrl();
  }
  await Promise.all([people.loadContacts(), people.loadGroups(), loadRequests()]);
}

export function hide() {
  shown = false;
  roomstart.show(false);
  openConv = null;
  chat.close();
  offers.show(null);
}

// Loads what the nav badge needs when the page starts, whatever view is shown.
export async function start() {
  await people.loadContacts();
}

// The polling fallback (no event stream).
export async function refresh() {
  await people.loadContacts();
  if (shown) await Promise.all([loadRequests(), people.loadGroups(), offers.refresh()]);
}

// Something changed in the transfers (an incoming file's download moved on): the offers follow.
export function transfersChanged() {
  if (shown && openConv) offers.refresh().catch(() => {});
}

let contactsQueued = false;
function queueContacts() {
  if (contactsQueued) return;
  contactsQueued = true;
  setTimeout(() => {
    contactsQueued = false;
    people.loadContacts().catch(() => {});
  }, 150);
}

export function onEvent(type, data) {
  if (type.startsWith('file.')) { offers.onEvent(type, data); return; }
  if (type.startsWith('message.')) {
    if (type === 'message.received') {
      const conv = data.conversation;
      if (conv.startsWith('group:')) {
        const id = conv.slice(6);
        // A new group (someone added us) or a known one's unread count; chat.js marks it read if shown.
        const reading = chat.current() === conv && !document.hidden;
        if (!people.group(id)) people.loadGroups().catch(() => {});
        else if (!reading) people.countGroupUnread(id).catch(() => {});
      } else {
        queueContacts(); // the unread counts
      }
      if (!data.outgoing) {
        notify.message(`${data.author_name} (${people.conversationName(conv)})`, data.text, conv,
          () => { location.hash = `#/contacts/${conv}`; });
      }
    }
    chat.onEvent(type, data).catch(() => {});
    return;
  }
  switch (type) {
    case 'contact.request':
      announce(`${data.name} asks to be your contact.`);
      loadRequests().catch(() => {});
      break;
    case 'contact.accepted':
      people.updateContact(data);
      loadRequests().catch(() => {});
      break;
    case 'contact.online':
    case 'contact.offline':
      people.updateContact(data);
      break;
    default: // contact.blocked, contact.removed: {id}
      people.forgetContact(data.id);
      queueContacts();
      loadRequests().catch(() => {});
  }
}

export function init(say) {
  announce = say;
  chat.init(say);
  offers.init(say);
  groups.init(say);
  roomstart.init();
  notify.init();
  people.subscribe(renderAll);
  $('contact-add-form').addEventListener('submit', addContact);
  $('contact-invite').addEventListener('input', () => { $('contact-add-error').textContent = ''; });
  $('copy-invite').addEventListener('click', copyInvite);
}

// Logged out: nothing of the node or its people stays in the page.
export function clear() {
  shown = false;
  openConv = null;
  requests = [];
  people.clear();
  chat.clear();
  offers.clear();
  groups.clear();
  roomstart.clear();
  notify.clear();
  $('invite-link').value = '';
  $('invite-qr').removeAttribute('src');
  $('invite-note').textContent = '';
  $('contact-invite').value = '';
  $('contact-note').value = '';
  $('contact-add-note').textContent = '';
  $('contact-add-error').textContent = '';
  $('contact-list').replaceChildren();
  $('request-list').replaceChildren();
  $('requests-panel').hidden = true;
  $('unread-count').textContent = '';
}
