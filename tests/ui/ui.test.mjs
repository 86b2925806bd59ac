// End-to-end tests of the web UI: two real kith daemons on loopback, Debian's Chromium (headless,
// fresh profile, no background traffic) driven by playwright-core. Node A shares a folder with the
// CLI; the browser logs in to node B with `kith ui --json`'s link and works only through the page.
// Screenshots go to KITH_UI_ARTIFACTS (default build/test-artifacts/ui).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';

import { callTests } from './calls.mjs';
import { conferenceTests } from './conference.mjs';
import { syncTests } from './sync.mjs';
import { KITH_BIN, KithNode, REPO, hashTree, makeTree, tmpdir, waitFor } from './kith.mjs';

const CHROMIUM = process.env.KITH_CHROMIUM || '/usr/bin/chromium';
// Exactly the flags the issue names; the profile is a fresh --user-data-dir (launchPersistentContext).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = process.env.KITH_UI_ARTIFACTS || path.join(REPO, 'build', 'test-artifacts', 'ui');
const LONG = 180000; // safety net for waits; nothing asserts a duration

let a; let b; let context; let page; let pageA; let loginUrl; let dataDir; let downloads; let profile;
let album; // node A's share that B downloads first: {magnet, id, size}
const requests = [];
const problems = []; // console errors and CSP violations

async function shot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function row(name) {
  return page.locator('#transfer-list li.transfer').filter({ has: page.locator('a.name', { hasText: name }) });
}

before(async () => {
  assert.ok(fs.existsSync(KITH_BIN), `kith binary not found at ${KITH_BIN} (set KITH_BIN)`);
  assert.ok(fs.existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}`);
  fs.rmSync(ARTIFACTS, { recursive: true, force: true }); // this run's screenshots only
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = tmpdir('kith-ui-data-');
  downloads = path.join(dataDir, 'downloads');
  a = new KithNode('a', { 'profile.name': 'alice' });
  b = new KithNode('b', { 'download.dir': downloads, 'profile.name': 'bob' });
  await a.startDaemon();
  await b.startDaemon();
  profile = tmpdir('kith-ui-chromium-');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 900 },
  });
  page = context.pages()[0] || await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.exposeFunction('kithReportCsp', (v) => problems.push(`CSP violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.kithReportCsp(e.violatedDirective));
  });
});

after(async () => {
  if (context) await context.close();
  for (const n of [a, b]) {
    if (!n) continue;
    await n.stop();
    if (process.exitCode) console.error(`--- ${n.home} daemon log ---\n${n.tail()}`);
    n.cleanup();
  }
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  if (dataDir && process.env.KITH_KEEP_TMP !== '1') fs.rmSync(dataDir, { recursive: true, force: true });
});

test('without a login the page says how to log in, and the API refuses', async () => {
  await page.goto(`http://${b.api}/`);
  await page.locator('#login-needed').waitFor({ state: 'visible' });
  assert.match(await page.locator('#login-needed').innerText(), /kith ui/);
  const status = await page.evaluate(async () => (await fetch('/api/v1/status')).status);
  assert.equal(status, 401);
});

