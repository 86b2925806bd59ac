// Calls (docs/api.md § Calls): the node carries the signalling; this page is a local media endpoint
// with its own RTCPeerConnection (peer.js: offer, answer, candidates, /connected, /failed). The page
// that places a call, or answers it, runs its media; every other open page of the node only shows it
// (ringing, or "in a call elsewhere") and stops ringing once one device answers. A call that lost a
// glare names the call that replaced it (`replaced_by`): this page follows it as the answering side.
// This module also owns the incoming-call banner, for group call invitations too; the calls of a
// group call (`room`) go to room.js, which runs their mesh.
import { ApiError, api, plain } from './api.js';
import { el } from './format.js';
import { getCamera, getMedia, stopStream } from './media.js';
import { Peer } from './peer.js';
import * as people from './people.js';
import * as ring from './ring.js';
import * as room from './room.js';
import * as roompanel from './roompanel.js';

const $ = (id) => document.getElementById(id);
export const EVENTS = ['call.updated', 'call.signal'];
const STATS_MS = 500; // levels, quality
const ENDED_SHOWN_MS = 10000; // "call ended" stays this long (or until closed)

let announce = () => {};
let live = null; // the node's call shown (any page's), or null
let ep = null; // this page's endpoint: {id, peer, local, video, muted, ...}, or null
let endedTimer = null;
let endedFor = null; // the ended call the timer is for
let statsTimer = null;
let clockTimer = null;
let listeners = new Set();

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function changed() { for (const fn of listeners) fn(); }

// Whether a call (or a group call) is under way on this node (any page or `kith call`): new calls wait.
export const busy = () => (!!live && live.state !== 'ended') || room.busy();

function nameOf(call) {
  const c = people.contact(call.contact.id);
  return c ? c.name : call.contact.name || call.contact.id.slice(0, 8);
}

function endText(call) {
  const who = nameOf(call);
  const r = call.end_reason || '';
  if (r === 'declined') return `${who} declined the call.`;
  if (r.startsWith('busy')) return `${who} is busy: in another call.`;
  if (r === 'no answer') return `${who} did not answer.`;
  if (r === 'the other side hung up') return `${who} hung up.`;
  if (r === 'hung up') return 'You hung up.';
  if (r === 'cancelled') return 'Call cancelled.';
  return `Call ended: ${r || 'no reason given'}.`;
}

// ---- The endpoint ----

// This page's endpoint for `call`: its Peer (peer.js) and what the panel shows of it.
function newEndpoint(call, outgoing, video, local) {
  const mine = { id: call.id, local, video, muted: false, cameraOff: false, activeSince: 0, prev: null,
    stats: null, devicesFor: '', peer: null };
  mine.peer = new Peer(call.id, outgoing, local, {
    onTrack: (track) => {
      if (ep !== mine) return;
      if (track.kind === 'video') {
        const v = $('call-remote-video');
        v.srcObject = new MediaStream(mine.peer.remote.getVideoTracks());
        v.hidden = false;
        track.onunmute = () => { v.hidden = false; };
      }
      const a = $('call-remote-audio');
      a.srcObject = mine.peer.remote;
      a.play().catch(() => {});
    },
    onChange: () => { if (ep === mine) renderPanel(); },
    onFailed: (reason) => { if (ep === mine) showError(`The call failed: ${reason}.`); },
    onError: (message) => { if (ep === mine) showError(plain(message)); },
  });
  return mine;
}

function teardown() {
  if (!ep) return;
  ep.peer.close();
  stopStream(ep.local);
  ep = null;
  for (const id of ['call-remote-audio', 'call-remote-video', 'call-local-video']) $(id).srcObject = null;
  if (statsTimer) { clearInterval(statsTimer); statsTimer = null; }
}

// ---- Placing, answering, hanging up ----

export async function place(contactId, video) {
  const c = people.contact(contactId);
  const who = c ? c.name : contactId.slice(0, 8);
  if (busy()) { showNote(`You are in a call already: hang up first.`); return; }
  showError('');
  showNote('');
  let local;
  try {
    local = await getMedia(video);
  } catch (e) {
    showNote(`Cannot call ${who}: ${e.message}`);
    return;
  }
  let call;
  try {
    call = await api.placeCall(contactId, video);
  } catch (e) {
    stopStream(local);
    showNote(e instanceof ApiError && e.code === 'calls.not_reachable'
      ? `${who} is not reachable now: they are offline.` : `Cannot call ${who}: ${plain(e.message)}`);
    return;
  }
  ep = newEndpoint(call, true, !!video, local);
  // Events may have told newer news of this call (ringing, answered) before this answer came.
  update(live && live.id === call.id ? live : call);
}

