// Calls in the web UI (ui.test.mjs runs these last, in a `describe`): three more daemons on loopback
// (alice, bob, carol; `calls.ice_networks=127.0.0.1`), two more Chromiums, each with its own fake
// microphone playing a pure tone (alice 440 Hz, bob 660 Hz), and `kith call` / `kith answer` as the
// native endpoint (carol, 880 Hz). Each side must hear the other's tone: the pages through a Web
// Audio analyser on the remote stream, the native side in its recording (Goertzel, as
// tests/integration/tones.py).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';

import { KithNode, befriend, loudest, sleep, tmpdir, waitFor, writeTone } from './kith.mjs';
import { launchWithTone, openPage } from './pages.mjs';

const ALICE_TONE = 440;
const BOB_TONE = 660;
const CAROL_TONE = 880;
const CANDIDATES = [ALICE_TONE, BOB_TONE, CAROL_TONE, 300, 550, 1000];
const LONG = 60000;

export function callTests({ chromiumPath, chromiumArgs, artifacts }) {
  let alice; let bob; let carol; let dir;
  let browserA; let browserB; let pa; let pb; let pb2;
  const ids = {};
  const streams = []; // the daemons' event streams
  let signals = []; // every call.signal the daemons handed to an endpoint
  const problems = [];
  const setupTimes = [];

  const shot = (p, name) => p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

  const browser = (name, tone) => launchWithTone({ chromiumPath, chromiumArgs, dir, name, tone });
  const open = (ctx, node, label) => openPage(ctx, node, label, problems);

  async function chatWith(p, node, id) {
    await p.goto(`http://${node.api}/ui/#/contacts/${id}`);
    await p.locator('#chat-call:not([disabled])').waitFor({ timeout: LONG });
  }

  const callOf = async (node) => (await node.call('GET', '/api/v1/calls')).body.calls[0];
  const waitState = (node, state) => waitFor(async () => {
    const c = await callOf(node);
    return c && c.state === state ? c : null;
  }, LONG, `a ${state} call at ${node.settings['profile.name']}`);
  const panelState = (p, state) => p.locator(`#call-panel[data-state="${state}"]`).waitFor({ timeout: LONG });

  // What the page hears: a Web Audio analyser on the remote stream, averaged over ~1 s. The peak's
  // frequency and the level (dB) at each candidate tone.
  async function heard(p) {
    return p.evaluate(async (candidates) => {
      const audio = document.getElementById('call-remote-audio');
      const ctx = new AudioContext();
      await ctx.resume();
      const source = ctx.createMediaStreamSource(audio.srcObject);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      source.connect(analyser);
      const bins = new Float32Array(analyser.frequencyBinCount);
      const sum = new Float64Array(analyser.frequencyBinCount);
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        analyser.getFloatFrequencyData(bins);
        for (let k = 0; k < bins.length; k++) sum[k] += Math.pow(10, bins[k] / 10);
      }
      const hz = ctx.sampleRate / analyser.fftSize;
      let peak = 0;
      for (let k = Math.floor(100 / hz); k < 2000 / hz; k++) if (sum[k] > sum[peak]) peak = k;
      const db = (f) => {
        const k = Math.round(f / hz);
        return 10 * Math.log10(Math.max(sum[k - 1], sum[k], sum[k + 1]) / 10 + 1e-30);
      };
      const out = { peakHz: peak * hz, db: Object.fromEntries(candidates.map((f) => [f, db(f)])), state: ctx.state };
      source.disconnect();
      await ctx.close();
      return out;
    }, CANDIDATES);
  }

  function assertHears(got, tone, who) {
    assert.ok(Math.abs(got.peakHz - tone) < 15, `${who} hears a peak at ${got.peakHz} Hz, not ${tone} Hz: ${JSON.stringify(got)}`);
    for (const f of CANDIDATES) {
      if (f !== tone) assert.ok(got.db[tone] > got.db[f] + 20, `${who}: ${tone} Hz is not 20 dB above ${f} Hz: ${JSON.stringify(got)}`);
    }
  }

  // The page's endpoint's getStats: inbound video frames decoded, codecs.
  const inbound = (p) => p.evaluate(async () => {
    const ep = (await import('/ui/js/calls.js')).endpoint();
    if (!ep || !ep.pc) return null;
    const out = { framesDecoded: 0, audioPackets: 0, codecs: [] };
    const report = await ep.pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded += s.framesDecoded || 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets += s.packetsReceived || 0;
      if (s.type === 'codec') out.codecs.push(s.mimeType);
    });
    return out;
  });

  async function framesGrow(p, who) {
    const first = await waitFor(async () => {
      const s = await inbound(p);
      return s && s.framesDecoded > 0 ? s : null;
    }, LONG, `${who} to decode video`);
    await sleep(1000);
    const later = await inbound(p);
    assert.ok(later.framesDecoded > first.framesDecoded + 5, `${who}: frames ${first.framesDecoded} -> ${later.framesDecoded}`);
    return later;
  }

  // Every candidate the daemons relayed, alone or inside SDP, is on 127.0.0.1.
  function assertLoopbackOnly(what) {
    const addresses = [];
    for (const s of signals) {
      if (s.type === 'candidate') addresses.push(s.candidate.split(' ')[4]);
      else for (const m of s.sdp.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) /gm)) addresses.push(m[1]);
      if (s.sdp) for (const m of s.sdp.matchAll(/^c=IN IP[46] (\S+)/gm)) assert.ok(['0.0.0.0', '127.0.0.1'].includes(m[1]), `${what}: c= ${m[1]}`);
    }
    assert.ok(addresses.length > 0, `${what}: no candidate relayed`);
    assert.deepEqual([...new Set(addresses)], ['127.0.0.1'], `${what}: candidates ${addresses}`);
  }

  before(async () => {
    dir = tmpdir('kith-ui-calls-');
    alice = new KithNode('call-alice', { 'profile.name': 'alice' });
    bob = new KithNode('call-bob', { 'profile.name': 'bob' });
    carol = new KithNode('call-carol', { 'profile.name': 'carol' });
    for (const n of [alice, bob, carol]) await n.startDaemon();
    ({ askerId: ids.alice, answererId: ids.bob } = await befriend(alice, bob));
    ({ askerId: ids.carol } = await befriend(carol, bob));
    for (const n of [alice, bob, carol]) {
      const s = await n.followEvents();
      streams.push(s);
    }
    browserA = await browser('alice', ALICE_TONE);
    browserB = await browser('bob', BOB_TONE);
    pa = await open(browserA, alice, 'alice');
    pb = await open(browserB, bob, 'bob');
    pb2 = await open(browserB, bob, 'bob, second page');
  });

  after(async () => {
    for (const s of streams) s.close();
    for (const c of [browserA, browserB]) if (c) await c.close();
    for (const n of [alice, bob, carol]) {
      if (!n) continue;
      await n.stop();
      if (process.exitCode) console.error(`--- ${n.home} daemon log ---\n${n.tail()}`);
      n.cleanup();
    }
    if (setupTimes.length) console.log(`# call setup (answer to media, ms): ${setupTimes.join(', ')}`);
  });

  // A test that failed half-way leaves no call running into the next one.
  afterEach(async () => {
    for (const n of [alice, bob, carol]) {
      if (!n || !n.daemon || n.daemon.exitCode !== null) continue;
      const c = await callOf(n).catch(() => null);
      if (c && c.state !== 'ended') await n.call('POST', `/api/v1/calls/${c.id}/hangup`);
    }
  });

  const collectSignals = () => {
    signals = streams.flatMap((s) => s.events.filter((e) => e.type === 'call.signal').map((e) => e.data.signal));
  };

  test('calls: A\'s page calls B; both of B\'s pages ring; B answers: each hears the other\'s tone; mute; B hangs up', async () => {
    await chatWith(pa, alice, ids.bob);
    assert.equal(await pa.locator('#chat-call').getAttribute('title'), 'Call bob');
    await pa.click('#chat-call');
    await panelState(pa, 'calling');
    // Every open page of bob's node rings.
    for (const p of [pb, pb2]) {
      await p.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
      assert.match(await p.locator('#call-incoming-text').innerText(), /alice is calling you/);
    }
    await pa.locator('#call-state', { hasText: 'Ringing bob' }).waitFor({ timeout: LONG });
    await shot(pb, 'c01-incoming-call');
    const answered = Date.now();
    await pb.click('#call-accept');
    await panelState(pb, 'active');
    await panelState(pa, 'active');
    const active = Date.now() - answered;
    // The other page stops ringing and says the call runs elsewhere.
    await pb2.locator('#call-incoming').waitFor({ state: 'hidden' });
    await pb2.locator('#call-state', { hasText: 'In a call with alice in another window or device' }).waitFor({ timeout: LONG });
    assert.equal((await callOf(alice)).state, 'active');
    assert.equal((await callOf(bob)).state, 'active');
    for (const p of [pa, pb]) {
      const ms = await p.evaluate(async () => (await import('/ui/js/calls.js')).endpoint().setupMs);
      setupTimes.push(ms);
    }
    console.log(`# audio call: Accept click to both pages active ${active} ms; endpoint answer-to-connected ${setupTimes.join(', ')} ms`);
    await sleep(1500);
    assertHears(await heard(pa), BOB_TONE, "alice's page");
    assertHears(await heard(pb), ALICE_TONE, "bob's page");
    // Quality and who talks, from getStats.
    await pa.locator('.call-quality summary').click();
    await pa.locator('#call-stats', { hasText: 'opus' }).waitFor({ timeout: LONG });
    assert.match(await pa.locator('#call-stats').innerText(), /Round trip\s+\d+ ms/);
    await waitFor(async () => (await pa.locator('#call-level-remote').evaluate((m) => m.value)) > 0.1, LONG, 'bob\'s level at alice');
    await pa.locator('#call-talking', { hasText: 'bob is talking' }).waitFor({ timeout: LONG });
    assert.match(await pa.locator('#call-timer').innerText(), /^0:0\d$/);
    await shot(pa, 'c02-in-call');
    // Mute: bob's page hears silence from alice, then her tone again.
    await pa.click('#call-mute');
    assert.equal(await pa.locator('#call-mute').getAttribute('aria-pressed'), 'true');
    await waitFor(async () => (await pb.locator('#call-level-remote').evaluate((m) => m.value)) < 0.02, LONG, 'silence at bob');
    await pa.click('#call-mute');
    await waitFor(async () => (await pb.locator('#call-level-remote').evaluate((m) => m.value)) > 0.1, LONG, 'alice again at bob');
    // Bob hangs up: both pages (and bob's other page) end the call.
    await pb.click('#call-hangup');
    await panelState(pa, 'ended');
    await panelState(pb, 'ended');
    await panelState(pb2, 'ended');
    assert.match(await pa.locator('#call-state').innerText(), /bob hung up/);
    assert.match(await pb.locator('#call-state').innerText(), /You hung up/);
    assert.equal((await callOf(alice)).end_reason, 'the other side hung up');
    // The microphones are released.
    assert.equal(await pa.evaluate(async () => (await import('/ui/js/calls.js')).endpoint()), null);
    collectSignals();
    assertLoopbackOnly('audio call');
  });

  test('calls: a video call decodes frames both ways; the camera goes off and on; A hangs up', async () => {
    await pa.click('#chat-video-call');
    await pb.locator('#call-incoming-text', { hasText: 'alice is calling you (video)' }).waitFor({ timeout: LONG });
    await pb.click('#call-accept-video');
    await panelState(pa, 'active');
    await panelState(pb, 'active');
    const got = await framesGrow(pa, 'alice');
    await framesGrow(pb, 'bob');
    assert.ok(got.codecs.some((c) => /^video\//.test(c)), `codecs ${got.codecs}`);
    assert.equal(await pa.locator('#call-remote-video').isVisible(), true);
    assert.equal(await pa.locator('#call-local-video').isVisible(), true);
    await shot(pa, 'c03-video-call');
    await pa.click('#call-camera-toggle');
    assert.equal(await pa.locator('#call-camera-toggle').getAttribute('aria-pressed'), 'false');
    assert.equal(await pa.locator('#call-local-video').isVisible(), false);
    await pa.click('#call-camera-toggle');
    assert.equal(await pa.locator('#call-local-video').isVisible(), true);
    await pa.click('#call-hangup');
    await panelState(pb, 'ended');
    assert.match(await pb.locator('#call-state').innerText(), /alice hung up/);
  });

  test('calls: turning the camera on in an audio call renegotiates; B decodes A\'s video', async () => {
    await pa.click('#chat-call');
    await pb.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
    await pb.click('#call-accept');
    await panelState(pa, 'active');
    await panelState(pb, 'active');
    assert.equal(await pa.locator('#call-camera-toggle').innerText(), 'Turn camera on');
    await pa.click('#call-camera-toggle');
    await framesGrow(pb, 'bob');
    assert.equal(await pb.locator('#call-remote-video').isVisible(), true);
    assert.equal((await callOf(bob)).state, 'active');
    assertHears(await heard(pb), ALICE_TONE, "bob's page after the renegotiation");
    await pb.click('#call-hangup');
    await panelState(pa, 'ended');
  });

  test('calls: B declines; A\'s page says so', async () => {
    await pa.click('#chat-call');
    await pb.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
    await pb.getByRole('button', { name: 'Decline the call from alice' }).click();
    await panelState(pa, 'ended');
    assert.match(await pa.locator('#call-state').innerText(), /bob declined the call/);
    assert.equal((await callOf(alice)).end_reason, 'declined');
    await pb.locator('#call-incoming').waitFor({ state: 'hidden' });
    await pb2.locator('#call-incoming').waitFor({ state: 'hidden' });
  });

  test('calls: B is in a call with A when carol calls B: carol\'s call ends "busy"', async () => {
    await pa.click('#chat-call');
    await pb.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
    await pb.click('#call-accept');
    await panelState(pb, 'active');
    const tone = writeTone(path.join(dir, 'carol-busy.wav'), 300, 2);
    const { done } = carol.spawnCli(['call', 'bob', '--json', '--send-audio', tone, '--record', path.join(dir, 'ignored.wav')]);
    const r = await done;
    assert.equal(r.code, 1, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(last.call.end_reason, 'busy: in another call');
    await pb.locator('#status', { hasText: 'Missed call from carol' }).waitFor({ timeout: LONG });
    assert.equal((await callOf(bob)).state, 'active', 'the call with alice goes on');
    await pb.click('#call-hangup');
    await panelState(pa, 'ended');
  });

  test('calls: native `kith call` to the page: each hears the other', async () => {
    const heardFile = path.join(dir, 'carol-heard-1.wav');
    const { done } = carol.spawnCli(['call', 'bob', '--json', '--send-audio', writeTone(path.join(dir, 'carol.wav'), CAROL_TONE, 15),
      '--record', heardFile]);
    await pb.locator('#call-incoming-text', { hasText: 'carol is calling you' }).waitFor({ timeout: LONG });
    const t0 = Date.now();
    await pb.click('#call-accept');
    await panelState(pb, 'active');
    console.log(`# native caller: Accept click to active ${Date.now() - t0} ms`);
    await sleep(1500);
    assertHears(await heard(pb), CAROL_TONE, "bob's page (native caller)");
    await sleep(2000);
    await pb.click('#call-hangup');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(last.call.end_reason, 'the other side hung up');
    const { best, powers } = loudest(heardFile, CANDIDATES);
    assert.equal(best, BOB_TONE, JSON.stringify(powers));
    assert.ok(powers[BOB_TONE] > 100 * powers[CAROL_TONE], JSON.stringify(powers));
  });

  test('calls: the page calls native `kith answer`: each hears the other; carol hangs up', async () => {
    const heardFile = path.join(dir, 'carol-heard-2.wav');
    await chatWith(pb, bob, ids.carol);
    await pb.click('#chat-call');
    await waitState(carol, 'ringing');
    const t0 = Date.now();
    const { done } = carol.spawnCli(['answer', '--json', '--send-audio', path.join(dir, 'carol.wav'), '--record', heardFile]);
    await panelState(pb, 'active');
    console.log(`# native callee: \`kith answer\` started to active ${Date.now() - t0} ms`);
    await sleep(1500);
    assertHears(await heard(pb), CAROL_TONE, "bob's page (native callee)");
    await sleep(2000);
    carol.run(['hangup']);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    await panelState(pb, 'ended');
    assert.match(await pb.locator('#call-state').innerText(), /carol hung up/);
    const { best, powers } = loudest(heardFile, CANDIDATES);
    assert.equal(best, BOB_TONE, JSON.stringify(powers));
    collectSignals();
    assertLoopbackOnly('all calls');
  });

  test('calls: an offline contact: the buttons say so; a call placed anyway says "not reachable"', async () => {
    await carol.stop();
    await pb.locator('#chat-call[disabled]').waitFor({ timeout: LONG });
    assert.match(await pb.locator('#chat-call').getAttribute('title'), /carol is offline/);
    // As the button would if she had left a moment before the page heard of it.
    await pb.evaluate(async (id) => (await import('/ui/js/calls.js')).place(id, false), ids.carol);
    await pb.locator('#call-note', { hasText: 'carol is not reachable now' }).waitFor({ timeout: LONG });
    await shot(pb, 'c04-not-reachable');
    assert.equal((await callOf(bob)).contact.name, 'carol', 'no new call');
    assert.equal((await callOf(bob)).state, 'ended');
  });

  test('calls: closing the page during a call hangs up', async () => {
    await chatWith(pa, alice, ids.bob);
    await pa.click('#chat-call');
    await pb.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
    await pb.click('#call-accept');
    await panelState(pb, 'active');
    await pa.close({ runBeforeUnload: true });
    await panelState(pb, 'ended');
    assert.match(await pb.locator('#call-state').innerText(), /alice hung up/);
  });

  test('calls: no console error or CSP violation, no request outside the node', () => {
    assert.deepEqual(problems.filter((p) => !/status of 40[0139]|status of 503/.test(p)), []);
  });
}
