// The group call panel (#room-panel): one tile per participant (name, the state of our call with
// them, their audio level and "talking", their video if they send it, and the <audio> that plays
// them), who the rosters name that we have no call with (not our contact: no channel to reach them),
// mute and camera for every link at once, the timer, Leave. The page in the room shows its media;
// other pages of the node show the participants and states only. room.js holds the state; calls.js
// calls `render()` after every change. Names and rosters come from peers: only ever set as text.
import { plain } from './api.js';
import { el } from './format.js';
import * as people from './people.js';
import * as room from './room.js';

const $ = (id) => document.getElementById(id);
const STATS_MS = 500;
const MAX_CALLS = 5; // a node's calls in one room (6 people)
const ENDED_SHOWN_MS = 10000; // "the group call ended" stays this long (or until closed)
const TALKING = 0.02; // audioLevel (linear) above which someone is talking

const tiles = new Map(); // contact id -> {li, name, state, meter, talking, video, audio, callId, tracks}
const levels = new Map(); // call id -> the contact's audio level, from getStats
let localLevel = 0;
let statsTimer = null;
let clockTimer = null;
let closedRoom = null; // the ended room whose panel the user closed
let shownRoom = null;

// What the panel shows: this page's room, a room another page of the node runs, or the room this
// page just left (for a while). {room, mine, ended}, or null.
function target() {
  if (room.inRoom()) return { room: room.myRoom(), mine: true, ended: false };
  const live = room.allCalls().find((c) => room.LIVE_STATES.has(c.state));
  if (live) return { room: live.room, mine: false, ended: false };
  const last = room.lastRoom();
  if (last && last.room !== closedRoom && Date.now() - last.ended < ENDED_SHOWN_MS) return { room: last.room, mine: false, ended: true };
  return null;
}

// Per contact, the newest of our calls with them in the room (a live one first).
function participants(calls) {
  const by = new Map();
  for (const c of calls) {
    const old = by.get(c.contact.id);
    const better = !old || (room.LIVE_STATES.has(c.state) && !room.LIVE_STATES.has(old.state))
      || (room.LIVE_STATES.has(c.state) === room.LIVE_STATES.has(old.state) && c.started_ms > old.started_ms);
    if (better) by.set(c.contact.id, c);
  }
  return [...by.values()].sort((x, y) => room.callName(x).localeCompare(room.callName(y)));
}

function endShort(c) {
  const r = c.end_reason || '';
  if (r === 'declined') return 'declined';
  if (r.startsWith('busy')) return 'busy: in another call';
  if (r === 'no answer' || r.startsWith('missed')) return 'did not answer';
  if (r === 'the other side hung up') return 'left';
  if (r === 'hung up' || r === 'cancelled') return 'you left';
  return r || 'ended';
}

function stateOf(c, mine) {
  const p = mine ? room.peer(c.id) : null;
  const err = mine ? room.peerError(c.id) : '';
  let text;
  switch (c.state) {
    case 'calling': text = c.remote_ringing ? 'ringing…' : c.link ? 'connecting…' : 'calling…'; break;
    case 'ringing': text = 'invites you'; break;
    case 'connecting': text = 'connecting…'; break;
    case 'active':
      text = p && p.pc && p.pc.connectionState === 'disconnected' ? 'reconnecting…' : 'connected';
      break;
    default: text = endShort(c);
  }
  return err && c.state !== 'ended' ? `${text} (${err})` : text;
}

function tileFor(c) {
  let t = tiles.get(c.contact.id);
  if (t) return t;
  const name = room.callName(c);
  t = {
    li: null, callId: '', tracks: 0,
    name: el('strong', { class: 'person-name' }, name),
    state: el('span', { class: 'muted room-state' }),
    meter: el('meter', { min: '0', max: '1', low: '0.1', value: '0', 'aria-label': `${name}'s level` }),
    talking: el('span', { class: 'talking', 'aria-live': 'off' }),
    video: el('video', { class: 'remote', autoplay: true, playsinline: true, hidden: true, 'aria-label': `${name}'s video` }),
    audio: el('audio', { autoplay: true }),
  };
  t.li = el('li', { class: 'participant', 'data-contact': c.contact.id },
    t.video, el('p', {}, t.name, ' ', t.state), el('p', { class: 'call-levels' }, t.meter, ' ', t.talking), t.audio);
  tiles.set(c.contact.id, t);
  return t;
}