async function accept(video) {
  const call = live;
  if (!call || call.state !== 'ringing') return;
  ring.stop();
  let local;
  try {
    local = await getMedia(video);
  } catch (e) {
    showError(e.message);
    return;
  }
  if (!live || live.id !== call.id || live.state !== 'ringing') { stopStream(local); return; }
  ep = newEndpoint(call, false, !!video, local);
  try {
    await ep.peer.ensure();
    await api.answerCall(call.id);
  } catch (e) {
    teardown();
    showError(`Could not answer: ${plain(e.message)}`);
    return;
  }
  if (live && live.id === call.id && live.state === 'ringing') live = { ...live, state: 'connecting' };
  render();
  ep.peer.catchUp(); // an offer that came before this page knew the call was its own
}

export async function hangup() {
  if (!live) return;
  const id = live.id;
  try {
    await api.hangupCall(id);
  } catch (e) {
    showError(plain(e.message));
  }
}

// ---- Node events ----

function update(call) {
  if (ep && call.id === ep.id && call.state === 'ended' && call.replaced_by) {
    // Glare: both called at once; the node already answered the contact's call in its place.
    const local = ep.local;
    const video = ep.video;
    ep.peer.close();
    ep = newEndpoint({ id: call.replaced_by }, false, video, local);
    live = { ...call, id: call.replaced_by, state: 'connecting', direction: 'incoming', end_reason: '' };
    ep.peer.catchUp();
    render();
    return;
  }
  if (live && call.id !== live.id && live.state !== 'ended' && call.state === 'ended') {
    // Another call ended while this one goes on (one we missed for being in this call): history only.
    if (call.direction === 'incoming' && call.end_reason.startsWith('missed')) announce(`Missed call from ${nameOf(call)}.`);
    return;
  }
  live = call;
  ringIfAsked();
  if (ep && call.id === ep.id) {
    if (call.state === 'connecting') ep.peer.start(); // the caller's side offers (once)
    if (call.state === 'active' && !ep.activeSince) ep.activeSince = Date.now();
    if (call.state === 'ended') {
      teardown();
      announce(endText(call));
    }
  } else if (call.state === 'ended' && call.direction === 'incoming' && call.end_reason.startsWith('missed')) {
    announce(`Missed call from ${nameOf(call)}.`);
  }
  render();
}

export function onEvent(type, data) {
  if (type === 'call.updated' && data.call) {
    if (!data.call.room) { update(data.call); return; }
    room.update(data.call); // renders
    ringIfAsked();
  } else if (type === 'call.signal' && data.signal) {
    if (ep && data.call_id === ep.id) ep.peer.signal(data.signal);
    else room.signal(data.call_id, data.signal);
  }
}

// The event stream (re)connected: events are not replayed, so read the node's calls again.
export async function refresh() {
  const { calls } = await api.calls();
  const single = calls.filter((c) => !c.room);
  const current = single.find((c) => c.state !== 'ended');
  if (current) update(current);
  else if (live && live.state !== 'ended') {
    const mine = single.find((c) => c.id === live.id);
    if (mine) update(mine);
  }
  if (ep && ep.peer.pc) ep.peer.catchUp();
  room.refresh(calls.filter((c) => c.room));
  ringIfAsked();
  render();
}

// ---- Ringing: a call between two people, or an invitation to a group call ----

function ringIfAsked() {
  if (live && live.state === 'ringing') {
    ring.start(live.id, `${nameOf(live)} is calling`, live.video ? 'Video call' : 'Call');
    return;
  }
  const invite = room.invitation();
  if (invite) ring.start('room:' + invite.room, `${invite.from} invites you to a group call`, invite.video ? 'Video call' : 'Call');
  else ring.stop();
}

// The banner's buttons answer whichever rings: the call, or the group call.
async function acceptAny(video) {
  if (live && live.state === 'ringing') { await accept(video); return; }
  ring.stop();
  await room.accept(video);
}

function declineAny() {
  if (live && live.state === 'ringing') { hangup(); return; }
  room.decline().catch((e) => showError(plain(e.message)));
}

// ---- In the call: mute, camera, devices ----

function toggleMute() {
  if (!ep) return;
  ep.muted = !ep.muted;
  for (const t of ep.local.getAudioTracks()) t.enabled = !ep.muted;
  renderPanel();
}

