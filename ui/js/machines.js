// The machines table: every machine the server has seen, filtered and sorted
// in the page, kept current by the live feed. Only the rows in view exist in
// the DOM (virtual scrolling), so 10,000 machines cost what 40 do.

import { h, clear, clock } from './dom.js';

const ROW = 32;       // px; fixed, so a row's position is index * ROW
const OVERSCAN = 8;   // rows rendered beyond each edge, for smooth scrolling

const COLUMNS = [
  { key: 'id', label: 'Machine', cls: 'c-id' },
  { key: 'group', label: 'Group', cls: 'c-group' },
  { key: 'profile', label: 'Profile', cls: 'c-profile' },
  { key: 'state', label: 'Phase', cls: 'c-state' },
  { key: 'boots', label: 'Boots', cls: 'c-num' },
  { key: 'last_seen_ms', label: 'Last seen', cls: 'c-time' },
];

// What a row shows as its phase: the last one reported, "booting" once a new
// boot began (the script was served) and before the node reports, "exit" for
// a machine the inventory sends back to its firmware.
export function initialState(m) {
  if (m.last_phase) return m.last_phase;
  return m.decision === 'exit' ? 'exit' : 'booting';
}

// All machines, by id; the table's rows are a filtered, sorted view of it.
export class MachineModel {
  constructor() {
    this.byId = new Map();
    this.listeners = new Set();
    this.loaded = false;
    this.updatedAt = new Map();  // id -> ms of its last live update (for the highlight)
  }

  setAll(rows) {
    this.byId.clear();
    this.addPage(rows);
  }

  addPage(rows) {
    for (const m of rows) this.byId.set(m.id, { ...m, state: initialState(m) });
    this.changed();
  }

  // A feed event; returns the machine's id when it concerned one.
  apply(type, d) {
    if (!d || typeof d.machine !== 'string') return null;
    let m = this.byId.get(d.machine);
    if (type === 'boot') {
      if (!m) {
        m = { id: d.machine, facts: {}, boots: 0, first_seen_ms: d.at_ms, last_phase: null };
        this.byId.set(d.machine, m);
      }
      // Idempotent: an event the initial load already counted changes nothing.
      if (!(m.last_seen_ms >= d.at_ms)) {
        m.boots = (m.boots || 0) + 1;
        m.last_seen_ms = d.at_ms;
        m.state = d.decision === 'exit' ? 'exit' : 'booting';
      }
      m.group = d.group;
      m.profile = d.profile;
      m.decision = d.decision;
      m.discovered = d.discovered;
    } else if (type === 'phase') {
      if (!m) return null;  // a machine we have not loaded yet: the next load has it
      m.last_phase = d.phase;
      m.state = d.phase;
      m.last_event_ms = d.at_ms;
    } else if (type === 'approval') {
      if (!m) return null;
      if (d.group) m.group = d.group;
      if (d.profile) m.profile = d.profile;
      m.approved = true;
    } else {
      return null;
    }
    this.updatedAt.set(d.machine, performance.now());
    this.changed();
    return d.machine;
  }

  changed() {
    for (const l of this.listeners) l();
  }
}

function compare(key, dir) {
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    if (x === null || x === undefined) return 1;   // blanks last, either direction
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * dir;
  };
}

