// The node's HTTP API as the page uses it: same-origin requests authenticated by the session cookie
// (HttpOnly, so this script never sees it), with the CSRF header the server requires on every
// request that changes something. Only documented routes of docs/api.md are used.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Called once a request is refused for want of a session (logged out elsewhere, expired, the daemon
// restarted): the page then drops what it shows of the node. Set by app.js.
let unauthorized = () => {};
export function onUnauthorized(handler) { unauthorized = handler; }

// Once the session is over, requests still under way (a refresh, a poll) are never answered, so
// nothing the node said can be drawn again after the page cleared it.
let closed = false;
const never = () => new Promise(() => {});

async function call(method, path, body, extraHeaders = {}) {
  if (closed) return never();
  const headers = { 'X-Kith-CSRF': '1', ...extraHeaders };
  let payload;
  if (body instanceof Blob) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await res.text();
  if (closed) return never();
  if (res.status === 401) {
    closed = true;
    unauthorized();
    return never();
  }
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: 'http_' + res.status, message: text || res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

const enc = encodeURIComponent;

// The node's message, without the hints meant for the command line ("… (kith hangup ID)", "`kith …`").
export function plain(message) {
  return String(message || '').replace(/ \((?:hang up first: )?kith [^)]*\)/g, '')
    .replace(/:? ?try again when `kith [^`]*` shows them online/, '').replace(/`/g, '').trim();
}

// For a page that is closing: a POST that outlives it (fetch keepalive), answered by no one.
function closing(path) {
  if (closed) return;
  fetch(path, { method: 'POST', keepalive: true, headers: { 'X-Kith-CSRF': '1' }, credentials: 'same-origin' })
    .catch(() => {});
}

