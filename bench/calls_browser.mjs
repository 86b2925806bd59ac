// Calls, browser <-> browser (bench/calls.py's `browser` scenario; it also runs alone): two `kith daemon`s
// (contacts, calls.ice_networks=127.0.0.1, no DHT/LSD/UPnP/NAT-PMP: tests/ui/kith.mjs's SAFE_SETTINGS),
// two headless Chromiums each logged in to its node's web UI, each with its own fake microphone: a WAV of
// silence with a one-second tone burst from 1.000 s (caller 440 Hz, callee 660 Hz; Chromium loops the file,
// so the burst recurs every FILE_LEN s). Page A places N calls (the Call button), page B clicks Accept.
// Per call, one JSON line on stdout (logs on stderr); method and caveats in bench/README.md § Calls.
//
//   node bench/calls_browser.mjs [--calls 3] [--hold 3.5] [--no-monitors]
//
// Needs KITH_BIN (default build/src/cli/kith), Chromium (KITH_CHROMIUM, default /usr/bin/chromium) and
// playwright-core in tests/ui/node_modules (`npm ci` in tests/ui).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import { KithNode, befriend, sleep, tmpdir, waitFor } from '../tests/ui/kith.mjs';
import { openPage } from '../tests/ui/pages.mjs';

// playwright-core from tests/ui/node_modules, where tests/ui's own helpers find it.
const { chromium } = createRequire(new URL('../tests/ui/package.json', import.meta.url))('playwright-core');

const CHROMIUM = process.env.KITH_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', // as tests/ui/ui.test.mjs
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RATE = 48000;
const BURST_AT = 1.0;
const BURST_LEN = 1.0;
const FILE_LEN = 3.0; // looped by Chromium: a burst every 3 s, so every --hold >= 3.5 s has one each way
const CALLER_TONE = 440;
const CALLEE_TONE = 660;
const LONG = 60000;

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('calls', 3);
const HOLD = arg('hold', 3.5);
// --no-monitors: no tone analysers (no latency figures), to see what they cost in CPU.
const MONITORS = !process.argv.includes('--no-monitors');
const log = (m) => process.stderr.write(`[calls-browser ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const now = () => performance.timeOrigin + performance.now(); // ms, the same clock as the pages' (wall clock)

function writeBurst(file, freq) {
  const n = Math.floor(FILE_LEN * RATE);
  const start = BURST_AT * RATE;
  const end = (BURST_AT + BURST_LEN) * RATE;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(RATE, 24); buf.writeUInt32LE(RATE * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  for (let i = start; i < end; i++) {
    buf.writeInt16LE(Math.round(0.5 * 32767 * Math.sin(2 * Math.PI * freq * (i - start) / RATE)), 44 + i * 2);
  }
  fs.writeFileSync(file, buf);
  return file;
}

const profiles = [];
function launch(name, wav) {
  profiles.push(tmpdir(`kith-bench-chromium-${name}-`));
  return chromium.launchPersistentContext(profiles.at(-1), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1100, height: 900 },
    args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`,
      '--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required'],
  });
}

// -- /proc: CPU of this process's descendants (the Chromiums: browser, zygotes, renderers, utilities) ----

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux
function procs() {
  const out = new Map(); // pid -> {ppid, cpu}
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
      out.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch { /* gone */ }
  }
  return out;
}
// {pid: CPU s} of every descendant of `root` but `exclude` (the daemons).
function treeCpu(root, exclude) {
  const all = procs();
  const kids = new Map();
  for (const [pid, p] of all) (kids.get(p.ppid) || kids.set(p.ppid, []).get(p.ppid)).push(pid);
  const out = new Map();
  const stack = [...(kids.get(root) || [])];
  while (stack.length) {
    const pid = stack.pop();
    if (exclude.has(pid)) continue;
    out.set(pid, all.get(pid).cpu);
    stack.push(...(kids.get(pid) || []));
  }
  return out;
}
// CPU of the Chromium process trees over an interval, including processes that exit within it (the
// audio service, renderers): the tree is sampled every 100 ms and each process counts with its last
// sample.
class CpuMeter {
  constructor(exclude) { this.exclude = exclude; this.timer = null; }
  start() {
    this.first = treeCpu(process.pid, this.exclude);
    this.last = new Map(this.first);
    this.timer = setInterval(() => this.sample(), 100);
  }
  sample() { for (const [pid, c] of treeCpu(process.pid, this.exclude)) this.last.set(pid, c); }
  // CPU s since start() (sampling goes on).
  read() {
    this.sample();
    let s = 0;
    for (const [pid, c] of this.last) s += c - (this.first.get(pid) || 0);
    return s;
  }
  stop() { clearInterval(this.timer); return this.read(); }
}
const pidCpu = (pids) => { const all = procs(); return pids.reduce((s, pid) => s + (all.get(pid)?.cpu || 0), 0); };

