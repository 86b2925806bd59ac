// Browser notifications for new messages while the page is hidden. Permission is asked only when the
// user clicks "Notify me of new messages" — never on load.
const $ = (id) => document.getElementById(id);
const supported = () => typeof Notification !== 'undefined';

function showButton() {
  $('notify-enable').hidden = !supported() || Notification.permission !== 'default';
  if (supported() && Notification.permission === 'denied') {
    $('notify-note').textContent = 'Notifications are blocked for this page in the browser.';
  }
}

export function init() {
  $('notify-enable').addEventListener('click', async () => {
    if (!supported()) return;
    const answer = await Notification.requestPermission();
    $('notify-note').textContent = answer === 'granted'
      ? 'You will be notified of new messages while this page is in the background.'
      : 'Notifications stay off.';
    showButton();
  });
  showButton();
}

// A message from someone else arrived: tell the user if they are not looking at the page.
// `title` and `body` are peer text; the browser shows them as plain text.
export function message(title, body, tag, onClick) {
  if (!supported() || Notification.permission !== 'granted' || !document.hidden) return;
  const n = new Notification(title, { body: body.length > 200 ? body.slice(0, 200) + '…' : body, tag });
  n.onclick = () => { window.focus(); onClick(); n.close(); };
}

export function clear() { $('notify-note').textContent = ''; }