test('kith ui gives a one-time link; after login no secret is left in the URL', async () => {
  const ui = b.runJson(['ui']);
  loginUrl = ui.url;
  assert.match(loginUrl, new RegExp(`^http://${b.api.replace(/\./g, '\\.')}/ui/login\\?token=[0-9a-f]{64}$`));
  await page.goto(loginUrl);
  await page.locator('#view-transfers').waitFor({ state: 'visible' });
  const landed = new URL(page.url());
  assert.equal(landed.pathname, '/ui/');
  assert.equal(landed.search, '', 'the 303 dropped the query with the token');
  assert.ok(!page.url().includes('token'));
  const cookies = await context.cookies(`http://${b.api}`);
  const session = cookies.find((c) => c.name.startsWith('kith_session_'));
  assert.ok(session, 'a session cookie was set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('kith_session'), 'scripts cannot read it');
  // The login link works once.
  const second = await context.newPage();
  const res = await second.goto(loginUrl);
  assert.equal(res.status(), 403);
  assert.match(await second.locator('h1').innerText(), /not valid/);
  await second.close();
  await shot('01-logged-in-empty');
});

test('a link added in the page downloads from node A, live, byte for byte', async () => {
  const src = makeTree(path.join(dataDir, 'album'), {
    'big.bin': 24 << 20, 'docs/notes.txt': 20000, 'docs/cover.jpg': 300 * 1024,
  });
  const shared = a.runJson(['share', src]); // a hybrid torrent: pad files between its files
  album = { magnet: shared.magnet, id: shared.id, size: (24 << 20) + 20000 + 300 * 1024 };
  assert.ok(shared.magnet.includes(`x.pe=127.0.0.1:${a.btPort}`), 'the link names A on loopback');
  // A second listener on the event stream, to check that the page's session receives live events.
  await page.evaluate(() => {
    window.kithSeen = [];
    const es = new EventSource('/api/v1/events');
    for (const t of ['transfer.added', 'transfer.progress', 'transfer.completed']) {
      es.addEventListener(t, () => window.kithSeen.push(t));
    }
    return new Promise((resolve) => { es.onopen = resolve; });
  });
  assert.equal(await page.locator('#conn').innerText(), 'live');
  await page.fill('#add-link', shared.magnet);
  await page.click('#add-submit');
  const r = row('album');
  await r.waitFor({ state: 'visible' });
  // Live updates: the row reaches "completed" with no reload.
  await r.locator('.state', { hasText: 'completed' }).waitFor({ timeout: LONG });
  assert.equal(await r.locator('progress').evaluate((p) => p.value), 1);
  assert.deepEqual(hashTree(path.join(downloads, 'album')), hashTree(src));
  const seen = await page.evaluate(() => window.kithSeen);
  assert.ok(seen.includes('transfer.added') && seen.includes('transfer.completed'), `events seen: ${seen}`);
  // Sizes leave the hybrid torrent's padding out; a finished download downloads at 0 B/s.
  const t = (await b.call('GET', `/api/v1/transfers/${album.id}`)).body;
  assert.equal(t.total_size, album.size);
  assert.equal(t.total_wanted, album.size);
  assert.equal(t.download_rate, 0);
  await shot('02-download-completed');
});

test('adding a link that is already there says so and points to it', async () => {
  const before = (await b.call('GET', '/api/v1/transfers')).body.length;
  await page.fill('#add-link', album.magnet);
  await page.click('#add-submit');
  const note = page.locator('#add-note');
  await note.locator('a').waitFor();
  assert.match(await note.innerText(), /already in your transfers/i);
  assert.doesNotMatch(await page.locator('#status').innerText(), /^Added/);
  assert.equal(await note.locator('a').getAttribute('href'), `#/transfers/${album.id}`);
  assert.equal((await b.call('GET', '/api/v1/transfers')).body.length, before);
  await shot('02b-already-there');
});

test('a magnet without metadata says it waits for it, not "0% of 0 B"', async () => {
  // Nobody has this hash (no DHT, no tracker, no peer): the metadata never comes.
  await page.fill('#add-link', `magnet:?xt=urn:btih:${'c0ffee'.repeat(6)}c0ff&dn=nowhere`);
  await page.click('#add-submit');
  const r = row('nowhere');
  await r.waitFor({ state: 'visible', timeout: LONG });
  const facts = await r.locator('.facts').innerText();
  assert.match(facts, /waiting for metadata/);
  assert.doesNotMatch(facts, /0% of 0 B/);
  assert.equal(await r.locator('progress').evaluate((p) => p.hasAttribute('value')), false, 'indeterminate');
  await shot('02c-waiting-for-metadata');
  page.once('dialog', (d) => d.accept());
  await r.getByRole('button', { name: 'Remove nowhere' }).click();
  await r.waitFor({ state: 'detached', timeout: LONG });
});

test('pause and resume from the page', async () => {
  const r = row('album');
  await r.getByRole('button', { name: 'Pause album' }).click();
  await r.locator('.state', { hasText: 'paused' }).waitFor({ timeout: LONG });
  const list = (await b.call('GET', '/api/v1/transfers')).body;
  const paused = list.find((t) => t.name === 'album');
  assert.equal(paused.state, 'paused');
  // Nothing moves while paused: 0, not libtorrent's decaying averages.
  assert.deepEqual([paused.download_rate, paused.upload_rate], [0, 0]);
  const facts = await r.locator('.facts').innerText();
  assert.match(facts, /↓ 0 B\/s/);
  assert.match(facts, /↑ 0 B\/s/);
  await shot('03-paused');
  await r.getByRole('button', { name: 'Resume album' }).click();
  await r.locator('.state', { hasText: 'completed' }).waitFor({ timeout: LONG });
  const again = (await b.call('GET', '/api/v1/transfers')).body;
  assert.equal(again.find((t) => t.name === 'album').state, 'completed');
});

test('a bad link shows the node\'s error and adds nothing', async () => {
  const before = (await b.call('GET', '/api/v1/transfers')).body.length;
  await page.fill('#add-link', 'magnet:?xt=urn:btih:not-a-hash');
  await page.click('#add-submit');
  const error = page.locator('#add-error');
  await waitFor(async () => (await error.innerText()).length > 0, LONG, 'the error message');
  assert.match(await error.innerText(), /magnet|hash|link/i);
  assert.equal((await b.call('GET', '/api/v1/transfers')).body.length, before);
  await shot('04-bad-link');
  await page.fill('#add-link', '');
});

test('details: files, magnet link and its QR code', async () => {
  await row('album').locator('a.name').click();
  await page.locator('#view-details').waitFor({ state: 'visible' });
  await waitFor(async () => (await page.inputValue('#details-magnet')).startsWith('magnet:?'), LONG, 'magnet');
  assert.equal(await page.locator('#files-list input[type=checkbox]').count(), 3);
  const qr = await page.locator('#details-qr').evaluate(async (img) => {
    if (!img.complete) await new Promise((r) => { img.onload = r; img.onerror = r; });
    return img.naturalWidth;
  });
  assert.ok(qr > 0, 'the QR code image loaded');
  await shot('05-details');
  // Fewer files of the finished download: the size shown follows the choice.
  const small = 20000 + 300 * 1024;
  await page.getByLabel('album/big.bin').uncheck();
  await page.click('#files-apply');
  await waitFor(async () => (await b.call('GET', `/api/v1/transfers/${album.id}`)).body.total_wanted === small,
    LONG, 'total_wanted to follow the choice');
  await waitFor(async () => (await page.locator('#details-summary').innerText()).includes('100% of 320 KiB'),
    LONG, 'the page to show the chosen size');
  await shot('05b-details-fewer-files');
  await page.getByLabel('album/big.bin').check();
  await page.click('#files-apply');
  await waitFor(async () => (await b.call('GET', `/api/v1/transfers/${album.id}`)).body.total_wanted === album.size,
    LONG, 'every file chosen again');
  await page.goto(`http://${b.api}/ui/#/transfers`);
});

test('a .torrent file chosen in the page is added; files are chosen one by one; remove', async () => {
  const src = makeTree(path.join(dataDir, 'second'), { 'one.bin': 200000, 'two.bin': 300000 });
  const torrentFile = path.join(dataDir, 'second.torrent');
  a.run(['share', src, '--torrent', torrentFile]);
  // A .torrent names no peer and DHT is off, so B knows the files but gets no data: a transfer that
  // stays open for choosing files.
  await page.setInputFiles('#add-torrent', torrentFile);
  await page.click('#add-submit');
  const r = row('second');
  await r.waitFor({ state: 'visible', timeout: LONG });
  await r.locator('a.name').click();
  await page.locator('#view-details').waitFor({ state: 'visible' });
  await waitFor(async () => (await page.locator('#files-list input[type=checkbox]').count()) === 2, LONG, 'files');
  await page.getByLabel('second/two.bin').uncheck();
  await page.click('#files-apply');
  await page.locator('#files-note', { hasText: 'Selection applied: 1 file.' }).waitFor();
  const id = (await b.call('GET', '/api/v1/transfers')).body.find((t) => t.name === 'second').id;
  const files = (await b.call('GET', `/api/v1/transfers/${id}`)).body.files;
  assert.deepEqual(files.map((f) => [f.path, f.wanted]), [['second/one.bin', true], ['second/two.bin', false]]);
  await shot('06-file-selection');

  await page.goto(`http://${b.api}/ui/#/transfers`);
  page.once('dialog', (d) => d.accept());
  await row('second').getByRole('button', { name: 'Remove second' }).click();
  await row('second').waitFor({ state: 'detached', timeout: LONG });
  assert.equal((await b.call('GET', `/api/v1/transfers/${id}`)).status, 404);
});

test('a folder chosen in the page is uploaded, shared, and fetched by node A', async () => {
  const folder = makeTree(path.join(dataDir, 'from-browser', 'photos'), { 'a.jpg': 700000, 'sub/b.txt': 5000 });
  await page.setInputFiles('#share-folder', folder);
  const r = row('photos');
  await r.waitFor({ state: 'visible', timeout: LONG });
  const t = (await b.call('GET', '/api/v1/transfers')).body.find((x) => x.name === 'photos');
  assert.equal(t.kind, 'share');
  const shown = (await b.call('GET', `/api/v1/transfers/${t.id}`)).body;
  const dest = path.join(dataDir, 'a-got');
  a.run(['get', shown.magnet, '--to', dest]);
  assert.deepEqual(hashTree(path.join(dest, 'photos')), hashTree(folder));
  await shot('07-shared-upload');
});

test('several loose files are shared under a name the user gives', async () => {
  const dir = makeTree(path.join(dataDir, 'loose'), { 'sunset.jpg': 90000, 'beach.jpg': 80000, 'notes.txt': 3000 });
  await page.setInputFiles('#share-files', ['sunset.jpg', 'beach.jpg', 'notes.txt'].map((f) => path.join(dir, f)));
  const form = page.locator('#share-name-form');
  await form.waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('#share-name'), 'beach and 2 more', 'a sensible default');
  await shot('07b-share-name');
  await page.fill('#share-name', 'Holiday');
  await form.getByRole('button', { name: 'Share' }).click();
  await row('Holiday').waitFor({ state: 'visible', timeout: LONG });
  assert.equal(await form.isHidden(), true);
  const t = (await b.call('GET', '/api/v1/transfers')).body.find((x) => x.name === 'Holiday');
  assert.equal(t.kind, 'share');
  const shown = (await b.call('GET', `/api/v1/transfers/${t.id}`)).body;
  const dest = path.join(dataDir, 'a-got-loose');
  a.run(['get', shown.magnet, '--to', dest]);
  assert.deepEqual(hashTree(path.join(dest, 'Holiday')), hashTree(dir));
});

