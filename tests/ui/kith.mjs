// Real `kith daemon` processes for the UI tests, on loopback only: every process gets the safe
// settings below (no DHT, LSD, UPnP or NAT-PMP; BitTorrent and the API on 127.0.0.1, free ports)
// and a fresh home in a temp dir. The same rules as tests/integration/kithtest.py.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KITH_BIN = process.env.KITH_BIN || path.join(REPO, 'build', 'src', 'cli', 'kith');
const KEEP = process.env.KITH_KEEP_TMP === '1';

export const SAFE_SETTINGS = {
  'bt.listen': '127.0.0.1:0',
  'bt.ssl_listen': '127.0.0.1:0', // files sent to contacts: not the default 0.0.0.0:6883 (shared by A and B)
  'api.listen': '127.0.0.1:0',
  'dht.enabled': 'false',
  'lsd.enabled': 'false',
  'nat.upnp': 'false',
  'nat.natpmp': 'false',
  'channel.listen': '127.0.0.1:0',
  'sync.listen': '127.0.0.1:0', // folder sync (BEP): loopback, and off Syncthing's port 22000
  'lan.discovery': 'false',
  'sync.local_discovery': 'false', // Syncthing's LAN announces (UDP broadcast): would leave loopback
  // Calls: candidates outside loopback are dropped by the node both ways, so media stays on 127.0.0.1.
  'calls.ice_networks': '127.0.0.1',
};

// Every node scans what it downloads (ClamAV) and quarantines everything when it has no
// signatures, so each node gets the small test database of tests/clamav/make_test_db.sh (as
// tests/integration/kithtest.py does), and not the system one, for repeatable runs.
let signatureDb = null;
function signatureSettings() {
  if (!signatureDb) {
    signatureDb = fs.mkdtempSync(path.join(os.tmpdir(), 'kith-ui-sigdb-'));
    const r = spawnSync(path.join(REPO, 'tests', 'clamav', 'make_test_db.sh'), [signatureDb], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`make_test_db.sh failed: ${r.stderr}`);
    process.on('exit', () => fs.rmSync(signatureDb, { recursive: true, force: true }));
  }
  return { 'safety.system_signatures': 'false', 'safety.signatures': signatureDb };
}

const live = new Set(); // every child still running, killed if this process exits early
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

export function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs` (a safety net so
// a broken build fails instead of hanging; no test asserts how long anything takes).
export async function waitFor(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
    await sleep(200);
  }
}

export class KithNode {
  constructor(name, settings = {}) {
    this.root = tmpdir(`kith-ui-${name}-`);
    this.home = path.join(this.root, 'home');
    fs.mkdirSync(this.home);
    this.settings = { ...SAFE_SETTINGS, ...signatureSettings(), ...settings };
    this.daemon = null;
    this.log = path.join(this.root, 'daemon.log');
  }

  argv(...args) {
    const out = ['--home', this.home];
    for (const [k, v] of Object.entries(this.settings)) out.push('--set', `${k}=${v}`);
    return out.concat(args.map(String));
  }

  env() {
    // Keep kith away from the real user's folders even if it ignored --home somewhere.
    const env = { ...process.env, HOME: this.root, XDG_DATA_HOME: path.join(this.root, 'xdg-data'),
      XDG_CONFIG_HOME: path.join(this.root, 'xdg-config'), XDG_CACHE_HOME: path.join(this.root, 'xdg-cache') };
    delete env.KITH_HOME;
    return env;
  }

  // Runs one CLI command to completion; throws on a non-zero exit unless check is false.
  run(args, { check = true, timeout = 300000 } = {}) {
    const r = spawnSync(KITH_BIN, this.argv(...args), { env: this.env(), encoding: 'utf8', timeout });
    if (check && r.status !== 0) {
      throw new Error(`kith ${args.join(' ')} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return r;
  }

  runJson(args, opts) { return JSON.parse(this.run([...args, '--json'], opts).stdout); }

  async startDaemon() {
    const out = fs.openSync(this.log, 'w');
    this.daemon = spawn(KITH_BIN, this.argv('daemon'), { env: this.env(), stdio: ['ignore', out, out] });
    fs.closeSync(out);
    live.add(this.daemon);
    this.daemon.on('exit', () => live.delete(this.daemon));
    const file = path.join(this.home, 'daemon.json');
    this.info = await waitFor(() => {
      if (this.daemon.exitCode !== null) throw new Error(`daemon exited ${this.daemon.exitCode}: ${this.tail()}`);
      try {
        const info = JSON.parse(fs.readFileSync(file, 'utf8'));
        return info.pid === this.daemon.pid ? info : null;
      } catch { return null; }
    }, 30000, 'daemon.json');
    this.token = fs.readFileSync(path.join(this.home, 'api.token'), 'utf8').trim();
    return this.info;
  }

  get api() { return this.info.api; }
  get btPort() { return this.info.bt_port; }

  // The daemon's API with the Bearer token: {status, body}.
  async call(method, p, body) {
    const res = await fetch(`http://${this.api}${p}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.status, body: json };
  }

  // Runs a CLI command in the background: {proc, done: Promise<{code, stdout, stderr}>}.
  spawnCli(args) {
    const proc = spawn(KITH_BIN, this.argv(...args), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const done = new Promise((resolve) => proc.on('close', (code) => {
      live.delete(proc);
      resolve({ code, stdout, stderr });
    }));
    return { proc, done };
  }

  // The daemon's event stream (with the token), collected: {events: [{type, data}], close()}.
  async followEvents() {
    const abort = new AbortController();
    const res = await fetch(`http://${this.api}/api/v1/events`, {
      headers: { Authorization: `Bearer ${this.token}` }, signal: abort.signal });
    const events = [];
    (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body) {
          buf += decoder.decode(chunk, { stream: true });
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const type = (block.match(/^event: (.*)$/m) || [])[1];
            const data = (block.match(/^data: (.*)$/m) || [])[1];
            if (type && data) events.push({ type, data: JSON.parse(data) });
          }
        }
      } catch { /* closed */ }
    })();
    return { events, close: () => abort.abort() };
  }

  async stop() {
    if (!this.daemon || this.daemon.exitCode !== null) return;
    const exited = new Promise((r) => this.daemon.once('exit', r));
    this.daemon.kill('SIGTERM');
    const timer = setTimeout(() => this.daemon.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  }

  tail(n = 40) {
    try { return fs.readFileSync(this.log, 'utf8').split('\n').slice(-n).join('\n'); } catch { return ''; }
  }

  cleanup() { if (!KEEP) fs.rmSync(this.root, { recursive: true, force: true }); }
}

