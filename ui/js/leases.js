// DHCP leases (GET /api/v1/leases): reread when a boot shows up on the feed
// (a boot is when a lease is taken or renewed), at most every 2 s.

import * as api from './api.js';
import { h, clear } from './dom.js';
import { rowsTable } from './tables.js';

export class LeasesView {
  mount(root) {
    this.body = h('div', { class: 'panel' });
    this.root = h('section', { 'aria-labelledby': 'leases-title' },
      h('div', { class: 'toolbar' }, h('h2', { id: 'leases-title', tabindex: -1, text: 'Leases' }),
        h('button', { type: 'button', text: 'Refresh', onclick: () => this.load() })),
      this.body);
    root.append(this.root);
    this.load();
  }

  unmount() { clearTimeout(this.timer); }
  focus() { this.root.querySelector('h2').focus(); }

  onEvent(type) {
    if (type !== 'boot' && type !== 'lease') return;
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.load(); }, 2000);
  }

  async load() {
    try {
      const rows = await api.get('/api/v1/leases');
      rows.sort((a, b) => String(a.address ?? a.ip ?? '').localeCompare(String(b.address ?? b.ip ?? ''), undefined, { numeric: true }));
      clear(this.body).append(rows.length
        ? rowsTable(`${rows.length} leases`, rows, ['address', 'mac', 'hostname', 'state', 'expires_at'])
        : h('p', { class: 'muted', text: 'No leases: DHCP is off, in proxy mode, or nothing has asked yet.' }));
    } catch (e) {
      if (e instanceof api.Unauthorized) throw e;
      clear(this.body).append(h('p', { class: 'error', role: 'alert', text: e.message }));
    }
  }
}
