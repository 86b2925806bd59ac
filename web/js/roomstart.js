// Starting and joining group calls from the page (room.js runs them): the "Group call" panel of the
// contacts view (tick 2–5 contacts who are online; Start, or Start with video), the Group call buttons
// of a group's conversation (its members who are your contacts), and the recent group calls this
// page heard of that are over for you (missed, declined, left), each with "Join" through a
// participant who is online: their node answers at once if they are still in it, and the rosters
// bring the links to the others (docs/protocol/calls.md § Joining late).
import * as calls from './calls.js';
import { el } from './format.js';
import * as people from './people.js';
import * as room from './room.js';

const $ = (id) => document.getElementById(id);
const MIN = 2;
const MAX = 5; // a mesh of at most 6 people
const RECENT = 5; // recent group calls listed

let shown = false;

const ticked = () => [...$('room-start-people').querySelectorAll('input:checked')].map((i) => i.value);

function renderPicker() {
  const keep = new Set(ticked());
  const list = people.accepted().sort((x, y) => (y.online === true) - (x.online === true) || x.name.localeCompare(y.name));
  $('room-start-people').replaceChildren(...list.map((c) => {
    const id = 'room-pick-' + c.id;
    return el('li', {},
      el('input', { type: 'checkbox', id, value: c.id, checked: keep.has(c.id) && c.online, disabled: !c.online }),
      el('label', { for: id, class: 'inline' }, c.name, c.online ? '' : ' (offline)'));
  }));
  $('room-start-empty').hidden = list.some((c) => c.online);
  renderPickerButtons();
}

function pickerWhy() {
  const n = ticked().length;
  if (calls.busy()) return 'You are in a call: hang up first.';
  if (n < MIN) return `Tick at least ${MIN} contacts.`;
  if (n > MAX) return `At most ${MAX} contacts: a group call is at most ${MAX + 1} people.`;
  return '';
}

function renderPickerButtons() {
  const why = pickerWhy();
  for (const b of [$('room-start-call'), $('room-start-video')]) {
    b.disabled = !!why;
    b.title = why;
  }
}

async function startFromPicker(video) {
  const ids = ticked();
  if (pickerWhy()) return;
  if (await room.start(ids, video)) {
    for (const box of $('room-start-people').querySelectorAll('input:checked')) box.checked = false;
    $('room-start-details').open = false;
    renderPickerButtons();
  }
}

// ---- A group's conversation: its members who are your contacts ----

function groupCallees(g) {
  const me = people.identity();
  return g.members.map((m) => people.contact(m.id))
    .filter((c) => c && c.state === 'accepted' && (!me || c.id !== me.id));
}

export function renderGroupButtons(groupId) {
  const call = $('chat-group-call');
  const video = $('chat-group-video-call');
  const g = groupId ? people.group(groupId) : null;
  call.hidden = video.hidden = !g;
  if (!g) return;
  const callees = groupCallees(g);
  const online = callees.filter((c) => c.online);
  const why = calls.busy() ? 'You are in a call: hang up first.'
    : online.length < MIN ? `A group call needs at least ${MIN} of the group's members who are your contacts online (${online.length} now).`
      : online.length > MAX ? `More than ${MAX} of its members are online: choose up to ${MAX} under Contacts, Group call.` : '';
  const names = online.map((c) => c.name).join(', ');
  for (const [b, what] of [[call, 'Group call'], [video, 'Group video call']]) {
    b.disabled = !!why;
    b.title = why || `${what}: ${names}`;
    b.setAttribute('aria-label', `${what} with ${g.name}`);
    if (why) b.setAttribute('aria-description', why); else b.removeAttribute('aria-description');
  }
}

export async function startForGroup(groupId, video) {
  const g = people.group(groupId);
  if (!g) return;
  const ids = groupCallees(g).filter((c) => c.online).map((c) => c.id);
  if (ids.length < MIN || ids.length > MAX) return;
  await room.start(ids, video);
}

// ---- Recent group calls, over for you: Join ----

function recentRooms() {
  const rooms = new Map();
  for (const c of room.allCalls()) {
    const r = rooms.get(c.room) || { room: c.room, calls: [], newest: 0 };
    r.calls.push(c);
    r.newest = Math.max(r.newest, c.started_ms || 0);
    rooms.set(c.room, r);
  }
  const mine = room.myRoom();
  return [...rooms.values()]
    .filter((r) => r.room !== mine && r.calls.every((c) => c.state === 'ended'))
    .sort((x, y) => y.newest - x.newest).slice(0, RECENT);
}

function recentItem(r) {
  const me = people.identity();
  const ids = new Set([...r.calls.map((c) => c.contact.id), ...r.calls.flatMap((c) => c.roster || [])]);
  if (me) ids.delete(me.id);
  const names = [...ids].map((id) => room.personName(id));
  const missed = r.calls.some((c) => c.direction === 'incoming' && (c.end_reason || '').startsWith('missed'));
  const when = new Date(r.newest).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  // Through whom: a participant who is our contact and online (the others may have left).
  const via = [...ids].map((id) => people.contact(id)).find((c) => c && c.state === 'accepted' && c.online);
  const join = (video) => el('button', {
    type: 'button', class: video ? 'secondary' : '', disabled: calls.busy(),
    title: calls.busy() ? 'You are in a call: hang up first.' : `Join through ${via.name}`,
    'aria-label': `Join the group call with ${names.join(', ')}${video ? ', with video' : ''}`,
    onclick: () => room.join(via.id, r.room, video),
  }, video ? 'Join with video' : 'Join');
  return el('li', { class: 'room-recent', 'data-room': r.room },
    el('p', {}, `${missed ? 'Missed group call' : 'Group call'} with ${names.join(', ')} · ${when}`),
    via ? el('div', { class: 'actions' }, join(false), join(true))
      : el('p', { class: 'muted' }, 'Nobody of it is online now.'));
}

function renderRecent() {
  const list = recentRooms();
  $('room-recent-title').hidden = list.length === 0;
  $('room-recent').replaceChildren(...list.map(recentItem));
}

export function render() {
  if (!shown) return;
  renderPicker();
  renderRecent();
}

export function show(on) {
  shown = on;
  render();
}

export function init() {
  $('room-start-form').addEventListener('submit', (e) => { e.preventDefault(); startFromPicker(false); });
  $('room-start-video').addEventListener('click', () => startFromPicker(true));
  $('room-start-people').addEventListener('change', renderPickerButtons);
  calls.subscribe(() => { if (shown) { renderPickerButtons(); renderRecent(); } });
}

export function clear() {
  shown = false;
  $('room-start-people').replaceChildren();
  $('room-recent').replaceChildren();
  $('room-recent-title').hidden = true;
  $('room-start-details').open = false;
}