async function toggleCamera() {
  if (!ep) return;
  const tracks = ep.local.getVideoTracks();
  if (tracks.length) {
    ep.cameraOff = !ep.cameraOff;
    for (const t of tracks) t.enabled = !ep.cameraOff;
    renderPanel();
    return;
  }
  // An audio call: the camera comes in with a new offer.
  let cam;
  try {
    cam = await getCamera();
  } catch (e) {
    showError(e.message);
    return;
  }
  if (!ep || !ep.peer.pc) { stopStream(cam); return; }
  const track = cam.getVideoTracks()[0];
  ep.local.addTrack(track);
  ep.video = true;
  ep.cameraOff = false;
  ep.peer.addTrack(track);
  renderPanel();
}

async function listDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (select, kind, currentTrack) => {
    const list = devices.filter((d) => d.kind === kind);
    const current = currentTrack ? currentTrack.getSettings().deviceId : '';
    select.replaceChildren(...list.map((d, i) =>
      el('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${kind} ${i + 1}`)));
    return list.length;
  };
  if (!ep) return;
  const video = ep.local.getVideoTracks()[0];
  $('call-mic').closest('label').hidden = fill($('call-mic'), 'audioinput', ep.local.getAudioTracks()[0]) < 2;
  $('call-camera').closest('label').hidden = fill($('call-camera'), 'videoinput', video) < 2 || !video;
}

async function switchDevice(kind, deviceId) {
  if (!ep) return;
  const mineNow = ep;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ [kind]: { deviceId: { exact: deviceId } } });
  } catch (e) {
    showError(`Cannot use that device: ${e.message}`);
    return;
  }
  if (ep !== mineNow) { stopStream(stream); return; }
  const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
  const old = kind === 'audio' ? ep.local.getAudioTracks()[0] : ep.local.getVideoTracks()[0];
  track.enabled = kind === 'audio' ? !ep.muted : !ep.cameraOff;
  const s = old && ep.peer.pc ? ep.peer.pc.getSenders().find((x) => x.track === old) : null;
  if (s) await s.replaceTrack(track);
  if (old) { ep.local.removeTrack(old); old.stop(); }
  ep.local.addTrack(track);
  renderPanel();
}

// ---- Connection quality and levels (getStats) ----

async function sampleStats() {
  const mineNow = ep;
  if (!mineNow || !mineNow.peer.pc) return;
  const report = await mineNow.peer.pc.getStats();
  if (ep !== mineNow) return;
  const now = performance.now();
  let rtt = null; let lost = 0; let received = 0; let bytesIn = 0; let bytesOut = 0;
  let localLevel = null; let remoteLevel = null; const codecs = [];
  let framesDecoded = 0;
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  report.forEach((s) => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && s.currentRoundTripTime !== undefined) {
      rtt = s.currentRoundTripTime;
    } else if (s.type === 'inbound-rtp') {
      lost += s.packetsLost || 0;
      received += s.packetsReceived || 0;
      bytesIn += s.bytesReceived || 0;
      if (s.kind === 'audio' && s.audioLevel !== undefined) remoteLevel = s.audioLevel;
      if (s.kind === 'video') framesDecoded += s.framesDecoded || 0;
      const codec = s.codecId && byId.get(s.codecId);
      if (codec && codec.mimeType) codecs.push(codec.mimeType.split('/')[1]);
    } else if (s.type === 'outbound-rtp') {
      bytesOut += s.bytesSent || 0;
    } else if (s.type === 'media-source' && s.kind === 'audio' && s.audioLevel !== undefined) {
      localLevel = s.audioLevel;
    }
  });
  const prev = mineNow.prev;
  mineNow.prev = { now, bytesIn, bytesOut };
  const rate = (cur, old) => (prev ? Math.max(0, ((cur - old) * 8) / ((now - prev.now) / 1000)) : 0);
  mineNow.stats = {
    rtt, lost, received, framesDecoded, codecs: [...new Set(codecs)],
    inKbps: rate(bytesIn, prev && prev.bytesIn) / 1000, outKbps: rate(bytesOut, prev && prev.bytesOut) / 1000,
    localLevel: mineNow.muted ? 0 : localLevel, remoteLevel,
  };
  renderStats();
}

