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
  'lan.discovery': 'false',
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
