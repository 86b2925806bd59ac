// Groups in the contacts view: the list (each opens its conversation in the chat pane) and the form
// that creates one with accepted contacts as members.
import { api } from './api.js';
import { el } from './format.js';
import * as people from './people.js';

const $ = (id) => document.getElementById(id);

let announce = () => {};

export function render(openConv) {
  const groups = people.allGroups().sort((x, y) => x.name.localeCompare(y.name));
  $('group-list').replaceChildren(...groups.map((g) => {
    const conv = 'group:' + g.id;
    const unread = people.groupUnreadText(g.id);
    return el('li', { class: 'person' },
      el('a', { href: `#/contacts/${conv}`, 'aria-current': conv === openConv ? 'page' : null },
        el('span', { class: 'person-name' }, g.name)),
      el('span', { class: 'muted' }, `${g.members.length} members`),
      unread ? el('span', { class: 'unread' }, unread, el('span', { class: 'visually-hidden' }, ' unread')) : null);
  }));
  $('groups-empty').hidden = groups.length > 0;
  // Member checkboxes: accepted contacts, keeping what is ticked.
  const ticked = new Set([...$('group-members').querySelectorAll('input:checked')].map((i) => i.value));
  const candidates = people.accepted().sort((x, y) => x.name.localeCompare(y.name));
  $('group-members').replaceChildren(...candidates.map((c) => {
    const id = 'member-' + c.id;
    return el('li', {},
      el('input', { type: 'checkbox', id, value: c.id, checked: ticked.has(c.id) }),
      el('label', { for: id, class: 'inline' }, c.name));
  }));
  $('group-members-empty').hidden = candidates.length > 0;
}

async function create(e) {
  e.preventDefault();
  const name = $('group-name').value.trim();
  const members = [...$('group-members').querySelectorAll('input:checked')].map((i) => i.value);
  $('group-error').textContent = '';
  if (!name) { $('group-error').textContent = 'Give the group a name.'; return; }
  if (!members.length) { $('group-error').textContent = 'Choose at least one member.'; return; }
  try {
    const g = await api.createGroup(name, members);
    $('group-name').value = '';
    for (const box of $('group-members').querySelectorAll('input:checked')) box.checked = false;
    await people.loadGroups();
    announce(`Group ${g.name} created.`);
    location.hash = `#/contacts/group:${g.id}`;
  } catch (err) {
    $('group-error').textContent = err.message;
  }
}

export function init(say) {
  announce = say;
  $('group-form').addEventListener('submit', create);
}

export function clear() {
  $('group-list').replaceChildren();
  $('group-members').replaceChildren();
  $('group-name').value = '';
  $('group-error').textContent = '';
}