// The tile's <audio> and <video> play what the peer of its call receives.
function attach(t, c, mine) {
  if (t.callId !== c.id) {
    t.callId = c.id;
    t.tracks = 0;
    t.audio.srcObject = null;
    t.video.srcObject = null;
    t.video.hidden = true;
  }
  const p = mine && room.LIVE_STATES.has(c.state) ? room.peer(c.id) : null;
  if (!p) {
    if (t.audio.srcObject) { t.audio.srcObject = null; t.video.srcObject = null; t.video.hidden = true; t.tracks = 0; }
    return;
  }
  const n = p.remote.getTracks().length;
  if (n === t.tracks) return;
  t.tracks = n;
  t.audio.srcObject = p.remote;
  t.audio.play().catch(() => {});
  const video = p.remote.getVideoTracks();
  if (video.length) {
    t.video.srcObject = new MediaStream(video);
    t.video.hidden = false;
  }
}

// Kith IDs the rosters name that we have no live call with: {id, text}.
function missing(calls) {
  const me = people.identity();
  const withCall = new Set(calls.filter((c) => room.LIVE_STATES.has(c.state)).map((c) => c.contact.id));
  const named = new Set(calls.filter((c) => room.LIVE_STATES.has(c.state)).flatMap((c) => c.roster || []));
  const out = [];
  for (const id of named) {
    if (withCall.has(id) || (me && id === me.id)) continue;
    const c = people.contact(id);
    const why = c && c.state === 'accepted' ? (c.online ? 'your contact, not connected to you yet' : 'your contact, offline to you')
      : 'not your contact: you do not hear each other';
    out.push(`${room.personName(id)} (${why})`);
  }
  return out;
}

function panelState(calls, t) {
  if (t.ended) return 'ended';
  if (!t.room) return 'starting';
  for (const s of ['active', 'connecting', 'calling']) if (calls.some((c) => c.state === s)) return s;
  return 'ended';
}

export function render() {
  const t = target();
  $('room-panel').hidden = !t;
  if (!t) { reset(); return; }
  if (shownRoom !== t.room) { reset(); shownRoom = t.room; }
  const calls = t.room ? room.roomCalls(t.room) : [];
  const state = panelState(calls, t);
  $('room-panel').dataset.state = state;
  $('room-panel').dataset.room = t.room || '';
  const video = calls.some((c) => c.video);
  $('room-title').textContent = `Group call${video ? ' (video)' : ''}`;
  const live = calls.filter((c) => room.LIVE_STATES.has(c.state));
  const n = live.length;
  $('room-state').textContent = t.ended ? 'The group call ended.'
    : !t.mine ? `In a group call with ${n} ${n === 1 ? 'person' : 'people'} in another window or device`
      : state === 'starting' ? 'Starting the group call…'
        : state === 'active' ? `In a group call with ${n} ${n === 1 ? 'person' : 'people'}` : 'Calling…';
  const list = participants(calls);
  const keep = new Set(list.map((c) => c.contact.id));
  for (const [id, tile] of tiles) if (!keep.has(id)) { tile.audio.srcObject = null; tile.video.srcObject = null; tiles.delete(id); }
  const items = list.map((c) => {
    const tile = tileFor(c);
    tile.name.textContent = room.callName(c);
    tile.state.textContent = stateOf(c, t.mine);
    tile.li.dataset.state = c.state;
    tile.li.dataset.call = c.id;
    attach(tile, c, t.mine);
    const measured = t.mine && c.state === 'active';
    tile.meter.hidden = tile.talking.hidden = !measured;
    if (!measured) { levels.delete(c.id); tile.li.classList.remove('is-talking'); tile.talking.textContent = ''; }
    return tile.li;
  });
  // Tiles move only when the list changes (their <audio> and <video> keep playing).
  const now = [...$('room-people').children];
  if (now.length !== items.length || items.some((li, i) => now[i] !== li)) $('room-people').replaceChildren(...items);
  const absent = t.ended ? [] : missing(calls);
  $('room-missing').textContent = absent.length ? `Also in the call: ${absent.join('; ')}.` : '';
  $('room-media').hidden = !t.mine;
  $('room-leave').hidden = t.ended;
  $('room-close').hidden = !t.ended;
  $('room-timer').hidden = state !== 'active';
  if (t.mine) { renderMedia(); renderInvite(live); }
  if (t.ended) $('room-error').textContent = '';
  if (!clockTimer) clockTimer = setInterval(tick, 1000);
  tick();
  if (t.mine && !statsTimer) statsTimer = setInterval(() => sample().catch(() => {}), STATS_MS);
  if (!t.mine && statsTimer) { clearInterval(statsTimer); statsTimer = null; }
}

