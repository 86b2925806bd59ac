// One call's media endpoint (docs/api.md § Calls): an RTCPeerConnection driven by the node's
// signalling for one call id. calls.js runs one for a call between two people; room.js runs one per
// live call of a group call (a mesh), all sharing the page's one microphone/camera stream.
// The calling side ("outgoing") makes the first offer once the call is `connecting`, the other side
// answers it; both trickle candidates (only those inside `calls.ice_networks`, which the node would
// drop anyway); the endpoint reports `/connected` once ICE and DTLS are up and `/failed` when they
// fail. Either side may renegotiate while active (a camera turned on); the answering side is the
// "polite" one when both offer at once.
import { api } from './api.js';

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

// `hooks` (all optional): onTrack(track, peer) for each remote track (already in `peer.remote`);
// onChange(peer) when the connection state changes; onFailed(reason, peer) once this endpoint
// reported its media failed; onError(message, peer) for a problem the user should read.
export class Peer {
  constructor(id, outgoing, local, hooks = {}) {
    this.id = id;
    this.outgoing = outgoing; // made the call: offers first, and wins a glare of renegotiations
    this.local = local; // the page's MediaStream (shared by every peer of a group call)
    this.hooks = hooks;
    this.pc = null;
    this.remote = new MediaStream(); // what the contact sends
    this.networks = [];
    this.lastSeq = 0; // the last signal applied
    this.queue = Promise.resolve(); // signals are applied one at a time
    this.ready = null; // the promise of the RTCPeerConnection
    this.pendingCandidates = [];
    this.sentCandidates = [];
    this.offered = false;
    this.connectedSent = false;
    this.makingOffer = false;
    this.wantsOffer = false;
    this.failing = false;
    this.closed = false;
    this.t0 = performance.now();
    this.setupMs = 0; // from the answer to the media running
  }

  // The RTCPeerConnection, made once (answering and an early signal may both ask for it).
  ensure() {
    if (!this.ready) this.ready = this.make();
    return this.ready;
  }

  async make() {
    const config = await api.callConfig();
    if (this.closed) return;
    this.networks = config.ice_networks || [];
    // "relay" with calls.relay_only: only the TURN server's addresses are offered (the node drops others too).
    const pc = new RTCPeerConnection({
      iceServers: config.ice_servers || [],
      iceTransportPolicy: config.ice_transport_policy === 'relay' ? 'relay' : 'all',
    });
    this.pc = pc;
    pc.onicecandidate = (e) => {
      if (this.closed || !e.candidate || !e.candidate.candidate) return;
      const line = e.candidate.candidate;
      if (!inNetworks(candidateAddress(line), this.networks)) return;
      this.sentCandidates.push(line);
      api.callSignal(this.id, { type: 'candidate', candidate: line, mline: e.candidate.sdpMLineIndex || 0 })
        .catch(() => {}); // one refused candidate is not fatal; ICE fails on its own if none works
    };
    pc.ontrack = (e) => {
      if (this.closed) return;
      this.remote.addTrack(e.track);
      if (this.hooks.onTrack) this.hooks.onTrack(e.track, this);
    };
    pc.onconnectionstatechange = () => {
      if (this.closed) return;
      const s = pc.connectionState;
      if (s === 'connected' && !this.connectedSent) {
        this.connectedSent = true;
        this.setupMs = Math.round(performance.now() - this.t0);
        api.callConnected(this.id).catch((e) => this.error(e.message));
      } else if (s === 'failed') {
        this.fail('no network path between the two endpoints (ICE failed)');
      }
      if (this.hooks.onChange) this.hooks.onChange(this);
    };
  }

  error(message) { if (this.hooks.onError) this.hooks.onError(message, this); }

  // The page's tracks that this connection does not send yet.
  addLocalTracks() {
    const sent = new Set(this.pc.getSenders().map((s) => s.track).filter(Boolean));
    for (const track of this.local.getTracks()) if (!sent.has(track)) this.pc.addTrack(track, this.local);
  }

  // The calling side, once the call is `connecting`: the first offer.
  start() {
    if (!this.outgoing || this.offered) return;
    this.offered = true;
    this.t0 = performance.now(); // setup time: from the answer to the media running
    this.enqueue(async () => {
      await this.ensure();
      this.addLocalTracks();
      await this.offer();
    });
  }

