// Group calls (docs/protocol/calls.md § Group calls, docs/api.md § Calls): a room is a full mesh of
// ordinary calls sharing a `room`, one per pair of participants, so this page runs one Peer
// (peer.js) per live call of the room it is in, all on one microphone/camera stream. It is a module
// of its own because calls.js follows one call, while a room is a set of calls that grows (the node
// places and answers `link` calls as the rosters name new participants) and shrinks (people leave).
// A page is *in* a room once it started the group call, answered a ringing call of it or joined it
// late; from then on it takes up every new call of that room: for a call it placed (direction
// outgoing: the starter's calls, a join, a `link` call) it offers once the call is `connecting`, for
// one answered (by this page, or at once by the node) it waits for the offer. Other open pages of the
// node only show the room. The panel is roompanel.js; starting and joining from the page, roomstart.js.
import { ApiError, api, plain } from './api.js';
import { getCamera, getMedia, stopStream } from './media.js';
import { Peer } from './peer.js';
import * as people from './people.js';

const LIVE = new Set(['calling', 'connecting', 'active']);
const KEEP = 200; // room calls remembered (the node keeps its last 100 calls of any kind)

let announce = () => {};
let note = () => {};
let changed = () => {};
const calls = new Map(); // call id -> the newest object of every room call this page heard of
// This page's part in a room, or null: {room (null until the node named it), local, muted,
// cameraOff, peers: Map(call id -> Peer), errors: Map(call id -> text), seen, since}
let mine = null;
let last = null; // the room this page was last in, once it ended: {room, ended}

export const LIVE_STATES = LIVE;
export const myRoom = () => (mine ? mine.room : null);
export const inRoom = () => !!mine;
export const local = () => (mine ? mine.local : null);
export const muted = () => !!(mine && mine.muted);
export const cameraOff = () => !!(mine && mine.cameraOff);
export const peer = (callId) => (mine ? mine.peers.get(callId) || null : null);
export const peerError = (callId) => (mine ? mine.errors.get(callId) || '' : '');
export const activeSince = () => (mine ? mine.since : 0);
export const lastRoom = () => last;
export const allCalls = () => [...calls.values()];
export const roomCalls = (room) => allCalls().filter((c) => c.room === room);

// Whether a group call is under way on this node (any page): new calls wait.
export const busy = () => !!mine || [...calls.values()].some((c) => LIVE.has(c.state) || c.state === 'ringing');

function nameOf(id, fallback) {
  const c = people.contact(id);
  if (c) return c.name;
  if (fallback) return fallback;
  for (const g of people.allGroups()) {
    const m = g.members.find((x) => x.id === id);
    if (m && m.name) return m.name;
  }
  return id.slice(0, 8);
}
export const callName = (call) => nameOf(call.contact.id, call.contact.name);
export const personName = (id) => nameOf(id);

function remember(call) {
  calls.set(call.id, call);
  if (calls.size <= KEEP) return;
  for (const [id, c] of calls) {
    if (c.state === 'ended' && (!mine || c.room !== mine.room)) { calls.delete(id); if (calls.size <= KEEP) return; }
  }
}

// The group call ringing here, if any (a room this page is not in): {room, calls, from, with, video}.
export function invitation() {
  const ringing = [...calls.values()].filter((c) => c.state === 'ringing' && !c.link && (!mine || c.room !== mine.room));
  if (!ringing.length) return null;
  const room = ringing[0].room;
  const these = ringing.filter((c) => c.room === room);
  const inviters = new Set(these.map((c) => c.contact.id));
  const others = new Set(these.flatMap((c) => c.roster || []).filter((id) => !inviters.has(id) && !isMe(id)));
  return {
    room,
    calls: these,
    from: these.map(callName).join(' and '),
    with: [...others].map((id) => nameOf(id)),
    video: these.some((c) => c.video),
  };
}

const isMe = (id) => { const me = people.identity(); return !!me && me.id === id; };

// ---- This page's part in the room: one Peer per live call ----

function enter(room, stream, video) {
  mine = { room, local: stream, video: !!video, muted: false, cameraOff: false, peers: new Map(),
    errors: new Map(), seen: false, since: 0 };
  last = null;
}