function renderMedia() {
  const stream = room.local();
  const hasVideo = !!stream && stream.getVideoTracks().length > 0;
  const muted = room.muted();
  $('room-mute').setAttribute('aria-pressed', String(muted));
  $('room-mute').textContent = muted ? 'Unmute' : 'Mute';
  $('room-camera').setAttribute('aria-pressed', String(hasVideo && !room.cameraOff()));
  $('room-camera').textContent = !hasVideo ? 'Turn camera on' : room.cameraOff() ? 'Camera on' : 'Camera off';
  const preview = $('room-local-video');
  if (hasVideo && preview.srcObject !== stream) preview.srcObject = stream;
  preview.hidden = !hasVideo || room.cameraOff();
}

function tick() {
  const t = target();
  if (!t) { if (!$('room-panel').hidden) render(); return; } // the ended panel's time is over
  if (!t.room) return;
  const active = room.roomCalls(t.room).filter((c) => c.state === 'active');
  const since = t.mine && room.activeSince() ? room.activeSince()
    : active.length ? Math.min(...active.map((c) => c.connected_ms || Date.now())) : 0;
  if (!since) return;
  const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
  const pad = (x) => String(x).padStart(2, '0');
  $('room-timer').textContent = s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
    : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

// Contacts who are online and not in the call (while there is room for them).
function renderInvite(live) {
  const form = $('room-invite-form');
  const inCall = new Set(live.map((c) => c.contact.id));
  const list = room.myRoom() && live.length < MAX_CALLS
    ? people.accepted().filter((c) => c.online && !inCall.has(c.id)).sort((x, y) => x.name.localeCompare(y.name)) : [];
  form.hidden = list.length === 0;
  const select = $('room-invite-who');
  const keep = select.value;
  const now = [...select.options].map((o) => o.value).join();
  if (now !== list.map((c) => c.id).join()) {
    select.replaceChildren(...list.map((c) => el('option', { value: c.id }, c.name)));
    if (list.some((c) => c.id === keep)) select.value = keep;
  }
}

// Audio levels per link (each peer connection carries one participant), and ours.
async function sample() {
  if (!room.inRoom()) return;
  const calls = room.roomCalls(room.myRoom()).filter((c) => c.state === 'active');
  let mineLevel = null;
  await Promise.all(calls.map(async (c) => {
    const p = room.peer(c.id);
    if (!p || !p.pc) return;
    const report = await p.pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.audioLevel !== undefined) levels.set(c.id, s.audioLevel);
      if (s.type === 'media-source' && s.kind === 'audio' && s.audioLevel !== undefined) mineLevel = s.audioLevel;
    });
  }));
  localLevel = room.muted() ? 0 : mineLevel || 0;
  $('room-level-local').value = Math.min(1, Math.sqrt(localLevel)); // audioLevel is linear; sqrt reads better
  for (const tile of tiles.values()) {
    const v = levels.get(tile.callId) || 0;
    tile.meter.value = Math.min(1, Math.sqrt(v));
    tile.talking.textContent = v > TALKING ? 'talking' : '';
    tile.li.classList.toggle('is-talking', v > TALKING);
  }
}

function reset() {
  for (const tile of tiles.values()) { tile.audio.srcObject = null; tile.video.srcObject = null; }
  tiles.clear();
  levels.clear();
  $('room-people').replaceChildren();
  $('room-local-video').srcObject = null;
  $('room-invite-who').replaceChildren();
  $('room-invite-form').hidden = true;
  $('room-error').textContent = '';
  if (statsTimer) { clearInterval(statsTimer); statsTimer = null; }
  if (clockTimer && !target()) { clearInterval(clockTimer); clockTimer = null; }
  shownRoom = null;
}

export function showError(text) { $('room-error').textContent = plain(text); }

export function init() {
  $('room-mute').addEventListener('click', () => room.toggleMute());
  $('room-camera').addEventListener('click', () => room.toggleCamera().catch((e) => showError(e.message)));
  $('room-leave').addEventListener('click', () => {
    const r = $('room-panel').dataset.room;
    if (r) room.leave(r).catch((e) => showError(e.message));
  });
  $('room-invite-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const who = $('room-invite-who').value;
    if (who) room.invite(who).catch((err) => showError(err.message));
  });
  $('room-close').addEventListener('click', () => { closedRoom = $('room-panel').dataset.room; render(); });
}

export function clear() {
  reset();
  closedRoom = null;
  if (clockTimer) { clearInterval(clockTimer); clockTimer = null; }
  $('room-panel').hidden = true;
  for (const id of ['room-state', 'room-timer', 'room-missing', 'room-error']) $(id).textContent = '';
}