test('a file dropped on the drop zone is shared', async () => {
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped by a test\n'], 'dropped.txt', { type: 'text/plain' }));
    document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await row('dropped.txt').waitFor({ state: 'visible', timeout: LONG });
  const t = (await b.call('GET', '/api/v1/transfers')).body.find((x) => x.name === 'dropped.txt');
  assert.equal(t.total_size, 'dropped by a test\n'.length);
});

test('node page: status and a live setting', async () => {
  await page.click('#nav-node');
  await page.locator('#view-node').waitFor({ state: 'visible' });
  await waitFor(async () => (await page.locator('#node-status').innerText()).includes(String(b.btPort)), LONG, 'status');
  // The daemon's reach: on loopback no public peer has seen it, and it relays for contacts by default.
  const facts = await page.locator('#node-status').innerText();
  assert.match(facts, /NAT\s+not known yet/);
  assert.match(facts, /Relay for contacts\s+on: 0 of 8 circuits/);
  const form = page.locator('form[data-name="limits.upload"]');
  await form.locator('input').fill('123456');
  await form.getByRole('button', { name: 'Save limits.upload' }).click();
  await page.locator('.setting', { has: form }).locator('.note', { hasText: 'Saved and applied.' }).waitFor();
  assert.equal((await b.call('GET', '/api/v1/status')).body.limits.upload, 123456);
  assert.match(fs.readFileSync(path.join(b.home, 'config.toml'), 'utf8'), /upload = 123456/);
  await shot('08-node');
  // A value the node could not use is refused with the node's message, next to the field.
  const listen = page.locator('form[data-name="bt.listen"]');
  await listen.locator('input').fill('garbage');
  await listen.getByRole('button', { name: 'Save bt.listen' }).click();
  const setting = page.locator('.setting', { has: listen });
  const error = setting.locator('.error');
  await waitFor(async () => (await error.innerText()).length > 0, LONG, 'the refusal');
  assert.match(await error.innerText(), /Not saved: bt\.listen: 'garbage' is not IP:PORT/);
  assert.equal(await listen.locator('input').getAttribute('aria-invalid'), 'true');
  assert.doesNotMatch(fs.readFileSync(path.join(b.home, 'config.toml'), 'utf8'), /garbage/);
  await setting.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, '08b-setting-refused.png') });
  await listen.locator('input').fill('127.0.0.1:0');
  assert.equal(await error.innerText(), '', 'typing clears the message');
});

