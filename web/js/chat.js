// The conversation pane: the header (who, online or not, and an actions area for per-contact buttons),
// the messages with their delivery state, the send box, search in the conversation and older messages.
// A conversation is a contact's kith ID or `group:ID` (docs/api.md § Contacts and messages).
import { api } from './api.js';
import * as calls from './calls.js';
import { el } from './format.js';
import * as people from './people.js';
import * as roomstart from './roomstart.js';

const $ = (id) => document.getElementById(id);
const PAGE = 100; // messages per step of "Load older"
const MAX = 1000; // the most GET /messages answers at once

let announce = () => {};
let conv = null; // the conversation shown, or null
let messages = []; // shown, oldest first
let limit = PAGE;
let searching = ''; // the words searched for, or '' for the conversation itself
let loadSeq = 0; // drops answers that arrive after the user moved on

export const current = () => conv;
const isGroup = () => conv && conv.startsWith('group:');

function when(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString();
}

function statusText(m) {
  if (m.status === 'read') return m.recipients > 1 ? `Read by all ${m.recipients}` : 'Read';
  if (m.status === 'delivered') return m.recipients > 1 ? `Delivered to all ${m.recipients}` : 'Delivered';
  if (m.recipients > 1 && m.delivered) return `Delivered to ${m.delivered} of ${m.recipients}`;
  return 'Not delivered yet';
}

function messageItem(m) {
  const author = m.outgoing ? 'You' : (people.contact(m.author) ? people.nameOf(m.author) : m.author_name);
  const meta = [el('time', { datetime: new Date(m.sent_at).toISOString() }, when(m.sent_at))];
  if (m.outgoing) meta.push(' · ', el('span', { class: 'msg-status', 'data-status': m.status }, statusText(m)));
  if (searching && !isGroup()) meta.push(' · ', el('span', {}, m.conversation_name));
  return el('li', { class: 'msg ' + (m.outgoing ? 'out' : 'in'), 'data-id': m.id },
    el('p', { class: 'author' }, author),
    el('p', { class: 'text' }, m.text),
    el('p', { class: 'meta' }, meta));
}

function render(scrollToEnd = true) {
  const list = $('message-list');
  list.replaceChildren(...messages.map(messageItem));
  $('chat-empty').hidden = messages.length > 0 || !!searching;
  $('chat-older').hidden = !!searching || messages.length < limit || limit >= MAX;
  if (scrollToEnd) list.scrollTop = list.scrollHeight;
}

// Call and Video call: for an accepted contact; disabled (saying why) while they are offline or a call
// is under way.
function renderCallButtons(c) {
  const call = $('chat-call');
  const video = $('chat-video-call');
  const show = !!c && c.state === 'accepted';
  call.hidden = video.hidden = !show;
  if (!show) return;
  const why = !c.online ? `${c.name} is offline: calls reach only contacts who are online.`
    : calls.busy() ? 'You are in a call: hang up first.' : '';
  for (const [b, what] of [[call, 'Call'], [video, 'Video call']]) {
    b.disabled = !!why;
    b.title = why || `${what} ${c.name}`;
    b.setAttribute('aria-label', `${what} ${c.name}`);
    if (why) b.setAttribute('aria-description', why); else b.removeAttribute('aria-description');
  }
}

// The header: name, presence, and for a contact its kith ID. The actions area (#chat-actions) holds
// per-conversation buttons (call, video call, send a file).
export function renderHeader() {
  if (!conv) return;
  const presence = $('chat-presence');
  $('chat-form').hidden = false;
  renderCallButtons(isGroup() ? null : people.contact(conv));
  roomstart.renderGroupButtons(isGroup() ? conv.slice(6) : null);
  if (isGroup()) {
    const g = people.group(conv.slice(6));
    $('chat-title').textContent = g ? g.name : 'Group';
    presence.textContent = g ? 'Group: ' + g.members.map(people.memberName).join(', ') : '';
    return;
  }
  const c = people.contact(conv);
  $('chat-title').textContent = c ? c.name : conv.slice(0, 8);
  let text = 'not a contact';
  if (c && c.state === 'accepted') {
    text = c.online ? `online (${c.path || 'direct'}, ${c.via === 'lan' ? 'local network' : 'internet'})`
      : c.last_seen ? `offline, last seen ${new Date(c.last_seen * 1000).toLocaleString()}` : 'offline';
  } else if (c && c.state === 'outgoing') {
    text = 'request sent; you can write once they accept';
  } else if (c && c.state === 'blocked') {
    text = 'blocked';
  }
  presence.replaceChildren(el('span', { class: c && c.online ? 'online' : '' }, text),
    el('br'), el('span', { class: 'kith-id' }, 'kith ID ' + conv));
  $('chat-form').hidden = !(c && c.state === 'accepted');
}

async function load(keepScroll = false) {
  const seq = ++loadSeq;
  const shown = conv;
  const page = await api.messages({ with: shown, limit });
  if (seq !== loadSeq || shown !== conv) return;
  searching = '';
  messages = page.messages;
  render(!keepScroll);
  if (keepScroll) $('message-list').scrollTop = 0;
  await markRead();
}

