// Folder sync in the web UI (ui.test.mjs runs these in a `describe`): two more daemons (alice, bob;
// BEP on 127.0.0.1, a free port each) and one Chromium with a page on each. Everything is done in the
// pages' Sync views; the API is only read to learn the device IDs and addresses and to check.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

import { KithNode, tmpdir, waitFor } from './kith.mjs';
import { openPage } from './pages.mjs';

const LONG = 90000;

export function syncTests({ chromiumPath, chromiumArgs, artifacts }) {
  let alice; let bob; let dir; let browser; let pa; let pb;
  const ids = {};
  const problems = [];

  const shot = (p, name) => p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  const folderCard = (p) => p.locator('#sync-folders li.sync-folder');

  before(async () => {
    dir = tmpdir('kith-ui-sync-');
    const settings = { 'sync.rescan_interval_s': '3600' }; // the page rescans; sync.listen is in SAFE_SETTINGS
    alice = new KithNode('sync-alice', { ...settings, 'profile.name': 'alice' });
    bob = new KithNode('sync-bob', { ...settings, 'profile.name': 'bob' });
    for (const n of [alice, bob]) {
      await n.startDaemon();
      const id = (await n.call('GET', '/api/v1/id')).body;
      ids[n.settings['profile.name']] = { device: id.device_id, address: `127.0.0.1:${id.sync_port}` };
    }
    browser = await chromium.launchPersistentContext(tmpdir('kith-ui-chromium-sync-'), {
      executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport: { width: 1100, height: 900 },
    });
    pa = await openPage(browser, alice, 'alice', problems);
    pb = await openPage(browser, bob, 'bob', problems);
  });

  after(async () => {
    if (browser) await browser.close();
    for (const n of [alice, bob]) {
      if (!n) continue;
      await n.stop();
      if (process.exitCode) console.error(`--- ${n.home} daemon log ---\n${n.tail()}`);
      n.cleanup();
    }
    if (dir && process.env.KITH_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  });

  async function addDevice(p, who) {
    await p.fill('#sync-device-id', ids[who].device);
    await p.fill('#sync-device-address', ids[who].address);
    await p.fill('#sync-device-name', who);
    await p.click('#sync-device-add');
    await p.locator('#sync-devices li.sync-device', { hasText: who }).waitFor({ timeout: LONG });
  }

  test('sync: alice shares a folder with bob from her page; bob accepts the offer in his; a file arrives', async () => {
    const adir = path.join(dir, 'alice-team');
    const bdir = path.join(dir, 'bob-team');
    fs.mkdirSync(adir);

    // Alice: her device ID is shown; she adds bob and a folder shared with him.
    await pa.click('#nav-sync');
    await pa.locator('#view-sync').waitFor({ state: 'visible' });
    await waitFor(async () => (await pa.inputValue('#sync-my-id')) === ids.alice.device, LONG, 'alice\'s device ID');
    assert.equal(await folderCard(pa).count(), 0);
    await pa.click('#sync-copy-id');
    await pa.locator('#sync-copy-note').filter({ hasText: /Copied|Selected/ }).waitFor({ timeout: LONG });
    await addDevice(pa, 'bob');
    // A bad path: the node's refusal is shown by the form, nothing is added.
    await pa.fill('#sync-folder-path', 'relative/path');
    await pa.click('#sync-folder-add');
    await pa.locator('#sync-folder-error').filter({ hasText: /path/ }).waitFor({ timeout: LONG });
    assert.equal((await alice.call('GET', '/api/v1/sync/folders')).body.folders.length, 0);
    await pa.fill('#sync-folder-path', adir);
    await pa.fill('#sync-folder-label', 'Team <b>notes</b>');
    await pa.check(`#sync-folder-devices input[value="${ids.bob.device}"]`);
    await pa.click('#sync-folder-add');
    await folderCard(pa).waitFor({ timeout: LONG });
    assert.equal(await pa.locator('#sync-folder-error').textContent(), '');
    const [folder] = (await alice.call('GET', '/api/v1/sync/folders')).body.folders;
    assert.equal(folder.path, adir);
    assert.equal(folder.label, 'Team <b>notes</b>');
    assert.deepEqual(folder.devices.map((d) => d.device), [ids.bob.device]);
    // The label is text, not markup.
    assert.equal(await folderCard(pa).locator('.name').first().textContent(), 'Team <b>notes</b>');
    await shot(pa, 's01-alice-folder');

    // Bob: adds alice; her offer shows up live; he accepts it into a path of his.
    await pb.click('#nav-sync');
    await pb.locator('#view-sync').waitFor({ state: 'visible' });
    await addDevice(pb, 'alice');
    const offer = pb.locator('#sync-offers li.sync-offer', { hasText: 'Team <b>notes</b>' });
    await offer.waitFor({ timeout: LONG });
    assert.match(await offer.textContent(), /from alice/);
    await shot(pb, 's02-bob-offer');
    await offer.locator('input').fill(bdir);
    await offer.locator('button', { hasText: 'Accept' }).click();
    await folderCard(pb).waitFor({ timeout: LONG });
    await pb.locator('#sync-offers-panel').waitFor({ state: 'hidden', timeout: LONG });
    assert.equal((await bob.call('GET', `/api/v1/sync/folders/${folder.id}`)).body.path, bdir);

    // Alice writes a file and presses Rescan: it reaches bob's disk.
    fs.writeFileSync(path.join(adir, 'notes.txt'), 'first draft\n');
    await folderCard(pa).locator('button', { hasText: 'Rescan' }).click();
    await waitFor(() => {
      try { return fs.readFileSync(path.join(bdir, 'notes.txt'), 'utf8') === 'first draft\n'; } catch { return false; }
    }, LONG, 'notes.txt at bob');

    // Bob's page: up to date, alice connected and at 100 %, one file here.
    const card = folderCard(pb);
    await card.locator('.state[data-state="idle"]').waitFor({ timeout: LONG });
    const dev = card.locator(`.sync-devs li[data-device="${ids.alice.device}"]`);
    await dev.filter({ hasText: 'connected' }).filter({ hasNotText: 'not connected' }).waitFor({ timeout: LONG });
    await dev.locator('.completion', { hasText: '100 %' }).waitFor({ timeout: LONG });
    await card.locator('dd', { hasText: /^1 file, / }).first().waitFor({ timeout: LONG });
    assert.equal(await pb.locator(`#sync-devices li.sync-device[data-id="${ids.alice.device}"] .state`).textContent(), 'connected');
    await shot(pb, 's03-bob-synced');

    // Last changes: bob's card lists the file as updated by alice, alice's as made by this device;
    // a file alice adds and then deletes shows at bob as deleted by alice, its name (markup-like) as text.
    const change = (p, name, action) =>
      folderCard(p).locator(`.changes li[data-action="${action}"][data-name=${JSON.stringify(name)}]`);
    await change(pb, 'notes.txt', 'updated').filter({ hasText: 'by alice' }).first().waitFor({ timeout: LONG });
    await change(pa, 'notes.txt', 'updated').filter({ hasText: 'by this device' }).first().waitFor({ timeout: LONG });
    // A file that can run code arrives (clean) flagged as such; a data file is not.
    fs.writeFileSync(path.join(adir, 'setup.sh'), '#!/bin/sh\necho hi\n');
    await folderCard(pa).locator('button', { hasText: 'Rescan' }).click();
    await change(pb, 'setup.sh', 'updated').locator('.runnable', { hasText: 'can run code' }).first()
      .waitFor({ timeout: LONG });
    assert.equal(await change(pb, 'notes.txt', 'updated').locator('.runnable').count(), 0);
    const marked = '<em>old.txt';
    fs.writeFileSync(path.join(adir, marked), 'soon gone\n');
    await folderCard(pa).locator('button', { hasText: 'Rescan' }).click();
    await change(pb, marked, 'updated').first().waitFor({ timeout: LONG });
    fs.rmSync(path.join(adir, marked));
    await folderCard(pa).locator('button', { hasText: 'Rescan' }).click();
    const gone = change(pb, marked, 'deleted').filter({ hasText: 'by alice' }).first();
    await gone.waitFor({ timeout: LONG });
    assert.equal(await gone.locator('em').count(), 0);
    assert.ok(!fs.existsSync(path.join(bdir, marked)));
    // Newest first: the deletion heads bob's list.
    assert.equal(await folderCard(pb).locator('.changes li').first().getAttribute('data-action'), 'deleted');
    const [newest] = (await bob.call('GET', `/api/v1/sync/folders/${folder.id}/changes`)).body.changes;
    assert.equal(newest.name, marked);
    assert.equal(newest.device, ids.alice.device);
    await shot(pb, 's03b-bob-last-changes');

    // A file the safety check holds back: bob's page shows it prominently, with its reason and
    // quarantine id; it is not in bob's folder. (EICAR, assembled so this source is no detection.)
    fs.writeFileSync(path.join(adir, 'eicar.com'), 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-' + 'STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
    await folderCard(pa).locator('button', { hasText: 'Rescan' }).click();
    const held = folderCard(pb).locator('.held li', { hasText: 'eicar.com' });
    await held.waitFor({ timeout: LONG });
    const [item] = (await bob.call('GET', `/api/v1/sync/folders/${folder.id}`)).body.held;
    assert.equal(item.name, 'eicar.com');
    assert.equal(await held.getAttribute('data-quarantine-id'), item.quarantine_id);
    assert.ok((await held.textContent()).includes(item.reason), await held.textContent());
    assert.ok((await held.textContent()).includes(item.quarantine_id));
    assert.ok(!fs.existsSync(path.join(bdir, 'eicar.com')));
    // ... and under the last changes as held back by alice, with the reason.
    const heldChange = change(pb, 'eicar.com', 'held').first();
    await heldChange.waitFor({ timeout: LONG });
    assert.ok((await heldChange.textContent()).includes(item.reason), await heldChange.textContent());
    await shot(pb, 's04-bob-held');

    // A conflict copy (as a sync-conflict file arrives from alice): bob's card lists it beside its original.
    fs.writeFileSync(path.join(adir, 'notes.sync-conflict-20261207-101500-ABCDEFG.txt'), 'alice\'s draft\n');
    await folderCard(pa).locator('button', { hasText: 'Rescan' }).click();
    const copy = folderCard(pb).locator('.conflicts li[data-original="notes.txt"]');
    await copy.waitFor({ timeout: LONG });
    assert.ok((await copy.textContent()).includes('notes.sync-conflict-20261207-101500-ABCDEFG.txt'), await copy.textContent());

    // At phone width the view (with a folder, a held file and a device) does not scroll sideways.
    await pb.setViewportSize({ width: 360, height: 740 });
    await pb.waitForTimeout(300);
    const width = await pb.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the sync view is ${width}px wide at a 360px viewport`);
    await pb.setViewportSize({ width: 1100, height: 900 });

    // Pause and resume from alice's page.
    await folderCard(pa).locator('button', { hasText: 'Pause' }).click();
    await folderCard(pa).locator('.state[data-state="paused"]').waitFor({ timeout: LONG });
    assert.equal((await alice.call('GET', `/api/v1/sync/folders/${folder.id}`)).body.paused, true);
    await folderCard(pa).locator('button', { hasText: 'Resume' }).click();
    await folderCard(pa).locator('.state:not([data-state="paused"])').waitFor({ timeout: LONG });

    // Remove (confirmed) in bob's page: the folder goes, its files stay.
    pb.once('dialog', (d) => d.accept());
    await folderCard(pb).locator('button', { hasText: 'Remove' }).click();
    await pb.locator('#sync-folders-empty').waitFor({ state: 'visible', timeout: LONG });
    assert.equal((await bob.call('GET', '/api/v1/sync/folders')).body.folders.length, 0);
    assert.ok(fs.existsSync(path.join(bdir, 'notes.txt')));
  });

  test('sync: no console error, CSP violation or foreign request in the sync pages', () => {
    const unexpected = problems.filter((p) => !/status of 4\d\d/.test(p));
    assert.deepEqual(unexpected, []);
  });
}
