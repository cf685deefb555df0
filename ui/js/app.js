// The dashboard's shell: the token gate, the hash routes (#/machines,
// #/machines/<id>, #/leases, #/health), one live feed for the whole page, and
// the machines model that outlives view changes (coming back to the list is
// instant and current).

import * as api from './api.js';
import { h, clear } from './dom.js';
import { LiveFeed } from './stream.js';
import { MachineModel, MachinesView } from './machines.js';
import { MachineView } from './machine.js';
import { LeasesView } from './leases.js';
import { HealthView } from './health.js';

const $ = (id) => document.getElementById(id);
const model = new MachineModel();
let view = null;
let loading = null;

const feed = new LiveFeed({
  onEvent: (type, data) => {
    model.apply(type, data);
    view?.onEvent?.(type, data);
  },
  onStatus: (s) => {
    const live = $('live');
    live.textContent = s;
    live.dataset.state = s;
  },
  // The server lost our place (restart, or we fell behind): reload what we show.
  onReset: () => { loadMachines(); view?.load?.(); },
  onUnauthorized: () => signOut('The token was refused (401).'),
});

async function loadMachines() {
  if (loading) return loading;
  const first = model.byId.size === 0;
  const seen = [];
  loading = api.allMachines((rows) => {
    seen.push(...rows);
    // The first load shows each page as it comes; a reload swaps in at the end.
    if (first) model.addPage(rows);
  }).then(() => {
    if (!first) model.setAll(seen);
    model.loaded = true;
    model.changed();
  }).catch((e) => {
    if (e instanceof api.Unauthorized) signOut('The token was refused (401).');
    else console.error(e);
  }).finally(() => { loading = null; });
  return loading;
}

function route() {
  const hash = location.hash || '#/machines';
  const [, name, ...rest] = hash.split('/');
  view?.unmount();
  const root = clear($('view'));
  const back = () => { location.hash = '#/machines'; };
  if (name === 'machines' && rest.length) {
    view = new MachineView(decodeURIComponent(rest.join('/')), { onBack: back, model });
  } else if (name === 'leases') {
    view = new LeasesView();
  } else if (name === 'health') {
    view = new HealthView();
  } else {
    view = new MachinesView(model, { onOpen: (id) => { location.hash = `#/machines/${encodeURIComponent(id)}`; } });
  }
  const current = name === 'machines' || !name ? 'machines' : name;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  view.mount(root);
  view.focus?.();
}

function signOut(message) {
  api.token.clear();
  feed.stop();
  view?.unmount();
  view = null;
  clear($('view'));
  model.byId.clear();
  model.loaded = false;
  $('signout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
  $('token').focus();
}

function signIn() {
  $('login').hidden = true;
  $('signout').hidden = false;
  // The feed first, then the list: nothing that happens while the list loads is missed.
  feed.start();
  loadMachines();
  route();
}

window.addEventListener('hashchange', () => { if (api.token.get()) route(); });
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason instanceof api.Unauthorized) { e.preventDefault(); signOut('The token was refused (401).'); }
});
$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('token').value.trim();
  if (!t) return;
  api.token.set(t);
  $('token').value = '';
  signIn();
});
$('signout').addEventListener('click', () => signOut());

if (api.token.get()) signIn();
else signOut();

// For tests and the bench: the model's size, without reading the DOM.
window.ramfleet = { model, feed };