// -- in the pages -------------------------------------------------------------------------------------

// Installed in a page once: tone-onset monitors on a track (an AnalyserNode polled every ~4 ms; each poll
// takes the last 2048 samples and its time; when the last 5 ms window's amplitude at `freq` reaches
// THRESH, the buffer is scanned in 1 ms steps for the first such window, whose middle is the onset:
// poll time - (samples after it) / rate), plus probes for the call's first audio (getStats) and the
// panel's state.
function pageKit() {
  const THRESH = 0.1; // amplitude at the tone (the burst is 0.5: a window a fifth covered)
  const clock = () => performance.timeOrigin + performance.now();
  const amp = (buf, from, n, freq, rate) => {
    const k = 2 * Math.cos(2 * Math.PI * freq / rate);
    let s1 = 0; let s2 = 0;
    for (let i = from; i < from + n; i++) { const s0 = buf[i] + k * s1 - s2; s2 = s1; s1 = s0; }
    return 2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - k * s1 * s2)) / n;
  };
  const kit = { onsets: {}, stop: false, monitors: [] };
  kit.monitor = async (label, track, freq) => {
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const an = ctx.createAnalyser();
    an.fftSize = 2048;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    const rate = ctx.sampleRate;
    const win = Math.round(0.005 * rate);
    const step = Math.round(0.001 * rate);
    const list = kit.onsets[label] = [];
    let above = false; let quietSince = 0;
    kit.monitors.push(ctx);
    while (!kit.stop) {
      an.getFloatTimeDomainData(buf);
      const t = clock();
      const a = amp(buf, buf.length - win, win, freq, rate);
      if (!above && a >= THRESH) {
        let i = 0;
        while (i + win < buf.length && amp(buf, i, win, freq, rate) < THRESH) i += step;
        list.push(t - 1000 * (buf.length - (i + win / 2)) / rate);
        above = true;
      } else if (above && a < THRESH / 4) {
        if (!quietSince) quietSince = t;
        else if (t - quietSince > 200) { above = false; quietSince = 0; }
      } else quietSince = 0;
      await new Promise((r) => setTimeout(r, 4));
    }
    await ctx.close();
  };
  // The first getStats poll (every 5 ms) where the inbound audio has decoded samples that are not
  // concealment, i.e. real audio played out by NetEq.
  kit.firstAudio = async (pc) => {
    while (!kit.stop && !kit.firstAudioAt) {
      const r = await pc.getStats();
      r.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio' && (s.totalSamplesReceived || 0) - (s.concealedSamples || 0) > 0
          && !kit.firstAudioAt) kit.firstAudioAt = clock();
      });
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  const panel = document.getElementById('call-panel');
  new MutationObserver(() => {
    if (panel.dataset.state === 'active' && !kit.activeAt) kit.activeAt = clock();
  }).observe(panel, { attributes: true, attributeFilter: ['data-state'] });
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('#call-accept')) kit.acceptAt = clock();
  }, true);
  window.benchKit = kit;
}