  async offer() {
    this.makingOffer = true;
    try {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      if (this.closed) return;
      await api.callSignal(this.id, { type: 'offer', sdp: this.pc.localDescription.sdp });
    } finally {
      this.makingOffer = false;
    }
  }

  async apply(s) {
    const pc = this.pc;
    if (s.type === 'candidate') {
      if (!pc.remoteDescription) { this.pendingCandidates.push(s); return; }
      await pc.addIceCandidate({ candidate: s.candidate, sdpMLineIndex: s.mline || 0 }).catch(() => {});
      return;
    }
    if (s.type === 'offer') {
      const collision = this.makingOffer || pc.signalingState !== 'stable';
      const polite = !this.outgoing;
      if (collision && !polite) return; // glare of renegotiations: ours wins, theirs is dropped
      const first = !pc.remoteDescription && !pc.localDescription;
      await pc.setRemoteDescription({ type: 'offer', sdp: s.sdp }); // a polite collision rolls ours back
      if (first) this.addLocalTracks(); // reuses the offer's transceivers: one audio (and video) m-line each
      await pc.setLocalDescription(await pc.createAnswer());
      if (this.closed) return;
      await api.callSignal(this.id, { type: 'answer', sdp: pc.localDescription.sdp });
      // Ours rolled back, or a camera of ours the offer had no place for ("Accept with video" on an
      // audio call): offer again once stable.
      if (collision || pc.getTransceivers().some((t) => !t.mid && t.sender.track)) this.wantsOffer = true;
    } else if (s.type === 'answer') {
      if (pc.signalingState !== 'have-local-offer') return;
      await pc.setRemoteDescription({ type: 'answer', sdp: s.sdp });
    }
    for (const c of this.pendingCandidates.splice(0)) {
      await pc.addIceCandidate({ candidate: c.candidate, sdpMLineIndex: c.mline || 0 }).catch(() => {});
    }
    if (this.wantsOffer && pc.signalingState === 'stable') {
      this.wantsOffer = false;
      await this.offer();
    }
  }

  // Signals are applied one at a time, in order; a gap (an event missed while the stream reconnected,
  // or sent before this page knew the call was its own) is fetched from the node.
  enqueue(fn) {
    this.queue = this.queue.then(() => (this.closed ? undefined : fn())).catch((e) => {
      if (!this.closed) this.fail(`this browser refused the contact's media description (${e.message})`);
    });
    return this.queue;
  }

  // A call.signal event for this call.
  signal(signal) {
    this.enqueue(async () => {
      await this.ensure();
      if (signal.seq <= this.lastSeq) return;
      if (signal.seq === this.lastSeq + 1) {
        this.lastSeq = signal.seq;
        await this.apply(signal);
        return;
      }
      await this.fetchMissed();
    });
  }

  // Fetches and applies the signals this endpoint has not seen (queued after what is under way).
  catchUp() {
    return this.enqueue(async () => {
      await this.ensure();
      await this.fetchMissed();
    });
  }

  async fetchMissed() {
    const page = await api.callSignals(this.id, this.lastSeq);
    if (this.closed) return;
    for (const s of page.signals) {
      if (s.seq <= this.lastSeq) continue;
      this.lastSeq = s.seq;
      await this.apply(s);
    }
  }

  // This endpoint's media failed: the node ends the call for both sides.
  fail(reason) {
    if (this.closed || this.failing) return;
    this.failing = true;
    api.callFailed(this.id, reason).catch(() => {});
    if (this.hooks.onFailed) this.hooks.onFailed(reason, this);
  }

  // A camera track added to the page's stream: a new offer (or one once the exchange under way is
  // over). A connection that sends nothing yet takes it with its first offer or answer.
  addTrack(track) {
    if (!this.pc) return;
    const senders = this.pc.getSenders();
    if (!senders.some((s) => s.track) || senders.some((s) => s.track === track)) return;
    this.pc.addTrack(track, this.local);
    this.enqueue(async () => {
      if (this.pc.signalingState !== 'stable' || !this.pc.remoteDescription) { this.wantsOffer = true; return; }
      await this.offer();
    });
  }

  // The local stream is not stopped here: it is the page's (and maybe other peers').
  close() {
    this.closed = true;
    if (this.pc) this.pc.close();
  }
}