function renderStats() {
  const s = ep && ep.stats;
  if (!s) return;
  const pct = s.received + s.lost > 0 ? (100 * s.lost) / (s.received + s.lost) : 0;
  const facts = [
    ['Round trip', s.rtt === null ? '—' : `${Math.round(s.rtt * 1000)} ms`],
    ['Packet loss', `${pct.toFixed(1)}% (${s.lost} of ${s.received + s.lost})`],
    ['Bitrate', `↓ ${Math.round(s.inKbps)} kbit/s · ↑ ${Math.round(s.outKbps)} kbit/s`],
    ['Codecs', s.codecs.length ? s.codecs.join(', ') : '—'],
  ];
  if (ep.peer.setupMs) facts.push(['Setup', `${ep.peer.setupMs} ms`]);
  $('call-stats').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const level = (m, v) => {
    m.value = v === null || v === undefined ? 0 : Math.min(1, Math.sqrt(v)); // audioLevel is linear; sqrt reads better
  };
  level($('call-level-local'), s.localLevel);
  level($('call-level-remote'), s.remoteLevel);
  $('call-talking').textContent = (s.remoteLevel || 0) > 0.02 ? `${nameOf(live)} is talking`
    : (s.localLevel || 0) > 0.02 ? 'You are talking' : '';
}

// ---- Rendering ----

function showError(text) { $('call-error').textContent = text; }

// A call that could not even start: the panel says why (and #status too).
function showNote(text) {
  announce(text);
  $('call-note').textContent = text;
  $('call-note').hidden = !text;
}

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
    : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

function stateText(call) {
  const who = nameOf(call);
  const elsewhere = !ep || ep.id !== call.id;
  switch (call.state) {
    case 'calling': return elsewhere ? `Calling ${who} from another window or device…`
      : call.remote_ringing ? `Ringing ${who}…` : `Calling ${who}…`;
    case 'ringing': return `${who} is calling`;
    case 'connecting': return elsewhere ? `In a call with ${who} in another window or device` : `Connecting to ${who}…`;
    case 'active': {
      if (elsewhere) return `In a call with ${who} in another window or device`;
      const pcState = ep.peer.pc ? ep.peer.pc.connectionState : '';
      return pcState === 'disconnected' ? `Reconnecting to ${who}…` : `In a call with ${who}`;
    }
    default: return endText(call);
  }
}

function renderBanner() {
  const ringing = live && live.state === 'ringing';
  const invite = ringing ? null : room.invitation();
  $('call-incoming').hidden = !ringing && !invite;
  $('call-incoming').dataset.kind = invite ? 'group' : 'call';
  if (invite) {
    const others = invite.with.length ? `, with ${invite.with.join(', ')}` : '';
    $('call-incoming-text').textContent = `${invite.from} invites you to a group call${others}${invite.video ? ' (video)' : ''}.`;
    $('call-accept').setAttribute('aria-label', `Join the group call ${invite.from} invites you to`);
    $('call-accept-video').setAttribute('aria-label', `Join the group call ${invite.from} invites you to, with video`);
    $('call-decline').setAttribute('aria-label', `Decline the group call from ${invite.from}`);
    return;
  }
  if (!ringing) return;
  const who = nameOf(live);
  $('call-incoming-text').textContent = `${who} is calling you${live.video ? ' (video)' : ''}.`;
  $('call-accept').setAttribute('aria-label', `Accept the call from ${who}`);
  $('call-accept-video').setAttribute('aria-label', `Accept the call from ${who} with video`);
  $('call-decline').setAttribute('aria-label', `Decline the call from ${who}`);
}