// The user sees the conversation: tell the node (which sends read receipts for direct messages).
async function markRead() {
  if (!conv || document.hidden || searching) return;
  const c = people.contact(conv);
  const unread = messages.some((m) => !m.outgoing && !m.read) || (c && c.unread > 0);
  if (!unread) return;
  const shown = conv;
  await api.markRead(shown);
  for (const m of messages) if (!m.outgoing && m.conversation === shown) m.read = true;
  if (shown.startsWith('group:')) people.groupRead(shown.slice(6));
  else await people.loadContacts();
}

export async function open(conversation) {
  if (conversation === conv) return;
  conv = conversation;
  messages = [];
  limit = PAGE;
  searching = '';
  $('chat-none').hidden = true;
  $('chat-pane').hidden = false;
  $('chat-search').value = '';
  $('chat-search-clear').hidden = true;
  $('chat-search-note').textContent = '';
  $('chat-error').textContent = '';
  $('message-list').replaceChildren();
  renderHeader();
  try {
    await load();
  } catch (e) {
    $('chat-error').textContent = e.message;
  }
}

export function close() {
  conv = null;
  loadSeq++;
  messages = [];
  $('chat-pane').hidden = true;
  $('chat-none').hidden = false;
  $('message-list').replaceChildren();
}

// message.sent / message.received: the whole message. message.delivered / message.read: {id, by}.
export async function onEvent(type, data) {
  if (!conv || searching) return;
  if (type === 'message.sent' || type === 'message.received') {
    if (data.conversation !== conv || messages.some((m) => m.id === data.id)) return;
    messages.push(data);
    render();
    if (!data.outgoing) await markRead();
    return;
  }
  const i = messages.findIndex((m) => m.id === data.id);
  if (i < 0) return;
  const fresh = await api.message(data.id);
  const j = messages.findIndex((m) => m.id === data.id);
  if (j < 0) return;
  messages[j] = fresh;
  const item = $('message-list').querySelector(`li[data-id="${CSS.escape(data.id)}"]`);
  if (item) item.replaceWith(messageItem(fresh));
}

async function send(e) {
  e.preventDefault();
  const field = $('chat-text');
  const text = field.value.trim();
  if (!text || !conv) return;
  $('chat-error').textContent = '';
  $('chat-send').disabled = true;
  try {
    const m = isGroup() ? await api.sendToGroup(conv.slice(6), text) : await api.sendMessage(conv, text);
    field.value = '';
    if (m.conversation === conv && !searching && !messages.some((x) => x.id === m.id)) {
      messages.push(m);
      render();
    }
  } catch (err) {
    $('chat-error').textContent = err.message;
  } finally {
    $('chat-send').disabled = false;
    field.focus();
  }
}

async function search(e) {
  e.preventDefault();
  const words = $('chat-search').value.trim();
  if (!conv) return;
  if (!words) { await back(); return; }
  const seq = ++loadSeq;
  try {
    const page = await api.messages({ with: conv, search: words, limit: MAX });
    if (seq !== loadSeq) return;
    searching = words;
    messages = page.messages;
    render(false);
    const n = messages.length;
    $('chat-search-note').textContent = n ? `${n} message${n === 1 ? '' : 's'} with “${words}”.` : `No message with “${words}”.`;
    $('chat-search-clear').hidden = false;
  } catch (err) {
    $('chat-error').textContent = err.message;
  }
}

async function back() {
  $('chat-search').value = '';
  $('chat-search-clear').hidden = true;
  $('chat-search-note').textContent = '';
  searching = '';
  await load();
}

export function init(say) {
  announce = say;
  $('chat-form').addEventListener('submit', send);
  $('chat-text').addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter starts a new line.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('chat-form').requestSubmit(); }
  });
  $('chat-search-form').addEventListener('submit', search);
  $('chat-call').addEventListener('click', () => { if (conv) calls.place(conv, false); });
  $('chat-video-call').addEventListener('click', () => { if (conv) calls.place(conv, true); });
  $('chat-group-call').addEventListener('click', () => { if (isGroup()) roomstart.startForGroup(conv.slice(6), false); });
  $('chat-group-video-call').addEventListener('click', () => { if (isGroup()) roomstart.startForGroup(conv.slice(6), true); });
  calls.subscribe(renderHeader);
  $('chat-search-clear').addEventListener('click', () => back().catch((err) => announce(err.message)));
  $('chat-older').addEventListener('click', () => {
    limit = Math.min(limit + PAGE, MAX);
    load(true).catch((err) => announce(err.message));
  });
  document.addEventListener('visibilitychange', () => { markRead().catch(() => {}); });
}

export function clear() {
  close();
  $('chat-title').textContent = '';
  $('chat-presence').replaceChildren();
  $('chat-text').value = '';
  $('chat-search').value = '';
  $('chat-search-note').textContent = '';
  $('chat-error').textContent = '';
}