test('quarantine: an EICAR download is held with its reason, never released; delete from the page', async () => {
  // The EICAR anti-virus test file, assembled here so this source is not itself a detection.
  const dir = path.join(dataDir, 'suspicious');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'eicar.com'), 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-' + 'STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
  const shared = a.runJson(['share', dir]);
  await page.goto(`http://${b.api}/ui/#/transfers`);
  await page.fill('#add-link', shared.magnet);
  await page.click('#add-submit');
  const r = row('suspicious');
  await r.locator('.state', { hasText: 'quarantined' }).waitFor({ timeout: LONG });
  assert.ok((await r.locator('.facts').innerText()).includes('can run code'), 'flagged as runnable');
  assert.equal(fs.existsSync(path.join(downloads, 'suspicious')), false, 'never in the download folder');
  await waitFor(async () => (await page.locator('#quarantine-count').innerText()) === '(1)', LONG, 'the count');
  await page.click('#nav-quarantine');
  const item = page.locator('#quarantine-list > li').filter({ hasText: 'suspicious' });
  await item.waitFor({ state: 'visible' });
  const text = await item.innerText();
  assert.match(text, /Infected/);
  assert.match(text, /Kith\.Test\.Eicar/);
  assert.match(text, /suspicious\/eicar\.com/);
  await shot('11-quarantine');
  page.once('dialog', (d) => d.accept());
  await item.getByRole('button', { name: 'Delete suspicious' }).click();
  await page.locator('#quarantine-empty').waitFor({ state: 'visible', timeout: LONG });
  const held = (await b.call('GET', '/api/v1/quarantine')).body;
  assert.equal(held.length, 0);
  const history = (await b.call('GET', '/api/v1/quarantine?all=true')).body;
  assert.equal(history.find((q) => q.id === shared.id).state, 'deleted');
  assert.equal(fs.existsSync(path.join(downloads, 'suspicious')), false);
  await page.click('#nav-transfers');
});