function matches(m, words) {
  if (!words.length) return true;
  const f = m.facts || {};
  const hay = `${m.id} ${m.group ?? ''} ${m.profile ?? ''} ${m.state ?? ''} ${m.decision ?? ''} ${f.hostname ?? ''} ${f.uuid ?? ''} ${f.arch ?? ''} ${f.ip ?? ''}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

export class MachinesView {
  constructor(model, { onOpen }) {
    this.model = model;
    this.onOpen = onOpen;
    this.sortKey = 'id';
    this.sortDir = 1;
    this.filter = '';
    this.onlyDiscovered = false;
    this.rows = [];
    this.active = 0;
    this.dirty = true;
    this.frame = 0;
    this.listener = () => this.invalidate();
  }

  mount(root) {
    this.filterInput = h('input', {
      id: 'machine-filter', type: 'search', placeholder: 'id, group, profile, phase…',
      'aria-describedby': 'machine-count', value: this.filter,
      oninput: () => { clearTimeout(this.filterTimer); this.filterTimer = setTimeout(() => this.setFilter(), 80); },
      onkeydown: (e) => {
        if (e.key === 'Escape' && this.filterInput.value) { e.preventDefault(); this.filterInput.value = ''; this.setFilter(); }
        if (e.key === 'Enter' || e.key === 'ArrowDown') { e.preventDefault(); this.body.focus(); }
      },
    });
    this.discoveredBox = h('input', {
      id: 'machine-discovered', type: 'checkbox', checked: this.onlyDiscovered,
      onchange: () => { this.onlyDiscovered = this.discoveredBox.checked; this.invalidate(true); },
    });
    this.count = h('p', { id: 'machine-count', class: 'count', 'aria-live': 'polite' });
    this.headRow = h('div', { role: 'row', class: 'row head', 'aria-rowindex': 1 });
    this.spacer = h('div', { class: 'spacer' });
    this.rowsEl = h('div', { class: 'rows', role: 'presentation' });
    this.spacer.append(this.rowsEl);
    this.body = h('div', {
      class: 'viewport', tabindex: 0, role: 'rowgroup', 'aria-label': 'Machines, use arrow keys, Enter opens',
      onscroll: () => this.schedule(),
      onkeydown: (e) => this.key(e),
      onclick: (e) => {
        const row = e.target.closest('[data-index]');
        if (row) { this.setActive(Number(row.dataset.index)); this.open(); }
      },
    });
    this.body.append(this.spacer);
    this.grid = h('div', { class: 'grid', role: 'grid', 'aria-labelledby': 'machines-title', 'aria-rowcount': 1 },
      h('div', { role: 'rowgroup', class: 'thead' }, this.headRow), this.body);
    root.append(h('section', { class: 'machines', 'aria-labelledby': 'machines-title' },
      h('div', { class: 'toolbar' },
        h('h2', { id: 'machines-title', text: 'Machines' }),
        h('label', { for: 'machine-filter', text: 'Filter' }), this.filterInput,
        h('label', { class: 'check' }, this.discoveredBox, ' Discovered only'),
        this.count),
      this.grid));
    this.renderHead();
    this.model.listeners.add(this.listener);
    this.resize = () => this.schedule();
    window.addEventListener('resize', this.resize);
    this.invalidate(true);
  }

  unmount() {
    this.model.listeners.delete(this.listener);
    window.removeEventListener('resize', this.resize);
    cancelAnimationFrame(this.frame);
    clearTimeout(this.throttle);
  }

  focus() { this.filterInput.focus(); }

  renderHead() {
    clear(this.headRow);
    for (const c of COLUMNS) {
      const sorted = this.sortKey === c.key;
      const label = `${c.label}${sorted ? (this.sortDir > 0 ? ' ▲' : ' ▼') : ''}`;
      this.headRow.append(h('div', {
        role: 'columnheader', class: `cell ${c.cls}`,
        'aria-sort': sorted ? (this.sortDir > 0 ? 'ascending' : 'descending') : 'none',
      }, h('button', { type: 'button', text: label, title: `Sort by ${c.label}`, onclick: () => this.sortBy(c.key) })));
    }
  }

  sortBy(key) {
    if (this.sortKey === key) this.sortDir = -this.sortDir;
    else { this.sortKey = key; this.sortDir = key === 'last_seen_ms' || key === 'boots' ? -1 : 1; }
    this.renderHead();
    this.invalidate(true);
  }

  setFilter() {
    this.filter = this.filterInput.value;
    this.body.scrollTop = 0;
    this.active = 0;
    this.invalidate(true);
  }

  // Live updates arrive in bursts: the view is recomputed at most every
  // 250 ms, never once per event.
  invalidate(now = false) {
    this.dirty = true;
    if (now) { clearTimeout(this.throttle); this.throttle = null; this.schedule(); return; }
    if (this.throttle) return;
    this.throttle = setTimeout(() => { this.throttle = null; this.schedule(); }, 250);
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  recompute() {
    const words = this.filter.toLowerCase().split(/\s+/).filter(Boolean);
    const out = [];
    for (const m of this.model.byId.values()) {
      if (this.onlyDiscovered && !m.discovered) continue;
      if (matches(m, words)) out.push(m);
    }
    out.sort(compare(this.sortKey, this.sortDir));
    const activeId = this.rows[this.active]?.id;
    this.rows = out;
    if (activeId) {
      const i = out.findIndex((m) => m.id === activeId);
      if (i >= 0) this.active = i;
    }
    this.active = Math.min(this.active, Math.max(0, out.length - 1));
    this.dirty = false;
    const total = this.model.byId.size;
    this.count.textContent = this.model.loaded || total
      ? (out.length === total ? `${total} machines` : `${out.length} of ${total} machines`)
      : 'loading…';
    this.grid.setAttribute('aria-rowcount', String(out.length + 1));
    this.spacer.style.height = `${out.length * ROW}px`;
  }

  render() {
    if (this.dirty) this.recompute();
    const top = this.body.scrollTop;
    const height = this.body.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW) + OVERSCAN);
    this.rowsEl.style.transform = `translateY(${first * ROW}px)`;
    const now = performance.now();
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) frag.append(this.rowEl(this.rows[i], i, now));
    clear(this.rowsEl).append(frag);
    if (this.rows.length) this.body.setAttribute('aria-activedescendant', `machine-row-${this.active}`);
    else this.body.removeAttribute('aria-activedescendant');
    this.rowsEl.dataset.rendered = String(last - first);
    document.dispatchEvent(new CustomEvent('ramfleet:rendered', { detail: { rows: this.rows.length } }));
  }

  rowEl(m, i, now) {
    const recent = now - (this.model.updatedAt.get(m.id) ?? -1e9) < 2000;
    const row = h('div', {
      role: 'row', id: `machine-row-${i}`, class: `row${i === this.active ? ' active' : ''}${recent ? ' updated' : ''}`,
      'aria-rowindex': i + 2, 'aria-selected': i === this.active ? 'true' : 'false',
      'data-index': i, 'data-id': m.id, 'data-phase': m.state,
    });
    const group = m.group ?? (m.discovered ? 'discovered' : '—');
    row.append(
      h('div', { role: 'gridcell', class: 'cell c-id' }, h('a', { href: `#/machines/${encodeURIComponent(m.id)}`, tabindex: -1, text: m.id })),
      h('div', { role: 'gridcell', class: `cell c-group${m.discovered ? ' discovered' : ''}`, text: group }),
      h('div', { role: 'gridcell', class: 'cell c-profile', text: m.profile ?? '—' }),
      h('div', { role: 'gridcell', class: 'cell c-state' }, h('span', { class: `phase phase-${m.state}`, text: m.state })),
      h('div', { role: 'gridcell', class: 'cell c-num', text: m.boots ?? 0 }),
      h('div', { role: 'gridcell', class: 'cell c-time', text: clock(m.last_seen_ms) }));
    return row;
  }

  setActive(i) {
    this.active = Math.max(0, Math.min(this.rows.length - 1, i));
    const y = this.active * ROW;
    if (y < this.body.scrollTop) this.body.scrollTop = y;
    else if (y + ROW > this.body.scrollTop + this.body.clientHeight) this.body.scrollTop = y + ROW - this.body.clientHeight;
    this.render();
  }

  open() {
    const m = this.rows[this.active];
    if (m) this.onOpen(m.id);
  }

  key(e) {
    const page = Math.max(1, Math.floor(this.body.clientHeight / ROW) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) this.setActive(this.active + moves[e.key]);
    else if (e.key === 'Home') this.setActive(0);
    else if (e.key === 'End') this.setActive(this.rows.length - 1);
    else if (e.key === 'Enter') this.open();
    else if (e.key === 'Escape') this.filterInput.focus();
    else return;
    e.preventDefault();
  }
}