function hooks() {
  return {
    onTrack: () => changed(),
    onChange: () => changed(),
    onFailed: (reason, p) => { if (mine) mine.errors.set(p.id, `failed: ${reason}`); changed(); },
    onError: (message, p) => { if (mine) mine.errors.set(p.id, plain(message)); changed(); },
  };
}

// Takes up every live call of our room that has no peer yet; lets go of the ended ones. Once every
// call of the room has ended (everyone left, or we did), this page is out of it.
function sync() {
  if (!mine || !mine.room) return;
  let anyLive = false;
  for (const c of calls.values()) {
    if (c.room !== mine.room) continue;
    let p = mine.peers.get(c.id);
    if (LIVE.has(c.state)) {
      anyLive = true;
      if (!p) {
        p = new Peer(c.id, c.direction === 'outgoing', mine.local, hooks());
        mine.peers.set(c.id, p);
        // Answered (here or at once by the node): an offer may have come already.
        if (!p.outgoing && c.state !== 'calling') p.catchUp();
      }
      if (c.state !== 'calling') p.start(); // the side that placed the call offers (once)
      if (c.state === 'active' && !mine.since) mine.since = Date.now();
    } else if (c.state === 'ended' && p) {
      p.close();
      mine.peers.delete(c.id);
    }
  }
  if (anyLive) mine.seen = true;
  else if (mine.seen) finish('The group call ended.');
}

// Out of the room: the microphone and camera are released, every peer closed.
function finish(text) {
  if (!mine) return;
  for (const p of mine.peers.values()) p.close();
  stopStream(mine.local);
  last = mine.room ? { room: mine.room, ended: Date.now() } : null;
  mine = null;
  if (text) announce(text);
}

export function update(call) {
  if (call.state === 'ended' && call.replaced_by && !calls.has(call.replaced_by)) {
    // Glare: the node answered the contact's call in this one's place; it runs as the answered side.
    remember({ ...call, id: call.replaced_by, state: 'connecting', direction: 'incoming', end_reason: '' });
  }
  const before = calls.get(call.id);
  remember(call);
  if (call.state === 'ended' && call.direction === 'incoming' && !call.link && (call.end_reason || '').startsWith('missed')
      && (!before || before.state !== 'ended')) {
    announce(`Missed group call from ${callName(call)}.`);
  }
  sync();
  changed();
}

// A call.signal for a call of our room (true), or for none this page runs (false).
export function signal(callId, s) {
  const p = peer(callId);
  if (!p) return false; // a call not taken up yet fetches its signals when it is
  p.signal(s);
  return true;
}

// The event stream (re)connected: the node's room calls (live and history) replace ours.
export function refresh(list) {
  for (const c of list) remember(c);
  sync();
  if (mine) for (const p of mine.peers.values()) if (p.pc) p.catchUp();
  changed();
}

// ---- Starting, answering, joining, leaving ----

async function media(video, what) {
  try {
    return await getMedia(video);
  } catch (e) {
    note(`${what}: ${e.message}`);
    return null;
  }
}

function idOf(x) { return typeof x === 'string' ? x : x && x.id ? x.id : String(x); }

// A group call with `ids` (2–5 accepted contacts): a fresh room, one call to each reachable one.
export async function start(ids, video) {
  if (busy()) { note('You are in a call already: hang up first.'); return false; }
  note('');
  const stream = await media(video, 'Cannot start the group call');
  if (!stream) return false;
  enter(null, stream, video); // calls of the room reported before the node's answer wait in `calls`
  changed();
  let r;
  try {
    r = await api.startGroupCall(ids, video);
  } catch (e) {
    finish('');
    note(e instanceof ApiError && e.code === 'calls.not_reachable'
      ? 'Nobody you chose is reachable now: they are offline.' : `Cannot start the group call: ${plain(e.message)}`);
    changed();
    return false;
  }
  if (!mine) return false;
  mine.room = r.room;
  for (const c of r.calls || []) if (!calls.has(c.id)) remember(c);
  const unreachable = (r.unreachable || []).map((u) => nameOf(idOf(u.contact)));
  if (unreachable.length) note(`Not reachable now (offline): ${unreachable.join(', ')}.`);
  sync();
  changed();
  return true;
}