// ---- Contacts and chat: a second page, logged in to node A, talks to the page on node B. ----

function person(p, name) {
  return p.locator('#contact-list li.person').filter({ has: p.locator('.person-name', { hasText: name }) });
}

async function openPageA() {
  pageA = await context.newPage();
  pageA.on('console', (m) => { if (m.type() === 'error') problems.push(`console (A): ${m.text()}`); });
  pageA.on('pageerror', (e) => problems.push(`page error (A): ${e.message}`));
  await pageA.goto(a.runJson(['ui']).url);
  await pageA.locator('#view-transfers').waitFor({ state: 'visible' });
}

test('contacts: A shows its invite, B adds A by it, A accepts; both see each other online', async () => {
  await openPageA();
  await pageA.click('#nav-contacts');
  const invite = (await a.call('GET', '/api/v1/id')).body.invite;
  await waitFor(async () => (await pageA.inputValue('#invite-link')) === invite, LONG, "A's invite in the page");
  // Its QR code is an SVG the browser decodes (GET /api/v1/id/qr.svg).
  const qrWidth = await pageA.locator('#invite-qr').evaluate(async (img) => {
    if (!img.complete) await new Promise((resolve) => { img.onload = img.onerror = resolve; });
    return img.naturalWidth;
  });
  assert.ok(qrWidth > 0, 'the invite QR code is an image');
  await page.goto(`http://${b.api}/ui/#/contacts`);
  await page.locator('#view-contacts').waitFor({ state: 'visible' });
  await page.fill('#contact-invite', invite);
  await page.fill('#contact-note', 'bob from the tests');
  await page.click('#contact-add');
  await page.locator('#contact-add-note', { hasText: 'Request sent to alice' }).waitFor();
  await person(page, 'alice').locator('.presence', { hasText: 'request sent' }).waitFor();
  // A's page gets the request live, with the note, and accepts it.
  const request = pageA.locator('#request-list li').filter({ hasText: 'bob' });
  await request.waitFor({ timeout: LONG });
  assert.match(await request.innerText(), /bob from the tests/);
  await shot('13-contact-request');
  await request.getByRole('button', { name: 'Accept bob' }).click();
  await pageA.locator('#requests-panel').waitFor({ state: 'hidden' });
  await person(pageA, 'bob').locator('.presence', { hasText: 'online' }).waitFor({ timeout: LONG });
  await person(page, 'alice').locator('.presence', { hasText: 'online' }).waitFor({ timeout: LONG });
  const bobSeen = (await a.call('GET', '/api/v1/contacts')).body.find((c) => c.name === 'bob');
  assert.equal(bobSeen.state, 'accepted');
  assert.equal(bobSeen.online, true);
});