// Deterministic sample data (pseudo-random bytes from a seed), so a wrong byte cannot pass.
export function makeTree(root, spec) {
  for (const [rel, bytes] of Object.entries(spec)) {
    const file = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const out = Buffer.alloc(bytes);
    let block = createHash('sha256').update(rel).digest();
    for (let off = 0; off < bytes; off += block.length) {
      block.copy(out, off, 0, Math.min(block.length, bytes - off));
      block = createHash('sha256').update(block).digest();
    }
    fs.writeFileSync(file, out);
  }
  return root;
}

// {relative path: sha256} of every file under root.
export function hashTree(root) {
  const out = {};
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[path.relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

// Makes `asker` and `answerer` contacts through the API (as `kith contacts add/accept` would) and waits
// until each sees the other online.
export async function befriend(asker, answerer) {
  const invite = (await answerer.call('GET', '/api/v1/id')).body.invite;
  const askerId = (await asker.call('GET', '/api/v1/id')).body.id;
  const answererId = (await answerer.call('GET', '/api/v1/id')).body.id;
  const added = await asker.call('POST', '/api/v1/contacts', { invite });
  if (added.status >= 300) throw new Error(`adding a contact: ${JSON.stringify(added.body)}`);
  await waitFor(async () => (await answerer.call('GET', '/api/v1/contacts/requests')).body
    .some((r) => r.id === askerId), 30000, 'the contact request');
  const accepted = await answerer.call('POST', `/api/v1/contacts/${askerId}/accept`);
  if (accepted.status >= 300) throw new Error(`accepting: ${JSON.stringify(accepted.body)}`);
  for (const [n, id] of [[asker, answererId], [answerer, askerId]]) {
    await waitFor(async () => {
      const c = (await n.call('GET', `/api/v1/contacts/${id}`)).body;
      return c.state === 'accepted' && c.online;
    }, 30000, 'both online');
  }
  return { askerId, answererId };
}

// ---- Tones for the call tests (as tests/integration/tones.py) ----

// A mono 16-bit 48 kHz WAV of a sine at `freq` Hz.
export function writeTone(file, freq, seconds = 6, rate = 48000, amplitude = 0.5) {
  const n = Math.floor(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(amplitude * 32767 * Math.sin(2 * Math.PI * freq * i / rate)), 44 + i * 2);
  fs.writeFileSync(file, buf);
  return file;
}

// (rate, first channel as floats) of a 16-bit PCM WAV.
export function readWav(file) {
  const buf = fs.readFileSync(file);
  let off = 12; let rate = 0; let channels = 1; let bits = 16;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(off + 10); rate = buf.readUInt32LE(off + 12); bits = buf.readUInt16LE(off + 22);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${file}: ${bits}-bit samples, expected 16`);
      const end = Math.min(buf.length, off + 8 + size);
      const samples = [];
      for (let p = off + 8; p + 2 <= end; p += 2 * channels) samples.push(buf.readInt16LE(p) / 32768);
      return { rate, samples };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

// Goertzel: the power at `freq`, normalised by length.
export function powerAt(samples, rate, freq) {
  const k = 2 * Math.cos(2 * Math.PI * freq / rate);
  let s1 = 0; let s2 = 0;
  for (const x of samples) { const s0 = x + k * s1 - s2; s2 = s1; s1 = s0; }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / Math.max(1, samples.length);
}

// Of `candidates` (Hz), the loudest in the recording (after `skip` s, for `max` s), and the powers.
export function loudest(file, candidates, skip = 0.5, max = 3) {
  const { rate, samples } = readWav(file);
  const part = samples.slice(Math.floor(skip * rate), Math.floor((skip + max) * rate));
  const powers = Object.fromEntries(candidates.map((f) => [f, powerAt(part, rate, f)]));
  const best = candidates.reduce((x, y) => (powers[y] > powers[x] ? y : x));
  return { best, powers, seconds: part.length / rate };
}