// Joins `room` late through `contactId`, one of its participants, whose node answers at once.
export async function join(contactId, room, video) {
  if (busy()) { note('You are in a call already: hang up first.'); return false; }
  note('');
  const stream = await media(video, 'Cannot join the group call');
  if (!stream) return false;
  enter(room, stream, video);
  changed();
  try {
    const call = await api.joinRoom(contactId, room, video);
    if (mine && mine.room === room && !calls.has(call.id)) remember(call);
  } catch (e) {
    finish('');
    note(e instanceof ApiError && e.code === 'calls.not_reachable'
      ? `${nameOf(contactId)} is not reachable now: they are offline.` : `Cannot join the group call: ${plain(e.message)}`);
    changed();
    return false;
  }
  sync();
  changed();
  return true;
}

// Invites `contactId` into our room (the same route as joining: their node rings, as the starter's
// invitations do, unless they are in the room already).
export async function invite(contactId) {
  if (!mine || !mine.room) return false;
  note('');
  try {
    const call = await api.joinRoom(contactId, mine.room, mine.video);
    if (!calls.has(call.id)) remember(call);
  } catch (e) {
    note(e instanceof ApiError && e.code === 'calls.not_reachable'
      ? `${nameOf(contactId)} is not reachable now: they are offline.` : `Cannot invite ${nameOf(contactId)}: ${plain(e.message)}`);
    return false;
  }
  sync();
  changed();
  return true;
}

// Answers the group call ringing here (the node answers its other ringing calls of the room too).
export async function accept(video) {
  const invite = invitation();
  if (!invite || mine) return;
  const stream = await media(video, 'Cannot join the group call');
  if (!stream) return;
  const still = invitation();
  if (!still || still.room !== invite.room) { stopStream(stream); return; }
  enter(invite.room, stream, video);
  changed();
  try {
    const call = await api.answerCall(still.calls[0].id);
    if (call && call.id && calls.get(call.id) && calls.get(call.id).state === 'ringing') remember(call);
  } catch (e) {
    finish('');
    note(`Could not answer: ${plain(e.message)}`);
    changed();
    return;
  }
  sync();
  changed();
}

export async function decline() {
  const invite = invitation();
  if (!invite) return;
  await Promise.all(invite.calls.map((c) => api.hangupCall(c.id)));
}

// Leaves the room: the node hangs up every call of it; this page lets go at once.
export async function leave(room) {
  const target = room || (mine && mine.room);
  if (!target) return;
  try {
    await api.leaveRoom(target);
  } finally {
    if (mine && mine.room === target) finish('You left the group call.');
    changed();
  }
}

// ---- Mute and camera: for every link at once (one shared stream) ----

export function toggleMute() {
  if (!mine) return;
  mine.muted = !mine.muted;
  for (const t of mine.local.getAudioTracks()) t.enabled = !mine.muted;
  changed();
}

export async function toggleCamera() {
  if (!mine) return;
  const tracks = mine.local.getVideoTracks();
  if (tracks.length) {
    mine.cameraOff = !mine.cameraOff;
    for (const t of tracks) t.enabled = !mine.cameraOff;
    changed();
    return;
  }
  // An audio group call: the camera comes in with a new offer on every link (later links get it
  // with their first offer or answer).
  const cam = await getCamera();
  if (!mine) { stopStream(cam); return; }
  const track = cam.getVideoTracks()[0];
  mine.local.addTrack(track);
  mine.video = true;
  mine.cameraOff = false;
  for (const p of mine.peers.values()) if (p.pc) p.addTrack(track);
  changed();
}

export function init(say, noteFn, onChange) {
  announce = say;
  note = noteFn;
  changed = onChange;
  // Closing or reloading the page leaves the room (the others' calls with us end at once).
  window.addEventListener('pagehide', () => { if (mine && mine.room) api.leaveRoomOnClose(mine.room); });
}

// Logged out: this page leaves its room, and forgets every room call.
export function clear() {
  if (mine && mine.room) api.leaveRoomOnClose(mine.room);
  finish('');
  last = null;
  calls.clear();
}