export const api = {
  status: () => call('GET', '/api/v1/status'),
  transfers: () => call('GET', '/api/v1/transfers'),
  transfer: (id) => call('GET', `/api/v1/transfers/${enc(id)}`),
  peers: (id) => call('GET', `/api/v1/transfers/${enc(id)}/peers`),
  addLink: (link) => call('POST', '/api/v1/transfers', { link }),
  addTorrent: (base64) => call('POST', '/api/v1/transfers', { torrent: base64 }),
  pause: (id) => call('POST', `/api/v1/transfers/${enc(id)}/pause`),
  resume: (id) => call('POST', `/api/v1/transfers/${enc(id)}/resume`),
  remove: (id, deleteData) =>
    call('DELETE', `/api/v1/transfers/${enc(id)}${deleteData ? '?delete_data=true' : ''}`),
  selectFiles: (id, wanted) => call('PUT', `/api/v1/transfers/${enc(id)}/files`, { wanted }),
  qrUrl: (id) => `/api/v1/transfers/${enc(id)}/qr.svg`,
  inviteQrUrl: () => '/api/v1/id/qr.svg',
  settings: () => call('GET', '/api/v1/settings'),
  setSetting: (name, value) => call('PUT', `/api/v1/settings/${enc(name)}`, { value }),
  newUpload: () => call('POST', '/api/v1/uploads'),
  uploadFile: (id, path, file) =>
    call('PUT', `/api/v1/uploads/${enc(id)}/files?path=${enc(path)}`, file,
         { 'Content-Type': 'application/octet-stream' }),
  // `name`: the shared folder's name when several files were uploaded side by side (docs/api.md).
  shareUpload: (id, name) => call('POST', `/api/v1/uploads/${enc(id)}/share`, name ? { name } : undefined),
  // Ends the session; from then on this page asks the node nothing. Fails only if the node was not
  // reached (a session that had already ended counts as logged out).
  logout: async () => {
    closed = true;
    const res = await fetch('/api/v1/ui/logout', { method: 'POST', headers: { 'X-Kith-CSRF': '1' }, credentials: 'same-origin' });
    if (!res.ok && res.status !== 401) throw new ApiError(res.status, 'http_' + res.status, res.statusText);
  },
  quarantine: (all) => call('GET', `/api/v1/quarantine${all ? '?all=true' : ''}`),
  releaseQuarantined: (id) => call('POST', `/api/v1/quarantine/${enc(id)}/release`),
  deleteQuarantined: (id) => call('DELETE', `/api/v1/quarantine/${enc(id)}`),
  // Contacts, messages, groups and files to contacts (docs/api.md § Contacts and messages).
  identity: () => call('GET', '/api/v1/id'),
  contacts: () => call('GET', '/api/v1/contacts'),
  requests: () => call('GET', '/api/v1/contacts/requests'),
  addContact: (invite, message) => call('POST', '/api/v1/contacts', message ? { invite, message } : { invite }),
  acceptContact: (who) => call('POST', `/api/v1/contacts/${enc(who)}/accept`),
  declineContact: (who) => call('POST', `/api/v1/contacts/${enc(who)}/decline`),
  blockContact: (who) => call('POST', `/api/v1/contacts/${enc(who)}/block`),
  removeContact: (who) => call('DELETE', `/api/v1/contacts/${enc(who)}`),
  // `with`: a contact's ID or `group:ID`; the newest `limit` messages (after `after`), oldest first.
  messages: ({ with: conv = '', search = '', limit = 100, after = 0 } = {}) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (conv) q.set('with', conv);
    if (search) q.set('search', search);
    if (after) q.set('after', String(after));
    return call('GET', `/api/v1/messages?${q}`);
  },
  message: (id) => call('GET', `/api/v1/messages/${enc(id)}`),
  sendMessage: (to, text) => call('POST', '/api/v1/messages', { to, text }),
  markRead: (conv) => call('POST', '/api/v1/messages/read', { with: conv }),
  groups: () => call('GET', '/api/v1/groups'),
  createGroup: (name, members) => call('POST', '/api/v1/groups', { name, members }),
  sendToGroup: (group, text) => call('POST', `/api/v1/groups/${enc(group)}/messages`, { text }),
  offers: () => call('GET', '/api/v1/files'),
  // `path`: absolute, readable by the daemon (an upload's file under HOME/uploads/).
  sendFile: (who, path) => call('POST', `/api/v1/contacts/${enc(who)}/files`, { path }),
  // Calls (docs/api.md § Calls): this page is a local media endpoint.
  calls: () => call('GET', '/api/v1/calls'),
  callConfig: () => call('GET', '/api/v1/calls/config'),
  placeCall: (contact, video) => call('POST', '/api/v1/calls', { contact, video: !!video }),
  // Group calls: a fresh room with 2–5 contacts ({room, calls, unreachable}); joining a room late
  // through one of its participants; leaving (every live call of the room hangs up).
  startGroupCall: (contacts, video) => call('POST', '/api/v1/calls', { contacts, video: !!video }),
  joinRoom: (contact, room, video) => call('POST', '/api/v1/calls', { contact, room, video: !!video }),
  leaveRoom: (room) => call('POST', `/api/v1/calls/rooms/${enc(room)}/hangup`),
  answerCall: (id) => call('POST', `/api/v1/calls/${enc(id)}/answer`),
  hangupCall: (id) => call('POST', `/api/v1/calls/${enc(id)}/hangup`),
  callSignal: (id, signal) => call('POST', `/api/v1/calls/${enc(id)}/signals`, signal),
  callSignals: (id, after) => call('GET', `/api/v1/calls/${enc(id)}/signals?after=${after}`),
  callConnected: (id) => call('POST', `/api/v1/calls/${enc(id)}/connected`),
  callFailed: (id, reason) => call('POST', `/api/v1/calls/${enc(id)}/failed`, { reason }),
  // Folder sync (docs/api.md § Folder sync).
  syncFolders: () => call('GET', '/api/v1/sync/folders'),
  syncAddFolder: (body) => call('POST', '/api/v1/sync/folders', body),
  syncRemoveFolder: (id) => call('DELETE', `/api/v1/sync/folders/${enc(id)}`),
  syncRescan: (id) => call('POST', `/api/v1/sync/folders/${enc(id)}/rescan`),
  syncConflicts: (id) => call('GET', `/api/v1/sync/folders/${enc(id)}/conflicts`),
  syncChanges: (id) => call('GET', `/api/v1/sync/folders/${enc(id)}/changes`),
  syncPause: (id) => call('POST', `/api/v1/sync/folders/${enc(id)}/pause`),
  syncResume: (id) => call('POST', `/api/v1/sync/folders/${enc(id)}/resume`),
  syncDevices: () => call('GET', '/api/v1/sync/devices'),
  syncAddDevice: (body) => call('POST', '/api/v1/sync/devices', body),
  syncRemoveDevice: (id) => call('DELETE', `/api/v1/sync/devices/${enc(id)}`),
  syncPending: () => call('GET', '/api/v1/sync/pending'),
  syncAccept: (folder, path) => call('POST', `/api/v1/sync/pending/${enc(folder)}/accept`, { path }),
  hangupOnClose: (id) => closing(`/api/v1/calls/${enc(id)}/hangup`),
  leaveRoomOnClose: (room) => closing(`/api/v1/calls/rooms/${enc(room)}/hangup`),
};

// Live events (Server-Sent Events; EventSource sends the session cookie). `onEvent(type, data)` for
// each event; `onState(connected)` when the stream opens or drops (EventSource reconnects itself).
export function followEvents(types, onEvent, onState) {
  const source = new EventSource('/api/v1/events');
  source.onopen = () => onState(true);
  source.onerror = () => onState(false);
  for (const type of types) {
    source.addEventListener(type, (e) => {
      let data = null;
      try { data = JSON.parse(e.data); } catch { return; }
      onEvent(type, data);
    });
  }
  return source;
}
