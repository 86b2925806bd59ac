// Group calls in the web UI (ui.test.mjs runs these after the call tests, in a `describe`): four
// daemons (alice, bob, carol: all contacts of each other; dave: a contact of alice and bob only;
// `calls.ice_networks=127.0.0.1`) and four Chromiums, each with its own fake microphone playing a
// pure tone (alice 440 Hz, bob 660 Hz, carol 880 Hz, dave 550 Hz). A page hears a participant
// through a Web Audio analyser on that participant's own <audio> (one per remote peer connection),
// so "hears both" means: on each page, each of the other participants' streams peaks at that
// participant's tone.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { KithNode, befriend, sleep, tmpdir, waitFor } from './kith.mjs';
import { launchWithTone, openPage, spectra } from './pages.mjs';

const TONES = { alice: 440, bob: 660, carol: 880, dave: 550 };
const NAMES = Object.keys(TONES);
const CANDIDATES = [440, 660, 880, 300, 550, 1000];
const LONG = 60000; // safety net for waits; nothing asserts a duration

export function conferenceTests({ chromiumPath, chromiumArgs, artifacts }) {
  const nodes = {};
  const pages = {};
  const ids = {};
  const browsers = [];
  const problems = [];
  let dir;
  let room = ''; // the group call's room, from alice's node

  const shot = (p, name) => p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  const callsOf = async (who) => (await nodes[who].call('GET', '/api/v1/calls')).body.calls;
  const liveIn = async (who, r) => (await callsOf(who)).filter((c) => c.room === r && c.state !== 'ended');
  const panelState = (who, state) => pages[who].locator(`#room-panel[data-state="${state}"]`).waitFor({ timeout: LONG });
  const tile = (who, other) => pages[who].locator(`#room-people li.participant[data-contact="${ids[other]}"]`);
  const tileState = (who, other, state) => pages[who]
    .locator(`#room-people li.participant[data-contact="${ids[other]}"][data-state="${state}"]`).waitFor({ timeout: LONG });

  // Each of `others` is heard on `who`'s page at their own tone, 20 dB above the other candidates,
  // on that participant's own stream. Measured again until it holds (the links may still be
  // starting), up to the safety net; the last measurement is in the failure message.
  async function hears(who, others) {
    let got = null;
    const ok = () => others.every((o) => {
      const g = got[ids[o]];
      const tone = TONES[o];
      return g && Math.abs(g.peakHz - tone) < 15 && CANDIDATES.every((f) => f === tone || g.db[tone] > g.db[f] + 20);
    });
    const end = Date.now() + LONG;
    for (;;) {
      got = await spectra(pages[who], '#room-people audio', CANDIDATES);
      if (ok()) return got;
      if (Date.now() > end) break;
      await sleep(500);
    }
    const named = Object.fromEntries(Object.entries(got).map(([k, v]) => [Object.keys(ids).find((n) => ids[n] === k) || k, v]));
    assert.fail(`${who}'s page does not hear ${others.join(' and ')} at ${others.map((o) => TONES[o]).join(', ')} Hz: ${JSON.stringify(named)}`);
  }

  // Video frames `who`'s page decoded from `other` (getStats of the peer connection of their tile).
  const framesFrom = (who, other) => pages[who].evaluate(async (contact) => {
    const room = await import('/ui/js/room.js');
    const li = document.querySelector(`#room-people li[data-contact="${contact}"]`);
    const p = li && room.peer(li.dataset.call);
    if (!p || !p.pc) return 0;
    let n = 0;
    (await p.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
    return n;
  }, ids[other]);
  async function framesGrow(who, other) {
    const first = await waitFor(async () => { const n = await framesFrom(who, other); return n > 0 ? n : null; },
      LONG, `${who} to decode ${other}'s video`);
    await waitFor(async () => (await framesFrom(who, other)) > first + 5, LONG, `${who}: more frames from ${other}`);
    assert.equal(await tile(who, other).locator('video').isVisible(), true);
  }

  before(async () => {
    dir = tmpdir('kith-ui-conference-');
    for (const name of NAMES) {
      nodes[name] = new KithNode(`conf-${name}`, { 'profile.name': name });
      await nodes[name].startDaemon();
    }
    for (const [x, y] of [['alice', 'bob'], ['alice', 'carol'], ['bob', 'carol'], ['alice', 'dave'], ['bob', 'dave']]) {
      const r = await befriend(nodes[x], nodes[y]);
      ids[x] = r.askerId;
      ids[y] = r.answererId;
    }
    for (const name of NAMES) {
      const ctx = await launchWithTone({ chromiumPath, chromiumArgs, dir, name: `conf-${name}`, tone: TONES[name] });
      browsers.push(ctx);
      pages[name] = await openPage(ctx, nodes[name], name, problems);
    }
    pages.bob2 = await openPage(browsers[1], nodes.bob, 'bob, second page', problems);
  });

  // The tests follow one group call from start to end, each from where the last left it; the calls
  // still live (a test failed half-way) end before the daemons stop.
  after(async () => {
    for (const n of Object.values(nodes)) {
      if (!n.daemon || n.daemon.exitCode !== null) continue;
      const live = ((await n.call('GET', '/api/v1/calls')).body.calls || []).filter((c) => c.state !== 'ended');
      for (const c of live) await n.call('POST', `/api/v1/calls/${c.id}/hangup`);
    }
    for (const c of browsers) await c.close();
    for (const n of Object.values(nodes)) {
      await n.stop();
      if (process.exitCode) console.error(`--- ${n.home} daemon log ---\n${n.tail(150)}`);
      n.cleanup();
    }
  });

  test('conference: A starts a group call with B and C; both answer; each page hears both others\' tones', async () => {
    const pa = pages.alice;
    await pa.goto(pa.url().replace(/#.*$/, '') + '#/contacts');
    await pa.click('#room-start-details summary');
    for (const who of ['bob', 'carol']) {
      await pa.locator(`#room-start-people input[value="${ids[who]}"]:not([disabled])`).check({ timeout: LONG });
    }
    await shot(pa, 'g01-group-call-picker');
    await pa.click('#room-start-call');
    await pa.locator('#room-panel').waitFor({ state: 'visible', timeout: LONG });
    for (const who of ['bob', 'bob2', 'carol']) {
      const p = pages[who];
      await p.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
      assert.match(await p.locator('#call-incoming-text').innerText(), /^alice invites you to a group call/);
      assert.equal(await p.locator('#call-incoming').getAttribute('data-kind'), 'group');
    }
    await shot(pages.bob, 'g02-group-call-invitation');
    await pages.bob.click('#call-accept');
    await pages.carol.click('#call-accept');
    for (const [who, others] of [['alice', ['bob', 'carol']], ['bob', ['alice', 'carol']], ['carol', ['alice', 'bob']]]) {
      await panelState(who, 'active');
      for (const o of others) await tileState(who, o, 'active');
    }
    room = (await callsOf('alice')).find((c) => c.room).room;
    // bob's other page stopped ringing and only shows the group call: no media of its own.
    const pb2 = pages.bob2;
    await pb2.locator('#call-incoming').waitFor({ state: 'hidden', timeout: LONG });
    await pb2.locator('#room-state', { hasText: 'In a group call with 2 people in another window or device' }).waitFor({ timeout: LONG });
    assert.equal(await pb2.locator('#room-media').isVisible(), false);
    assert.equal(await pb2.evaluate(async () => (await import('/ui/js/room.js')).inRoom()), false);
    assert.equal(await pb2.locator('#room-people audio').evaluateAll((as) => as.filter((a) => a.srcObject).length), 0);
    // Each node: two active calls in the room; bob and carol's is a link the node placed itself.
    for (const who of ['alice', 'bob', 'carol']) {
      const live = await liveIn(who, room);
      assert.equal(live.length, 2, `${who}: ${JSON.stringify(live)}`);
      assert.ok(live.every((c) => c.state === 'active'), `${who}: ${JSON.stringify(live)}`);
    }
    const link = (await liveIn('bob', room)).find((c) => c.contact.id === ids.carol);
    assert.equal(link.link, true, JSON.stringify(link));
    await hears('alice', ['bob', 'carol']);
    await hears('bob', ['alice', 'carol']);
    await hears('carol', ['alice', 'bob']);
    // Who talks, per participant (getStats levels).
    await tile('alice', 'bob').locator('.talking', { hasText: 'talking' }).waitFor({ timeout: LONG });
    await tile('alice', 'carol').locator('.talking', { hasText: 'talking' }).waitFor({ timeout: LONG });
    assert.equal(await pa.locator('#room-missing').innerText(), '');
    await shot(pa, 'g03-group-call');
  });

  test('conference: mute on A silences A on both of its links, unmute brings it back', async () => {
    const level = (who) => tile(who, 'alice').locator('meter').evaluate((m) => m.value);
    await pages.alice.click('#room-mute');
    assert.equal(await pages.alice.locator('#room-mute').getAttribute('aria-pressed'), 'true');
    for (const who of ['bob', 'carol']) await waitFor(async () => (await level(who)) < 0.02, LONG, `silence from alice at ${who}`);
    await pages.alice.click('#room-mute');
    for (const who of ['bob', 'carol']) await waitFor(async () => (await level(who)) > 0.1, LONG, `alice again at ${who}`);
  });

  test('conference: A turns the camera on: both links renegotiate; B and C see A\'s video and still hear A', async () => {
    const pa = pages.alice;
    assert.equal(await pa.locator('#room-camera').innerText(), 'Turn camera on');
    await pa.click('#room-camera');
    await framesGrow('bob', 'alice');
    await framesGrow('carol', 'alice');
    assert.equal(await pa.locator('#room-local-video').isVisible(), true);
    await hears('bob', ['alice', 'carol']);
    await hears('carol', ['alice', 'bob']);
    await shot(pages.bob, 'g03b-group-video');
    await pa.click('#room-camera');
    assert.equal(await pa.locator('#room-camera').getAttribute('aria-pressed'), 'false');
    assert.equal(await pa.locator('#room-local-video').isVisible(), false);
    await pa.click('#room-camera');
    assert.equal(await pa.locator('#room-local-video').isVisible(), true);
  });

  test('conference: A invites D from the panel; D hears A and B; carol and dave, not contacts, are told they are not connected', async () => {
    const pa = pages.alice;
    await pa.locator('#room-invite-form').waitFor({ state: 'visible', timeout: LONG });
    assert.deepEqual(await pa.locator('#room-invite-who option').evaluateAll((os) => os.map((o) => o.textContent)), ['dave']);
    await pa.selectOption('#room-invite-who', ids.dave);
    await pa.click('#room-invite');
    const pd = pages.dave;
    await pd.locator('#call-incoming').waitFor({ state: 'visible', timeout: LONG });
    assert.match(await pd.locator('#call-incoming-text').innerText(), /^alice invites you to a group call/);
    await pd.click('#call-accept');
    await panelState('dave', 'active');
    for (const o of ['alice', 'bob']) await tileState('dave', o, 'active');
    for (const who of ['alice', 'bob']) await tileState(who, 'dave', 'active');
    // carol and dave have no channel: each page names the other as in the call but not connected.
    const missing = async (who, other) => waitFor(async () => {
      const text = await pages[who].locator('#room-missing').innerText();
      return text.includes(ids[other].slice(0, 8)) && /not your contact/.test(text) ? text : null;
    }, LONG, `${who}'s page to say ${other} is not connected`);
    await missing('carol', 'dave');
    await missing('dave', 'carol');
    assert.equal(await tile('carol', 'dave').count(), 0);
    assert.equal((await liveIn('carol', room)).length, 2);
    assert.equal((await liveIn('alice', room)).length, 3);
    await hears('dave', ['alice', 'bob']);
    await framesGrow('dave', 'alice'); // alice's camera, on since the test before, is in her first offer to dave
    await hears('alice', ['bob', 'carol', 'dave']);
    await shot(pd, 'g04-fourth-party');
    await pd.click('#room-leave');
    await panelState('dave', 'ended');
    for (const who of ['alice', 'bob']) await tileState(who, 'dave', 'ended');
    await waitFor(async () => !(await pages.carol.locator('#room-missing').innerText()).includes(ids.dave.slice(0, 8)),
      LONG, 'carol\'s page to drop dave');
  });

  test('conference: C leaves; A and B go on hearing each other', async () => {
    await pages.carol.click('#room-leave');
    await panelState('carol', 'ended');
    await tileState('alice', 'carol', 'ended');
    await tileState('bob', 'carol', 'ended');
    assert.match(await tile('alice', 'carol').innerText(), /left/);
    assert.equal((await liveIn('carol', room)).length, 0);
    for (const who of ['alice', 'bob']) {
      assert.equal(await pages[who].locator('#room-panel').getAttribute('data-state'), 'active');
      assert.deepEqual((await liveIn(who, room)).map((c) => c.contact.id), [ids[who === 'alice' ? 'bob' : 'alice']]);
    }
    // carol's microphone is released; her tile on alice's page plays nothing.
    assert.equal(await pages.carol.evaluate(async () => (await import('/ui/js/room.js')).local()), null);
    assert.equal(await tile('alice', 'carol').locator('audio').evaluate((a) => a.srcObject), null);
    await hears('alice', ['bob']);
    await hears('bob', ['alice']);
    await shot(pages.alice, 'g05-carol-left');
  });

  test('conference: C joins again late from "Recent group calls"; everyone hears everyone', async () => {
    const pc = pages.carol;
    await pc.goto(pc.url().replace(/#.*$/, '') + '#/contacts');
    const item = pc.locator(`#room-recent li[data-room="${room}"]`);
    await item.waitFor({ timeout: LONG });
    await shot(pc, 'g06-recent-group-calls');
    await item.locator('button', { hasText: /^Join$/ }).click();
    for (const [who, others] of [['carol', ['alice', 'bob']], ['alice', ['carol']], ['bob', ['carol']]]) {
      await panelState(who, 'active');
      for (const o of others) await tileState(who, o, 'active');
    }
    await hears('carol', ['alice', 'bob']);
    await hears('alice', ['bob', 'carol']);
    await hears('bob', ['alice', 'carol']);
    // A leaves: B and C go on.
    await pages.alice.click('#room-leave');
    await panelState('alice', 'ended');
    await tileState('bob', 'alice', 'ended');
    await hears('bob', ['carol']);
    await hears('carol', ['bob']);
    await pages.bob.click('#room-leave');
    await panelState('carol', 'ended');
  });

  test('conference: "Group call" in a group\'s conversation rings its members who are contacts; both decline', async () => {
    const g = await nodes.bob.call('POST', '/api/v1/groups', { name: 'trio', members: [ids.alice, ids.carol] });
    assert.equal(g.status, 201, JSON.stringify(g.body));
    const pb = pages.bob;
    await pb.goto(pb.url().replace(/#.*$/, '') + `#/contacts/group:${g.body.id}`);
    const button = pb.locator('#chat-group-call:not([disabled])');
    await button.waitFor({ timeout: LONG });
    assert.equal(await button.getAttribute('title'), 'Group call: alice, carol');
    await button.click();
    for (const who of ['alice', 'carol']) {
      const p = pages[who];
      await p.locator('#call-incoming-text', { hasText: 'bob invites you to a group call' }).waitFor({ timeout: LONG });
      await p.getByRole('button', { name: 'Decline the group call from bob' }).click();
      await p.locator('#call-incoming').waitFor({ state: 'hidden', timeout: LONG });
    }
    await panelState('bob', 'ended');
    for (const who of ['alice', 'carol']) assert.match(await tile('bob', who).innerText(), /declined/);
    assert.equal((await callsOf('bob')).filter((c) => c.state !== 'ended').length, 0);
  });

  test('conference: no console error or CSP violation, no request outside the node', () => {
    assert.deepEqual(problems.filter((p) => !/status of 40[0139]|status of 503/.test(p)), []);
  });
}
