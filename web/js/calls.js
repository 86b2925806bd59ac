// Calls (docs/api.md § Calls): the node carries the signalling; this page is a local media endpoint
// with its own RTCPeerConnection. The page that places a call, or answers it, runs its media; every
// other open page of the node only shows it (ringing, or "in a call elsewhere") and stops ringing once
// one device answers. The caller's endpoint makes the offer once the call is `connecting`, the callee's
// answers, both trickle candidates (only those inside `calls.ice_networks`, which the node would drop
// anyway), and the endpoint reports `/connected` when ICE and DTLS are up, `/failed` when they fail.
// A call that lost a glare names the call that replaced it (`replaced_by`): this page follows it as
// the answering side. Either side may renegotiate while active (camera turned on in an audio call);
// the callee is the "polite" side if both offer at once.
import { ApiError, api } from './api.js';
import { el } from './format.js';
import * as people from './people.js';

const $ = (id) => document.getElementById(id);
export const EVENTS = ['call.updated', 'call.signal'];
const STATS_MS = 500; // levels, quality
const ENDED_SHOWN_MS = 10000; // "call ended" stays this long (or until closed)

let announce = () => {};
let live = null; // the node's call shown (any page's), or null
let ep = null; // this page's endpoint: {id, outgoing, video, pc, local, lastSeq, ...}, or null
let endedTimer = null;
let statsTimer = null;
let clockTimer = null;
let ring = null; // {ctx, timer, notification} while this page rings
let listeners = new Set();

export function subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); }
function changed() { for (const fn of listeners) fn(); }

// Whether a call is under way on this node (any page or `kith call`): new calls wait.
export const busy = () => !!live && live.state !== 'ended';

// The node's message, without the hints meant for the command line ("… (kith hangup ID)", "`kith …`").
function plain(message) {
  return String(message || '').replace(/ \((?:hang up first: )?kith [^)]*\)/g, '')
    .replace(/:? ?try again when `kith [^`]*` shows them online/, '').replace(/`/g, '').trim();
}

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

// ---- Local media ----

async function getMedia(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('This browser cannot use a microphone here (it needs https or localhost).');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: !!video });
  } catch (e) {
    if (e.name === 'NotAllowedError') throw new Error('The browser did not allow the microphone' + (video ? ' or camera.' : '.'));
    if (e.name === 'NotFoundError') throw new Error(video ? 'No microphone or camera found.' : 'No microphone found.');
    throw new Error(`Cannot use the microphone${video ? ' or camera' : ''}: ${e.message}`);
  }
}

function stopStream(s) { if (s) for (const t of s.getTracks()) t.stop(); }

// ---- Candidates: only inside calls.ice_networks ----

function parseIp(s) {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) {
    const b = s.split('.').map(Number);
    return b.every((x) => x <= 255) ? b : null;
  }
  if (!s.includes(':')) return null;
  let [head, tail] = s.split('::');
  const part = (x) => (x ? x.split(':') : []);
  let h = part(head);
  let t = tail === undefined ? [] : part(tail);
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  if (groups.length !== 8) return null;
  const out = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    out.push(v >> 8, v & 255);
  }
  return out;
}

function inNetworks(address, networks) {
  if (!networks || networks.length === 0) return true;
  const a = parseIp(address);
  if (!a) return false; // an mDNS name (x.local): the node would drop it
  return networks.some((n) => {
    const [base, bits] = n.split('/');
    const b = parseIp(base);
    if (!b || b.length !== a.length) return false;
    let left = bits === undefined ? b.length * 8 : Number(bits);
    for (let i = 0; left > 0; i++, left -= 8) {
      const mask = left >= 8 ? 255 : (0xff << (8 - left)) & 255;
      if ((a[i] & mask) !== (b[i] & mask)) return false;
    }
    return true;
  });
}

// "candidate:F C udp PRIO ADDR PORT typ host …" -> ADDR
const candidateAddress = (line) => (line.split(' ')[4] || '');

// ---- The endpoint ----