test('chat: messages both ways reach delivered and read; unread counts show and clear; search', async () => {
  const aliceId = (await a.call('GET', '/api/v1/id')).body.id;
  const bobId = (await b.call('GET', '/api/v1/id')).body.id;
  // A looks at another view: B's message is delivered, not read, and counted unread on A.
  await pageA.goto(`http://${a.api}/ui/#/transfers`);
  await page.bringToFront();
  await person(page, 'alice').locator('a').click();
  await page.locator('#chat-title', { hasText: 'alice' }).waitFor();
  assert.equal(new URL(page.url()).hash, `#/contacts/${aliceId}`);
  await page.fill('#chat-text', 'hello alice, the pelican has landed');
  await page.press('#chat-text', 'Enter');
  const sent = page.locator('#message-list li.msg.out').filter({ hasText: 'pelican' });
  await sent.waitFor();
  assert.equal(await page.inputValue('#chat-text'), '', 'the send box is emptied');
  await sent.locator('.msg-status[data-status="delivered"]').waitFor({ timeout: LONG });
  await waitFor(async () => (await pageA.locator('#unread-count').innerText()) === '(1)', LONG, "A's unread badge");
  // A opens the conversation: the message is shown and read, the counts clear, B's page says "Read".
  await pageA.bringToFront();
  await pageA.click('#nav-contacts');
  await person(pageA, 'bob').locator('.unread', { hasText: '1' }).waitFor();
  await person(pageA, 'bob').locator('a').click();
  await pageA.locator('#message-list li.msg.in', { hasText: 'pelican' }).waitFor();
  await waitFor(async () => (await pageA.locator('#unread-count').innerText()) === '', LONG, 'the badge clears');
  assert.equal(await person(pageA, 'bob').locator('.unread').count(), 0);
  await sent.locator('.msg-status[data-status="read"]').waitFor({ timeout: LONG });
  // A answers while B's page shows the conversation: it arrives live and is read at once.
  await pageA.fill('#chat-text', 'hi bob, message received');
  await pageA.click('#chat-send');
  const reply = pageA.locator('#message-list li.msg.out').filter({ hasText: 'message received' });
  await reply.waitFor();
  await page.bringToFront();
  await page.locator('#message-list li.msg.in', { hasText: 'message received' }).waitFor({ timeout: LONG });
  await reply.locator('.msg-status[data-status="read"]').waitFor({ timeout: LONG });
  const inbox = (await a.call('GET', `/api/v1/messages?with=${bobId}`)).body.messages;
  assert.equal(inbox.find((m) => m.text.includes('pelican')).read, true);
  assert.equal(inbox.find((m) => m.text.includes('message received')).status, 'read');
  await shot('14-chat');
  // Search in the conversation; then back to it.
  await page.fill('#chat-search', 'PELICAN');
  await page.press('#chat-search', 'Enter');
  await page.locator('#chat-search-note', { hasText: '1 message' }).waitFor();
  assert.equal(await page.locator('#message-list li.msg').count(), 1);
  assert.match(await page.locator('#message-list').innerText(), /pelican has landed/);
  await page.click('#chat-search-clear');
  await waitFor(async () => (await page.locator('#message-list li.msg').count()) === 2, LONG, 'the conversation again');
});