function renderPanel() {
  // A group call's panel (room.js) takes the place of an ended call's.
  const show = live && live.state !== 'ringing' && !(live.state === 'ended' && $('call-panel').dataset.closed === live.id)
    && !(live.state === 'ended' && !$('room-panel').hidden);
  $('call-panel').hidden = !show;
  if (!show) return;
  const mine = ep && ep.id === live.id;
  const ended = live.state === 'ended';
  $('call-panel').dataset.state = live.state;
  $('call-title').textContent = `Call with ${nameOf(live)}${live.video ? ' (video)' : ''}`;
  $('call-state').textContent = stateText(live);
  $('call-media').hidden = !mine;
  $('call-hangup').hidden = ended;
  $('call-close').hidden = !ended;
  $('call-timer').hidden = ended || live.state !== 'active';
  if (!mine) return;
  const hasVideo = ep.local.getVideoTracks().length > 0;
  $('call-mute').setAttribute('aria-pressed', String(ep.muted));
  $('call-mute').textContent = ep.muted ? 'Unmute' : 'Mute';
  $('call-camera-toggle').setAttribute('aria-pressed', String(hasVideo && !ep.cameraOff));
  $('call-camera-toggle').textContent = !hasVideo ? 'Turn camera on' : ep.cameraOff ? 'Camera on' : 'Camera off';
  $('call-camera-toggle').disabled = !ep.peer.pc || live.state !== 'active' && !hasVideo;
  const preview = $('call-local-video');
  if (hasVideo && preview.srcObject !== ep.local) preview.srcObject = ep.local;
  preview.hidden = !hasVideo || ep.cameraOff;
  if (!$('call-remote-video').srcObject) $('call-remote-video').hidden = true;
  if (!statsTimer && ep.peer.pc) statsTimer = setInterval(() => sampleStats().catch(() => {}), STATS_MS);
  const devicesFor = ep.local.getTracks().map((t) => t.id).join();
  if (ep.devicesFor !== devicesFor) { ep.devicesFor = devicesFor; listDevices().catch(() => {}); }
}

function tickClock() {
  if (!live || live.state !== 'active') return;
  const since = ep && ep.id === live.id && ep.activeSince ? ep.activeSince : live.connected_ms;
  $('call-timer').textContent = clock(Date.now() - since);
}

function render() {
  roompanel.render();
  renderBanner();
  renderPanel();
  tickClock();
  // Once per ended call (render runs on every group call change too): the note goes, the panel
  // closes itself after a while.
  const endedId = live && live.state === 'ended' ? live.id : null;
  if (endedId !== endedFor) {
    endedFor = endedId;
    if (endedTimer) { clearTimeout(endedTimer); endedTimer = null; }
    if (endedId) {
      $('call-note').hidden = true;
      endedTimer = setTimeout(() => { $('call-panel').dataset.closed = endedId; renderPanel(); }, ENDED_SHOWN_MS);
    }
  }
  changed();
}

export function init(say) {
  announce = say;
  room.init(say, showNote, render);
  roompanel.init();
  $('call-accept').addEventListener('click', () => acceptAny(false).catch((e) => showError(e.message)));
  $('call-accept-video').addEventListener('click', () => acceptAny(true).catch((e) => showError(e.message)));
  $('call-decline').addEventListener('click', declineAny);
  $('call-hangup').addEventListener('click', () => hangup());
  $('call-close').addEventListener('click', () => { $('call-panel').dataset.closed = live ? live.id : ''; renderPanel(); });
  $('call-mute').addEventListener('click', toggleMute);
  $('call-camera-toggle').addEventListener('click', () => toggleCamera().catch((e) => showError(e.message)));
  $('call-mic').addEventListener('change', (e) => switchDevice('audio', e.target.value));
  $('call-camera').addEventListener('change', (e) => switchDevice('video', e.target.value));
  clockTimer = setInterval(tickClock, 1000);
  if (navigator.mediaDevices) {
    navigator.mediaDevices.addEventListener('devicechange', () => { if (ep) listDevices().catch(() => {}); });
  }
  // Closing or reloading the page ends this page's call (the node cannot tell otherwise until the
  // connect timeout); a call ringing here goes on ringing on the other pages.
  window.addEventListener('pagehide', () => {
    if (ep && live && live.id === ep.id && live.state !== 'ended') api.hangupOnClose(ep.id);
  });
}

// Logged out: this page's call ends, and nothing of it stays in the page.
export function clear() {
  if (ep && live && live.id === ep.id && live.state !== 'ended') api.hangupOnClose(ep.id);
  teardown();
  room.clear();
  roompanel.clear();
  ring.stop();
  live = null;
  if (clockTimer) { clearInterval(clockTimer); clockTimer = null; }
  if (endedTimer) { clearTimeout(endedTimer); endedTimer = null; }
  endedFor = null;
  $('call-incoming').hidden = true;
  $('call-panel').hidden = true;
  for (const id of ['call-incoming-text', 'call-title', 'call-state', 'call-error', 'call-note', 'call-timer', 'call-talking']) $(id).textContent = '';
  $('call-stats').replaceChildren();
  $('call-mic').replaceChildren();
  $('call-camera').replaceChildren();
}

// Test and debugging aid: what the endpoint holds (no secrets: the page's own media objects).
export const endpoint = () => (ep ? { id: ep.id, pc: ep.peer.pc, setupMs: ep.peer.setupMs, local: ep.local } : null);