// Starts the monitors (not awaited: they run until kit.stop). `which`: 'local', 'remote' or both.
const startMonitors = (p, which, localTone, remoteTone) => !MONITORS ? Promise.resolve() : p.evaluate(async ([which, localTone, remoteTone]) => {
  const { endpoint } = await import('/ui/js/calls.js');
  let ep;
  const end = Date.now() + 30000;
  while (!(ep = endpoint()) || !ep.pc) {
    if (Date.now() > end) throw new Error('no endpoint');
    await new Promise((r) => setTimeout(r, 5));
  }
  const kit = window.benchKit;
  if (which.includes('local')) kit.monitor('local', ep.local.getAudioTracks()[0], localTone);
  if (which.includes('remote')) {
    while (!ep.pc.getReceivers().some((r) => r.track && r.track.kind === 'audio')) await new Promise((r) => setTimeout(r, 5));
    kit.monitor('remote', ep.pc.getReceivers().find((r) => r.track && r.track.kind === 'audio').track, remoteTone);
    kit.firstAudio(ep.pc);
  }
}, [which, localTone, remoteTone]);

const resetKit = (p) => p.evaluate(() => {
  const kit = window.benchKit;
  kit.stop = false; kit.onsets = {}; kit.monitors = [];
  delete kit.activeAt; delete kit.acceptAt; delete kit.firstAudioAt;
});
const harvest = (p) => p.evaluate(async () => {
  const kit = window.benchKit;
  kit.stop = true;
  await new Promise((r) => setTimeout(r, 50));
  const { endpoint } = await import('/ui/js/calls.js');
  const ep = endpoint();
  return { onsets: kit.onsets, activeAt: kit.activeAt, acceptAt: kit.acceptAt, firstAudioAt: kit.firstAudioAt,
    setupMs: ep ? ep.setupMs : null };
});

// Mouth-to-ear one way: each onset heard (remote track at the receiver) minus the sender's latest onset
// (its local track) before it; the first pair under half a burst period.
function pair(mouths = [], ears = []) {
  for (const e of ears) {
    const m = mouths.filter((x) => x < e).pop();
    if (m !== undefined && e - m < 1000 * FILE_LEN / 2) return e - m;
  }
  return null;
}

// -- main ---------------------------------------------------------------------------------------------