test('groups: B creates a group with A and writes to it; A reads it in the page', async () => {
  await page.fill('#group-name', 'Trip');
  await page.getByRole('checkbox', { name: 'alice' }).check();
  await page.click('#group-create');
  await page.locator('#chat-title', { hasText: 'Trip' }).waitFor();
  assert.match(new URL(page.url()).hash, /^#\/contacts\/group:[0-9a-f]+$/);
  await page.fill('#chat-text', 'who brings the tent?');
  await page.click('#chat-send');
  const mine = page.locator('#message-list li.msg.out').filter({ hasText: 'tent' });
  await mine.waitFor();
  await mine.locator('.msg-status[data-status="delivered"], .msg-status[data-status="read"]').waitFor({ timeout: LONG });
  await pageA.bringToFront();
  const group = pageA.locator('#group-list li', { hasText: 'Trip' });
  await group.waitFor({ timeout: LONG });
  // Unread in the group, and in the nav's total, until A opens it.
  await group.locator('.unread', { hasText: '1' }).waitFor({ timeout: LONG });
  assert.equal(await pageA.locator('#unread-count').innerText(), '(1)');
  await group.locator('a').click();
  await pageA.locator('#message-list li.msg.in', { hasText: 'who brings the tent?' }).waitFor();
  await waitFor(async () => (await pageA.locator('#unread-count').innerText()) === '', LONG, 'the badge clears');
  assert.equal(await group.locator('.unread').count(), 0);
  assert.match(await pageA.locator('#message-list li.msg.in .author').innerText(), /bob/);
  await shot('15-group');
  await page.bringToFront();
});

test('send a file: chosen in B\'s page, offered to A, received from bob', async () => {
  const aliceId = (await a.call('GET', '/api/v1/id')).body.id;
  const bobId = (await b.call('GET', '/api/v1/id')).body.id;
  const file = path.join(makeTree(path.join(dataDir, 'to-alice'), { 'notes.bin': 200 * 1024 }), 'notes.bin');
  await page.goto(`http://${b.api}/ui/#/contacts/${aliceId}`);
  await page.locator('#chat-file-button').waitFor({ state: 'visible' });
  await page.setInputFiles('#chat-file', file);
  const out = page.locator('#offer-list li.offer.out', { hasText: 'notes.bin' });
  await out.waitFor({ timeout: LONG });
  assert.match(await out.innerText(), /To alice/);
  // A's node gets the offer and downloads it; B's page follows the offer to "delivered".
  const offer = await waitFor(async () => (await a.call('GET', '/api/v1/files')).body
    .find((o) => o.direction === 'in' && o.name === 'notes.bin' && o.contact === bobId), LONG, "A's offer");
  assert.equal(offer.size, 200 * 1024);
  await out.locator('.offer-state[data-state="delivered"]').waitFor({ timeout: LONG });
  await pageA.bringToFront();
  await pageA.goto(`http://${a.api}/ui/#/contacts/${bobId}`);
  const got = pageA.locator('#offer-list li.offer.in', { hasText: 'notes.bin' });
  await got.waitFor({ timeout: LONG });
  assert.match(await got.innerText(), /From bob/);
  await got.locator('.offer-state[data-state="delivered"]').waitFor({ timeout: LONG });
  await shot('16-file-sent');
  await pageA.close();
  pageA = null;
  await page.bringToFront();
});

test('chat: "Load older" shows messages before the newest 100', async () => {
  const aliceId = (await a.call('GET', '/api/v1/id')).body.id;
  // Away from the conversation (an open one would show the new messages live, all 102).
  await page.goto(`http://${b.api}/ui/#/transfers`);
  await page.locator('#view-transfers').waitFor({ state: 'visible' });
  for (let i = 1; i <= 100; i++) {
    const r = await b.call('POST', '/api/v1/messages', { to: aliceId, text: `filler ${i}` });
    assert.equal(r.status, 201);
  }
  await page.goto(`http://${b.api}/ui/#/contacts/${aliceId}`);
  await page.locator('#message-list p.text', { hasText: /^filler 100$/ }).waitFor();
  await page.locator('#chat-older').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#message-list li.msg').count(), 100);
  assert.equal(await page.locator('#message-list li.msg', { hasText: 'pelican' }).count(), 0);
  await page.click('#chat-older');
  await page.locator('#message-list li.msg', { hasText: 'pelican' }).waitFor();
  assert.equal(await page.locator('#message-list li.msg').count(), 102);
  assert.equal(await page.locator('#chat-older').isHidden(), true, 'nothing older left');
});

test('phone width: nothing overflows sideways', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  const aliceId = (await a.call('GET', '/api/v1/id')).body.id;
  for (const hash of ['#/transfers', '#/contacts', `#/contacts/${aliceId}`, '#/sync', '#/node']) {
    await page.goto(`http://${b.api}/ui/${hash}`);
    await page.waitForTimeout(300);
    const [width, widest] = await page.evaluate(() => {
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361);
      return [document.documentElement.scrollWidth, wide.slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className)];
    });
    assert.ok(width <= 360, `${hash} is ${width}px wide at a 360px viewport (${widest.join(', ')})`);
  }
  await page.goto(`http://${b.api}/ui/#/transfers`);
  await row('album').waitFor();
  await shot('09-phone-width');
  await page.setViewportSize({ width: 1100, height: 900 });
});