async function makePeer() {
  const config = await api.callConfig();
  const mineNow = ep;
  if (!mineNow) return;
  mineNow.networks = config.ice_networks || [];
  // "relay" with calls.relay_only: only the TURN server's addresses are offered (the node drops others too).
  const pc = new RTCPeerConnection({
    iceServers: config.ice_servers || [],
    iceTransportPolicy: config.ice_transport_policy === 'relay' ? 'relay' : 'all',
  });
  mineNow.pc = pc;
  mineNow.remote = new MediaStream();
  $('call-remote-audio').srcObject = mineNow.remote;
  pc.onicecandidate = (e) => {
    if (ep !== mineNow || !e.candidate || !e.candidate.candidate) return;
    const line = e.candidate.candidate;
    if (!inNetworks(candidateAddress(line), mineNow.networks)) return;
    mineNow.sentCandidates.push(line);
    api.callSignal(mineNow.id, { type: 'candidate', candidate: line, mline: e.candidate.sdpMLineIndex || 0 })
      .catch(() => {}); // one refused candidate is not fatal; ICE fails on its own if none works
  };
  pc.ontrack = (e) => {
    if (ep !== mineNow) return;
    mineNow.remote.addTrack(e.track);
    if (e.track.kind === 'video') {
      const v = $('call-remote-video');
      v.srcObject = new MediaStream(mineNow.remote.getVideoTracks());
      v.hidden = false;
      e.track.onunmute = () => { v.hidden = false; };
    }
    const a = $('call-remote-audio');
    a.srcObject = mineNow.remote;
    a.play().catch(() => {});
  };
  pc.onconnectionstatechange = () => {
    if (ep !== mineNow) return;
    const s = pc.connectionState;
    if (s === 'connected' && !mineNow.connectedSent) {
      mineNow.connectedSent = true;
      mineNow.setupMs = Math.round(performance.now() - mineNow.t0);
      api.callConnected(mineNow.id).catch((e) => showError(plain(e.message)));
    } else if (s === 'failed') {
      fail('no network path between the two endpoints (ICE failed)');
    }
    renderPanel();
  };
}

// The endpoint's RTCPeerConnection, made once (answering and an early signal may both ask for it).
function ensurePeer() {
  if (!ep.peerReady) ep.peerReady = makePeer();
  return ep.peerReady;
}

function addLocalTracks() {
  for (const track of ep.local.getTracks()) ep.pc.addTrack(track, ep.local);
}

async function offer() {
  const mineNow = ep;
  mineNow.makingOffer = true;
  try {
    await mineNow.pc.setLocalDescription(await mineNow.pc.createOffer());
    if (ep !== mineNow) return;
    await api.callSignal(mineNow.id, { type: 'offer', sdp: mineNow.pc.localDescription.sdp });
  } finally {
    mineNow.makingOffer = false;
  }
}

async function applySignal(s) {
  const mineNow = ep;
  const pc = mineNow.pc;
  if (s.type === 'candidate') {
    if (!pc.remoteDescription) { mineNow.pendingCandidates.push(s); return; }
    await pc.addIceCandidate({ candidate: s.candidate, sdpMLineIndex: s.mline || 0 }).catch(() => {});
    return;
  }
  if (s.type === 'offer') {
    const collision = mineNow.makingOffer || pc.signalingState !== 'stable';
    const polite = !mineNow.outgoing;
    if (collision && !polite) return; // glare of renegotiations: ours wins, theirs is dropped
    const first = !pc.remoteDescription && !pc.localDescription;
    await pc.setRemoteDescription({ type: 'offer', sdp: s.sdp }); // a polite collision rolls ours back
    if (first) addLocalTracks(); // reuses the offer's transceivers: one audio (and video) m-line each
    await pc.setLocalDescription(await pc.createAnswer());
    if (ep !== mineNow) return;
    await api.callSignal(mineNow.id, { type: 'answer', sdp: pc.localDescription.sdp });
    // Ours rolled back, or a camera of ours the offer had no place for ("Accept with video" on an
    // audio call): offer again once stable.
    if (collision || pc.getTransceivers().some((t) => !t.mid && t.sender.track)) mineNow.wantsOffer = true;
  } else if (s.type === 'answer') {
    if (pc.signalingState !== 'have-local-offer') return;
    await pc.setRemoteDescription({ type: 'answer', sdp: s.sdp });
  }
  for (const c of mineNow.pendingCandidates.splice(0)) {
    await pc.addIceCandidate({ candidate: c.candidate, sdpMLineIndex: c.mline || 0 }).catch(() => {});
  }
  if (mineNow.wantsOffer && pc.signalingState === 'stable') {
    mineNow.wantsOffer = false;
    await offer();
  }
}

// Signals are applied one at a time, in order; a gap (an event missed while the stream reconnected,
// or sent before this page knew the call was its own) is fetched from the node.
function queueSignals(fn) {
  const mineNow = ep;
  if (!mineNow) return Promise.resolve();
  mineNow.queue = mineNow.queue.then(() => (ep === mineNow ? fn() : undefined)).catch((e) => {
    if (ep === mineNow) fail(`this browser refused the contact's media description (${e.message})`);
  });
  return mineNow.queue;
}

