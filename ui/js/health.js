// Cluster health: the inventory the server runs on, the store, etcd
// membership, and the counters of what was refused. Read when shown and on
// Refresh, never polled in the background.

import * as api from './api.js';
import { h, clear, clock } from './dom.js';
import { objectList } from './tables.js';

export class HealthView {
  mount(root) {
    this.body = h('div');
    this.root = h('section', { 'aria-labelledby': 'health-title' },
      h('div', { class: 'toolbar' }, h('h2', { id: 'health-title', tabindex: -1, text: 'Cluster health' }),
        h('button', { type: 'button', text: 'Refresh', onclick: () => this.load() })),
      this.body);
    root.append(this.root);
    this.load();
  }

  unmount() {}
  focus() { this.root.querySelector('h2').focus(); }
  onEvent() {}

  async load() {
    const get = (p) => api.get(p).then((v) => ({ v }), (e) => {
      if (e instanceof api.Unauthorized) throw e;
      return { e };
    });
    const [inv, etcd, counters] = await Promise.all([get('/api/v1/inventory'), get('/api/v1/etcd'), get('/api/v1/counters')]);
    clear(this.body);
    const panel = (id, title, res, render) => h('section', { class: 'panel', 'aria-labelledby': id },
      h('h3', { id, text: title }),
      res.e ? h('p', { class: res.e.status === 404 || res.e.status === 503 ? 'muted' : 'error', text: res.e.message }) : render(res.v));
    this.body.append(
      panel('h-inv', 'Inventory', inv, (v) => h('div', {},
        h('p', { text: `Generation ${v.generation}, loaded ${clock(v.loaded_at_ms)}: ${v.groups} groups, ${v.profiles} profiles.` }),
        v.refused_reload_errors?.length
          ? h('div', { class: 'error', role: 'alert' }, h('p', { text: 'The last reload was refused:' }),
            h('ul', {}, v.refused_reload_errors.map((e) => h('li', {}, h('code', { text: e })))))
          : h('p', { class: 'ok', text: 'The last reload applied cleanly.' }))),
      panel('h-etcd', 'etcd', etcd, (v) => objectList(v)),
      panel('h-counters', 'Refusals and errors', counters, (v) => {
        const bad = Object.entries(v).filter(([k, n]) => /error|drop|refus|bad|fail|too_|slow|unknown/.test(k) && n > 0);
        if (!bad.length) return h('p', { class: 'ok', text: 'Nothing refused or failed since the server started.' });
        return h('table', { class: 'table' }, h('caption', { text: `${bad.length} counters above zero` }),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'counter' }), h('th', { scope: 'col', text: 'count' }))),
          h('tbody', {}, bad.map(([k, n]) => h('tr', {}, h('td', {}, h('code', { text: k })), h('td', { class: 'c-num', text: n })))));
      }));
  }
}