test('keyboard: Tab reaches the link field and Enter adds', async () => {
  await page.goto(`http://${b.api}/ui/#/transfers`);
  await page.locator('#add-link').waitFor();
  let focused = '';
  for (let i = 0; i < 20 && focused !== 'add-link'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  }
  assert.equal(focused, 'add-link');
  await page.keyboard.type('not a magnet');
  await page.keyboard.press('Enter');
  await waitFor(async () => (await page.locator('#add-error').innerText()).length > 0, LONG, 'error');
});

test('log out: the page drops every node detail and says how to log in again', async () => {
  await page.goto(`http://${b.api}/ui/#/node`);
  await page.locator('#node-status').waitFor();
  await waitFor(async () => (await page.locator('#node-status').innerText()).includes(String(b.btPort)), LONG, 'status');
  const nodeId = (await b.call('GET', '/api/v1/status')).body.node_id;
  await page.click('#logout');
  await page.locator('#login-needed').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#login-reason').innerText(), 'You have logged out.');
  assert.match(await page.locator('#login-needed').innerText(), /kith ui/);
  assert.equal(await page.locator('#conn').innerText(), 'not logged in');
  assert.equal(await page.locator('.top nav').isHidden(), true, 'no way into views that are gone');
  const sent = requests.length;
  await page.waitForTimeout(6000); // longer than the page's 5 s polling: nothing may be asked any more
  const after = requests.slice(sent).filter((u) => u.includes('/api/'));
  assert.deepEqual(after, [], 'no request after logging out');
  // Nothing of the node is left in the page, shown or hidden, and no developer error text.
  const text = await page.evaluate(() => document.body.textContent);
  for (const gone of ['album', 'Holiday', 'alice', 'pelican', 'Trip', nodeId, String(b.btPort), '401', 'HTTP', 'nauthori', 'Error']) {
    assert.ok(!text.includes(gone), `"${gone}" is still in the page after logout`);
  }
  assert.equal(await page.locator('#transfer-list li').count(), 0);
  await shot('12-logged-out');
  const status = await page.evaluate(async () => (await fetch('/api/v1/status')).status);
  assert.equal(status, 401, 'the session is over on the node too');
});

test('the page made no request outside this node and broke no CSP rule', async () => {
  const foreign = requests.filter((u) => !u.startsWith(`http://${b.api}/`) && !u.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(problems.filter((p) => !/status of 40[0139]/.test(p)), []);
});

// Folder sync: two daemons and a browser of their own (sync.mjs).
describe('folder sync', () => syncTests({ chromiumPath: CHROMIUM, chromiumArgs: CHROMIUM_ARGS, artifacts: ARTIFACTS }));
// Calls: their own daemons and browsers (calls.mjs).
describe('calls', () => callTests({ chromiumPath: CHROMIUM, chromiumArgs: CHROMIUM_ARGS, artifacts: ARTIFACTS }));
// Group calls: three daemons and three browsers of their own (conference.mjs).
describe('group calls', () => conferenceTests({ chromiumPath: CHROMIUM, chromiumArgs: CHROMIUM_ARGS, artifacts: ARTIFACTS }));
