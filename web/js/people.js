// What the page knows of the people side of the node: our own identity, the contacts (with online
// state and unread counts) and the groups. The contacts view, the chat pane and the file offers read
// it; `subscribe(fn)` is told after every change. Everything here came from peers or the node: it is
// only ever put into the page as text (format.js `el()`).
import { api } from './api.js';

let me = null; // GET /api/v1/id: {id, name, invite, addresses, channel_port}
let home = ''; // the node's home folder (status), where uploads land
const contacts = new Map(); // kith ID -> contact object
const groups = new Map(); // group id (hex) -> group object
// Unread messages per group. Contacts carry `unread`; groups do not (docs/api.md), so the page counts
// the unread ones among a group's newest UNREAD_WINDOW messages (more shows as "99+").
const groupUnread = new Map();
const UNREAD_WINDOW = 100;
const listeners = new Set();

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function changed() { for (const fn of listeners) fn(); }

export async function loadIdentity() {
  const [id, status] = await Promise.all([api.identity(), api.status()]);
  me = id;
  home = status.home;
  return me;
}

export async function loadContacts() {
  const list = await api.contacts();
  contacts.clear();
  for (const c of list) contacts.set(c.id, c);
  changed();
}

export async function loadGroups() {
  const list = await api.groups();
  groups.clear();
  for (const g of list) groups.set(g.id, g);
  for (const id of groupUnread.keys()) if (!groups.has(id)) groupUnread.delete(id);
  changed();
  await Promise.all(list.filter((g) => !groupUnread.has(g.id)).map((g) => countGroupUnread(g.id)));
}

export async function countGroupUnread(id) {
  const page = await api.messages({ with: 'group:' + id, limit: UNREAD_WINDOW });
  const n = page.messages.filter((m) => !m.outgoing && !m.read).length;
  if (groupUnread.get(id) === n) return;
  groupUnread.set(id, n);
  changed();
}

export function groupRead(id) {
  if (!groupUnread.get(id)) return;
  groupUnread.set(id, 0);
  changed();
}

// How many unread messages a group has, as shown ("99+" past what the page counts).
export function groupUnreadText(id) {
  const n = groupUnread.get(id) || 0;
  return n >= UNREAD_WINDOW ? '99+' : n ? String(n) : '';
}

// A contact object from an event (contact.online, contact.accepted, …) replaces ours.
export function updateContact(c) {
  if (!c || !c.id) return;
  const old = contacts.get(c.id);
  // Events carry the contact as the node sees it; keep our unread count if an event has none.
  contacts.set(c.id, old && c.unread === undefined ? { ...c, unread: old.unread } : c);
  changed();
}

export function forgetContact(id) { if (contacts.delete(id)) changed(); }

export const identity = () => me;
export const homeDir = () => home;
export const contact = (id) => contacts.get(id);
export const allContacts = () => [...contacts.values()];
export const accepted = () => allContacts().filter((c) => c.state === 'accepted');
export const group = (id) => groups.get(id);
export const allGroups = () => [...groups.values()];

// A conversation key (a kith ID, or `group:ID`) -> what to call it.
export function conversationName(conv) {
  if (conv.startsWith('group:')) {
    const g = groups.get(conv.slice(6));
    return g ? g.name : 'group';
  }
  return nameOf(conv);
}

export function nameOf(id) {
  if (me && id === me.id) return 'you';
  const c = contacts.get(id);
  return c ? c.name : id.slice(0, 8);
}

// A group member ({id, name}): our name for them if they are a contact, else the group's.
export function memberName(m) {
  if ((me && m.id === me.id) || contacts.has(m.id)) return nameOf(m.id);
  return m.name || m.id.slice(0, 8);
}

export function totalUnread() {
  let n = 0;
  for (const c of contacts.values()) if (c.state === 'accepted') n += c.unread || 0;
  for (const k of groupUnread.values()) n += k;
  return n;
}

export function clear() {
  me = null;
  home = '';
  contacts.clear();
  groups.clear();
  groupUnread.clear();
}
