// The ring of an incoming call (one at a time): a Web Audio two-tone beep every 3 s, and a browser
// notification while the page is hidden (if the user allowed them). Used by calls.js for calls
// between two people and for group call invitations alike.

let ring = null; // {key, ctx, timer, notification} while this page rings

// Rings for `key` (a call id or a room) unless it rings already; `title` and `body` are text.
export function start(key, title, body) {
  if (ring && ring.key === key) return;
  stop();
  ring = { key, ctx: null, timer: null, notification: null };
  try {
    const ctx = new AudioContext();
    ring.ctx = ctx;
    const beep = () => {
      if (ctx.state !== 'running') { ctx.resume().catch(() => {}); return; }
      for (const [start, f] of [[0, 440], [0, 480]]) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.frequency.value = f;
        g.gain.value = 0.05;
        o.connect(g).connect(ctx.destination);
        o.start(ctx.currentTime + start);
        o.stop(ctx.currentTime + start + 1);
      }
    };
    beep();
    ring.timer = setInterval(beep, 3000);
  } catch { /* no Web Audio: the banner alone */ }
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
    const n = new Notification(title, { body, tag: 'kith-call-' + key, requireInteraction: true });
    n.onclick = () => { window.focus(); n.close(); };
    ring.notification = n;
  }
}

export function stop() {
  if (!ring) return;
  if (ring.timer) clearInterval(ring.timer);
  if (ring.ctx) ring.ctx.close().catch(() => {});
  if (ring.notification) ring.notification.close();
  ring = null;
}