async function main() {
  const dir = tmpdir('kith-bench-browser-');
  const alice = new KithNode('bench-alice', { 'profile.name': 'alice' });
  const bob = new KithNode('bench-bob', { 'profile.name': 'bob' });
  let ctxA; let ctxB;
  const problems = [];
  try {
    for (const n of [alice, bob]) await n.startDaemon();
    const { answererId: bobId } = await befriend(alice, bob);
    ctxA = await launch('alice', writeBurst(path.join(dir, 'alice.wav'), CALLER_TONE));
    ctxB = await launch('bob', writeBurst(path.join(dir, 'bob.wav'), CALLEE_TONE));
    const pa = await openPage(ctxA, alice, 'alice', problems);
    const pb = await openPage(ctxB, bob, 'bob', problems);
    await pa.goto(`http://${alice.api}/ui/#/contacts/${bobId}`);
    await pa.locator('#chat-call:not([disabled])').waitFor({ timeout: LONG });
    for (const p of [pa, pb]) await p.evaluate(pageKit);
    const daemons = [alice.daemon.pid, bob.daemon.pid];
    const meter = new CpuMeter(new Set(daemons));
    // Baseline: both Chromiums with their pages open and no call, over HOLD s (one line, `idle: true`).
    meter.start();
    const i0 = now();
    await sleep(HOLD * 1000);
    const idle = { idle: true, cpu_idle_pct: 100 * meter.stop() / ((now() - i0) / 1000) };
    log(`no call: ${JSON.stringify(idle)}`);
    process.stdout.write(`${JSON.stringify(idle)}\n`);
    const callOf = async (node) => (await node.call('GET', '/api/v1/calls')).body.calls[0];
    for (let n = 0; n < CALLS; n++) {
      let r;
      try {
        for (const p of [pa, pb]) await resetKit(p);
        meter.start(); const cpuD0 = pidCpu(daemons);
        await pa.click('#chat-call');
        startMonitors(pa, ['local'], CALLER_TONE, CALLEE_TONE).catch((e) => log(`monitor: ${e.message}`));
        await pb.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
        // The caller's node: the call `active` (API polled every 10 ms from here).
        let apiActive = null; let polling = true;
        const poll = (async () => {
          while (polling && !apiActive) {
            const c = await callOf(alice).catch(() => null);
            if (c && c.state === 'active') apiActive = now();
            await sleep(10);
          }
        })();
        await pa.evaluate(() => {
          (async () => {
            const { endpoint } = await import('/ui/js/calls.js');
            while (!window.benchKit.stop && !window.benchKit.firstAudioAt) {
              const ep = endpoint();
              if (ep && ep.pc) { await window.benchKit.firstAudio(ep.pc); break; }
              await new Promise((r) => setTimeout(r, 5));
            }
          })();
        });
        await pb.click('#call-accept');
        startMonitors(pb, ['local', 'remote'], CALLEE_TONE, CALLER_TONE).catch((e) => log(`monitor: ${e.message}`));
        await pa.locator('#call-panel[data-state="active"]').waitFor({ timeout: LONG });
        startMonitors(pa, ['remote'], CALLER_TONE, CALLEE_TONE).catch((e) => log(`monitor: ${e.message}`));
        await pb.locator('#call-panel[data-state="active"]').waitFor({ timeout: LONG });
        await waitFor(() => apiActive, LONG, 'active at the caller\'s node');
        polling = false;
        await poll;
        const c1 = meter.read(); const t1 = now();
        await sleep(HOLD * 1000);
        const c2 = meter.read(); const t2 = now();
        const ha = await harvest(pa);
        const hb = await harvest(pb);
        await pb.click('#call-hangup');
        await pa.locator('#call-panel[data-state="ended"]').waitFor({ timeout: LONG });
        await waitFor(async () => (await callOf(alice)).state === 'ended' && (await callOf(bob)).state === 'ended', LONG, 'ended');
        await sleep(300); // the pages release their microphones and peer connections
        const cpu = meter.stop();
        const accept = hb.acceptAt;
        const c2a = pair(hb.onsets.local, ha.onsets.remote);
        const a2c = pair(ha.onsets.local, hb.onsets.remote);
        r = {
          ok: !!(accept && ha.activeAt && ha.firstAudioAt),
          accept_to_active_api_ms: apiActive - accept,
          accept_to_active_ui_ms: ha.activeAt - accept,
          accept_to_active_callee_ui_ms: hb.activeAt - accept,
          accept_to_first_audio_ms: ha.firstAudioAt ? ha.firstAudioAt - accept : null,
          endpoint_setup_ms_caller: ha.setupMs, endpoint_setup_ms_callee: hb.setupMs,
          latency_callee_to_caller_ms: c2a, latency_caller_to_callee_ms: a2c,
          latency_ms: c2a !== null && a2c !== null ? (c2a + a2c) / 2 : null,
          cpu_browsers_s: cpu, cpu_daemons_s: pidCpu(daemons) - cpuD0,
          cpu_active_pct: 100 * (c2 - c1) / ((t2 - t1) / 1000),
          onsets: { caller: ha.onsets, callee: hb.onsets },
        };
        if (c2a === null || a2c === null) r.latency_note = 'a burst onset was not seen both at its sender and its receiver';
      } catch (e) {
        meter.stop();
        log(`browser call ${n + 1} failed: ${e.message}`);
        r = { ok: false, error: e.message };
        for (const node of [alice, bob]) {
          const c = await callOf(node).catch(() => null);
          if (c && c.state !== 'ended') await node.call('POST', `/api/v1/calls/${c.id}/hangup`);
        }
      }
      const { onsets, ...shown } = r;
      log(`browser call ${n + 1}: ${JSON.stringify(shown)}`);
      process.stdout.write(`${JSON.stringify(r)}\n`);
      await sleep(1000);
    }
    const real = problems.filter((p) => !/status of 40[0139]|status of 503/.test(p));
    if (real.length) log(`page problems: ${real.join('; ')}`);
  } finally {
    for (const c of [ctxA, ctxB]) if (c) await c.close().catch(() => {});
    for (const n of [alice, bob]) { await n.stop(); n.cleanup(); }
    for (const d of [dir, ...profiles]) fs.rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e) => { log(e.stack || e.message); process.exit(1); });