function onSignal(signal) {
  queueSignals(async () => {
    await ensurePeer();
    if (signal.seq <= ep.lastSeq) return;
    if (signal.seq === ep.lastSeq + 1) {
      ep.lastSeq = signal.seq;
      await applySignal(signal);
      return;
    }
    await catchUp();
  });
}

async function catchUp() {
  const mineNow = ep;
  const page = await api.callSignals(mineNow.id, mineNow.lastSeq);
  if (ep !== mineNow) return;
  for (const s of page.signals) {
    if (s.seq <= mineNow.lastSeq) continue;
    mineNow.lastSeq = s.seq;
    await applySignal(s);
  }
}

function fail(reason) {
  if (!ep || ep.failing) return;
  ep.failing = true;
  api.callFailed(ep.id, reason).catch(() => {});
  showError(`The call failed: ${reason}.`);
}

function newEndpoint(call, outgoing, video, local) {
  return { id: call.id, outgoing, video, local, pc: null, remote: null, lastSeq: 0, queue: Promise.resolve(),
    peerReady: null, pendingCandidates: [], sentCandidates: [], offered: false, connectedSent: false, makingOffer: false,
    wantsOffer: false, failing: false, muted: false, cameraOff: false, t0: performance.now(), setupMs: 0,
    activeSince: 0, prev: null };
}

function teardown() {
  if (!ep) return;
  if (ep.pc) ep.pc.close();
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
  stopRinging();
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
    await ensurePeer();
    await api.answerCall(call.id);
  } catch (e) {
    teardown();
    showError(`Could not answer: ${plain(e.message)}`);
    return;
  }
  if (live && live.id === call.id && live.state === 'ringing') live = { ...live, state: 'connecting' };
  render();
  queueSignals(catchUp); // an offer that came before this page knew the call was its own
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
    if (ep.pc) ep.pc.close();
    ep = newEndpoint({ id: call.replaced_by }, false, video, local);
    live = { ...call, id: call.replaced_by, state: 'connecting', direction: 'incoming', end_reason: '' };
    ensurePeer().then(() => queueSignals(catchUp)).catch((e) => fail(e.message));
    render();
    return;
  }
  if (live && call.id !== live.id && live.state !== 'ended' && call.state === 'ended') {
    // Another call ended while this one goes on (one we missed for being in this call): history only.
    if (call.direction === 'incoming' && call.end_reason.startsWith('missed')) announce(`Missed call from ${nameOf(call)}.`);
    return;
  }
  live = call;
  if (call.state === 'ringing') startRinging(call); else stopRinging();
  if (ep && call.id === ep.id) {
    if (call.state === 'connecting' && ep.outgoing && !ep.offered) {
      ep.offered = true;
      ep.t0 = performance.now(); // setup time: from the answer to the media running
      const mineNow = ep;
      queueSignals(async () => {
        await ensurePeer();
        addLocalTracks();
        await offer();
      });
    }
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
  if (type === 'call.updated' && data.call) update(data.call);
  else if (type === 'call.signal' && ep && data.call_id === ep.id && data.signal) onSignal(data.signal);
}

// The event stream (re)connected: events are not replayed, so read the node's calls again.
export async function refresh() {
  const { calls } = await api.calls();
  const current = calls.find((c) => c.state !== 'ended');
  if (current) update(current);
  else if (live && live.state !== 'ended') {
    const mine = calls.find((c) => c.id === live.id);
    if (mine) update(mine);
  }
  if (ep && ep.pc) queueSignals(catchUp);
}

// ---- Ringing ----

function startRinging(call) {
  if (ring && ring.id === call.id) return;
  stopRinging();
  ring = { id: call.id, ctx: null, timer: null, notification: null };
  try {
    const ctx = new AudioContext();
    ring.ctx = ctx;
    const beep = () => {
      if (ctx.state !== 'running') { ctx.resume().catch(() => {}); return; }
      for (const [start, f] of [[0, 440], [0, 480]]) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.frequency.value = f;
        g.gain.value = 0.05;
        o.connect(g).connect(ctx.destination);
        o.start(ctx.currentTime + start);
        o.stop(ctx.currentTime + start + 1);
      }
    };
    beep();
    ring.timer = setInterval(beep, 3000);
  } catch { /* no Web Audio: the banner alone */ }
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
    const n = new Notification(`${nameOf(call)} is calling`, {
      body: call.video ? 'Video call' : 'Call', tag: 'kith-call-' + call.id, requireInteraction: true });
    n.onclick = () => { window.focus(); n.close(); };
    ring.notification = n;
  }
}

function stopRinging() {
  if (!ring) return;
  if (ring.timer) clearInterval(ring.timer);
  if (ring.ctx) ring.ctx.close().catch(() => {});
  if (ring.notification) ring.notification.close();
  ring = null;
}

