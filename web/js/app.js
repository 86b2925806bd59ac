// Entry point: hash routing between the views, the live event stream with a polling fallback, and
// the "not logged in" state.
import { api, followEvents, onUnauthorized } from './api.js';
import * as calls from './calls.js';
import * as contacts from './contacts.js';
import * as details from './details.js';
import * as node from './node.js';
import * as quarantine from './quarantine.js';
import * as sync from './sync.js';
import * as transfers from './transfers.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000; // fallback refresh; events normally arrive every second while anything moves

function say(text) { $('status').textContent = text; }

function route() {
  const hash = location.hash || '#/transfers';
  const m = hash.match(/^#\/transfers\/([0-9a-f]+)$/);
  const c = hash.match(/^#\/contacts(?:\/(.+))?$/);
  const view = m ? 'details' : c ? 'contacts' : hash === '#/node' ? 'node'
    : hash === '#/quarantine' ? 'quarantine' : hash === '#/sync' ? 'sync' : 'transfers';
  for (const v of VIEWS) $('view-' + v).hidden = v !== view;
  const current = view === 'details' ? 'transfers' : view;
  for (const v of ['transfers', 'contacts', 'quarantine', 'sync', 'node']) {
    if (v === current) $('nav-' + v).setAttribute('aria-current', 'page');
    else $('nav-' + v).removeAttribute('aria-current');
  }
  if (view === 'details') details.show(m[1]); else details.hide();
  if (view === 'contacts') contacts.show(c[1] ? decodeURIComponent(c[1]) : null).catch((e) => say(e.message));
  else contacts.hide();
  if (view === 'node') node.show().catch((e) => say(e.message));
  if (view === 'transfers') transfers.refresh().catch((e) => say(e.message));
  if (view === 'quarantine') quarantine.refresh().catch((e) => say(e.message));
  if (view === 'sync') sync.show().catch((e) => say(e.message));
  else sync.hide();
}

const VIEWS = ['transfers', 'details', 'contacts', 'quarantine', 'sync', 'node'];

// The number of held items, next to the Quarantine link.
async function refreshQuarantineCount() {
  const items = await api.quarantine(false);
  $('quarantine-count').textContent = items.length ? `(${items.length})` : '';
}

let events = null; // the EventSource while logged in
let poller = null; // the polling fallback's interval
let streamLive = false; // the event stream is connected

// No session (logged out, expired, never logged in): stop talking to the node and drop everything the
// page shows of it, so nothing of the node stays on screen or in the page. `reason` is one plain line.
function loggedOut(reason = '') {
  if (events) { events.close(); events = null; }
  if (poller) { clearInterval(poller); poller = null; }
  window.removeEventListener('hashchange', route);
  transfers.clear();
  details.clear();
  quarantine.clear();
  sync.clear();
  node.clear();
  contacts.clear();
  calls.clear();
  say('');
  $('quarantine-count').textContent = '';
  for (const v of VIEWS) $('view-' + v).hidden = true;
  document.querySelector('.top nav').hidden = true;
  $('login-reason').textContent = reason;
  $('login-needed').hidden = false;
  $('logout').hidden = true;
  $('conn').textContent = 'not logged in';
  $('conn').classList.remove('live');
  if (location.hash) history.replaceState(null, '', location.pathname);
}

let refreshQueued = false;
function queueRefresh() {
  // Several events in one burst (state + progress + completed) cost one reload.
  if (refreshQueued) return;
  refreshQueued = true;
  setTimeout(() => {
    refreshQueued = false;
    transfers.refresh().catch(() => {});
    details.refresh();
    refreshQuarantineCount().catch(() => {});
    if (!$('view-quarantine').hidden) quarantine.refresh().catch(() => {});
    contacts.transfersChanged();
  }, 150);
}

async function start() {
  transfers.init(say);
  details.init(say);
  node.init(say);
  quarantine.init(say);
  sync.init(say);
  contacts.init(say);
  calls.init(say);
  let loggedIn = true;
  let started = false;
  onUnauthorized(() => {
    if (!loggedIn) return;
    loggedIn = false;
    loggedOut(started ? 'Your session has ended: sessions expire, and end when the node restarts.' : '');
  });
  try {
    await api.status(); // unanswered without a session: onUnauthorized shows the login screen
  } catch (e) {
    say(`Cannot reach the node: ${e.message}`);
  }
  started = true;
  window.addEventListener('hashchange', route);
  route();
  refreshQuarantineCount().catch(() => {});
  contacts.start().catch(() => {});
  calls.refresh().catch(() => {}); // a call ringing or running when the page opened
  // Every event that changes what the views show (docs/api.md § Event stream).
  const types = ['transfer.added', 'transfer.metadata', 'transfer.state', 'transfer.progress',
    'transfer.scanning', 'transfer.scanned', 'transfer.completed', 'transfer.held', 'transfer.error',
    'transfer.removed', 'quarantine.added', 'quarantine.released', 'quarantine.deleted',
    ...contacts.EVENTS, ...calls.EVENTS, ...sync.EVENTS];
  events = followEvents(types, (type, data) => {
    if (contacts.EVENTS.includes(type)) { contacts.onEvent(type, data); return; }
    if (calls.EVENTS.includes(type)) { calls.onEvent(type, data); return; }
    if (sync.EVENTS.includes(type)) { sync.onEvent(type, data); return; }
    if (type === 'transfer.progress') {
      if (!transfers.updateOne(data)) queueRefresh();
      return;
    }
    if (type === 'transfer.completed') say(`Completed: ${data.name}`);
    if (type === 'transfer.error') say(`Error: ${data.message}`);
    if (type === 'quarantine.added') say(`Held in quarantine: ${data.name || data.id}`);
    queueRefresh();
  }, (live) => {
    streamLive = live;
    if (!loggedIn) return;
    $('conn').textContent = live ? 'live' : 'reconnecting…';
    $('conn').classList.toggle('live', live);
    // The event stream cannot report a 401; a cheap request tells an ended session from a lost node.
    if (!live) api.status().catch(() => {});
    // Events are not replayed: whatever changed while the stream was down is fetched again.
    else {
      contacts.refresh().catch(() => {});
      calls.refresh().catch(() => {});
      if (!$('view-sync').hidden) sync.refresh().catch(() => {});
    }
  });
  poller = setInterval(() => {
    if (!$('view-transfers').hidden) transfers.refresh().catch(() => {});
    if (!$('view-details').hidden) details.refresh();
    if (!$('view-sync').hidden) sync.refresh().catch(() => {});
    if (!streamLive) { // the events keep them live otherwise
      contacts.refresh().catch(() => {});
      calls.refresh().catch(() => {});
    }
  }, POLL_MS);
  $('logout').addEventListener('click', async () => {
    loggedIn = false;
    let done = true;
    try { await api.logout(); } catch { done = false; }
    loggedOut(done ? 'You have logged out.'
      : 'You are logged out in this page, but the node could not be told (is it still running?).');
  });
}

start();