// ---- In the call: mute, camera, devices ----

function sender(kind) {
  return ep && ep.pc ? ep.pc.getSenders().find((s) => s.track && s.track.kind === kind) : null;
}

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
    cam = await navigator.mediaDevices.getUserMedia({ video: true });
  } catch (e) {
    showError(`Cannot use the camera: ${e.message}`);
    return;
  }
  if (!ep || !ep.pc) { stopStream(cam); return; }
  const track = cam.getVideoTracks()[0];
  ep.local.addTrack(track);
  ep.video = true;
  ep.cameraOff = false;
  ep.pc.addTrack(track, ep.local);
  const mineNow = ep;
  renderPanel();
  queueSignals(async () => {
    if (mineNow.pc.signalingState !== 'stable') { mineNow.wantsOffer = true; return; }
    await offer();
  });
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
  const s = old && ep.pc ? ep.pc.getSenders().find((x) => x.track === old) : null;
  if (s) await s.replaceTrack(track);
  if (old) { ep.local.removeTrack(old); old.stop(); }
  ep.local.addTrack(track);
  renderPanel();
}

// ---- Connection quality and levels (getStats) ----

async function sampleStats() {
  const mineNow = ep;
  if (!mineNow || !mineNow.pc) return;
  const report = await mineNow.pc.getStats();
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
  if (ep.setupMs) facts.push(['Setup', `${ep.setupMs} ms`]);
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
      const pcState = ep.pc ? ep.pc.connectionState : '';
      return pcState === 'disconnected' ? `Reconnecting to ${who}…` : `In a call with ${who}`;
    }
    default: return endText(call);
  }
}

function renderBanner() {
  const ringing = live && live.state === 'ringing';
  $('call-incoming').hidden = !ringing;
  if (!ringing) return;
  const who = nameOf(live);
  $('call-incoming-text').textContent = `${who} is calling you${live.video ? ' (video)' : ''}.`;
  $('call-accept').setAttribute('aria-label', `Accept the call from ${who}`);
  $('call-accept-video').setAttribute('aria-label', `Accept the call from ${who} with video`);
  $('call-decline').setAttribute('aria-label', `Decline the call from ${who}`);
}

function renderPanel() {
  const show = live && live.state !== 'ringing' && !(live.state === 'ended' && $('call-panel').dataset.closed === live.id);
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
  $('call-camera-toggle').disabled = !ep.pc || live.state !== 'active' && !hasVideo;
  const preview = $('call-local-video');
  if (hasVideo && preview.srcObject !== ep.local) preview.srcObject = ep.local;
  preview.hidden = !hasVideo || ep.cameraOff;
  if (!$('call-remote-video').srcObject) $('call-remote-video').hidden = true;
  if (!statsTimer && ep.pc) statsTimer = setInterval(() => sampleStats().catch(() => {}), STATS_MS);
  const devicesFor = ep.local.getTracks().map((t) => t.id).join();
  if (ep.devicesFor !== devicesFor) { ep.devicesFor = devicesFor; listDevices().catch(() => {}); }
}

function tickClock() {
  if (!live || live.state !== 'active') return;
  const since = ep && ep.id === live.id && ep.activeSince ? ep.activeSince : live.connected_ms;
  $('call-timer').textContent = clock(Date.now() - since);
}

function render() {
  renderBanner();
  renderPanel();
  tickClock();
  if (endedTimer) { clearTimeout(endedTimer); endedTimer = null; }
  if (live && live.state === 'ended') {
    const id = live.id;
    $('call-note').hidden = true;
    endedTimer = setTimeout(() => { $('call-panel').dataset.closed = id; renderPanel(); }, ENDED_SHOWN_MS);
  }
  changed();
}

export function init(say) {
  announce = say;
  $('call-accept').addEventListener('click', () => accept(false).catch((e) => showError(e.message)));
  $('call-accept-video').addEventListener('click', () => accept(true).catch((e) => showError(e.message)));
  $('call-decline').addEventListener('click', () => hangup());
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
  stopRinging();
  live = null;
  if (clockTimer) { clearInterval(clockTimer); clockTimer = null; }
  if (endedTimer) { clearTimeout(endedTimer); endedTimer = null; }
  $('call-incoming').hidden = true;
  $('call-panel').hidden = true;
  for (const id of ['call-incoming-text', 'call-title', 'call-state', 'call-error', 'call-note', 'call-timer', 'call-talking']) $(id).textContent = '';
  $('call-stats').replaceChildren();
  $('call-mic').replaceChildren();
  $('call-camera').replaceChildren();
}

// Test and debugging aid: what the endpoint holds (no secrets: the page's own media objects).
export const endpoint = () => ep;
