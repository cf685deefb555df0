// One machine: its record, the waterfall of a boot (each phase on a time axis
// from the moment its script was served), its event history, and for a
// discovered machine the Approve button.

import * as api from './api.js';
import { h, s, clear, clock, duration, bytes } from './dom.js';
import { initialState } from './machines.js';

// The spans of one boot, from its start (the /ipxe script served) to each
// phase the node reported. Events of that boot are those at or after its
// start and before the next boot's.
export function bootSpans(bootAt, nextBootAt, events) {
  const mine = events
    .filter((e) => e.at_ms >= bootAt && (nextBootAt === null || e.at_ms < nextBootAt))
    .sort((a, b) => a.at_ms - b.at_ms);
  const labels = {
    booted: 'firmware, kernel and initrd',
    configured: 'config fetched and applied',
    ready: 'services up',
    error: 'failed',
  };
  const spans = [];
  let from = bootAt;
  for (const e of mine) {
    spans.push({ phase: e.phase, label: labels[e.phase] ?? e.phase, start: from, end: e.at_ms, event: e });
    from = e.at_ms;
  }
  return spans;
}

function waterfall(bootAt, spans) {
  const W = 760;
  const LEFT = 130;
  const ROWH = 30;
  const total = Math.max(1, (spans.at(-1)?.end ?? bootAt) - bootAt);
  const x = (t) => LEFT + ((t - bootAt) / total) * (W - LEFT - 20);
  const height = 40 + ROWH * (spans.length + 1);
  const svg = s('svg', {
    class: 'waterfall', viewBox: `0 0 ${W} ${height}`, role: 'img',
    'aria-label': `Boot waterfall: ${spans.map((p) => `${p.phase} after ${duration(p.end - bootAt)}`).join(', ') || 'no phase reported yet'}`,
  });
  // The axis: five ticks from the boot's start to its last phase.
  for (let i = 0; i <= 4; i++) {
    const t = bootAt + (total * i) / 4;
    svg.append(s('line', { x1: x(t), x2: x(t), y1: 20, y2: height - 10, class: 'tick' }),
      s('text', { x: x(t), y: 14, 'text-anchor': 'middle', class: 'tick-label', text: `+${duration(t - bootAt)}` }));
  }
  svg.append(s('text', { x: 4, y: 20 + ROWH * 0.7, class: 'lane', text: 'script served' }),
    s('circle', { cx: x(bootAt), cy: 20 + ROWH / 2, r: 5, class: 'bar bar-start' }));
  spans.forEach((p, i) => {
    const y = 20 + ROWH * (i + 1);
    const w = Math.max(2, x(p.end) - x(p.start));
    svg.append(s('text', { x: 4, y: y + ROWH * 0.7, class: 'lane', text: p.phase }),
      s('rect', { x: x(p.start), y: y + 6, width: w, height: ROWH - 12, rx: 3, class: `bar bar-${p.phase}`, 'data-phase': p.phase },
        s('title', { text: `${p.label}: ${duration(p.end - p.start)} (at +${duration(p.end - bootAt)})` })),
      // The duration right of its bar, or inside it where the axis ends.
      x(p.start) + w + 70 < W
        ? s('text', { x: x(p.start) + w + 6, y: y + ROWH * 0.7, class: 'bar-label', text: duration(p.end - p.start) })
        : s('text', { x: x(p.start) + w - 6, y: y + ROWH * 0.7, 'text-anchor': 'end', class: 'bar-label inside', text: duration(p.end - p.start) }));
  });
  return svg;
}

function factsList(facts) {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of Object.entries(facts || {})) {
    dl.append(h('dt', { text: k }), h('dd', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) }));
  }
  return dl;
}

export class MachineView {
  constructor(id, { onBack, model }) {
    this.id = id;
    this.onBack = onBack;
    this.model = model;
    this.bootIndex = 0;
    this.key = (e) => {
      if (e.key === 'Escape' && !e.target.closest('input, select, textarea')) { e.preventDefault(); this.onBack(); }
    };
  }

  mount(root) {
    this.root = h('section', { class: 'machine', 'aria-labelledby': 'machine-title' });
    root.append(this.root);
    document.addEventListener('keydown', this.key);
    this.load();
  }

  unmount() {
    document.removeEventListener('keydown', this.key);
    clearTimeout(this.reloadTimer);
    this.abort?.abort();
  }

  focus() { this.root.querySelector('h2')?.focus(); }

  // A feed event about this machine: reload it once the burst settles.
  onEvent(type, d) {
    if (d?.machine !== this.id) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(), 300);
  }

  async load() {
    this.abort?.abort();
    this.abort = new AbortController();
    const path = `/api/v1/machines/${encodeURIComponent(this.id)}`;
    try {
      const [m, events] = await Promise.all([
        api.get(path, { signal: this.abort.signal }),
        api.get(`${path}/events`, { signal: this.abort.signal }),
      ]);
      this.render(m, events);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e instanceof api.Unauthorized) throw e;
      clear(this.root).append(h('h2', { id: 'machine-title', tabindex: -1, text: this.id }),
        h('p', { class: 'error', role: 'alert', text: e.message }), this.backButton());
    }
  }

  backButton() {
    return h('button', { type: 'button', class: 'back', text: '← All machines (Esc)', onclick: () => this.onBack() });
  }

  render(m, events) {
    const hadFocus = this.root.contains(document.activeElement) ? document.activeElement.id : null;
    clear(this.root);
    const boots = m.boot_history || [];
    this.bootIndex = Math.min(this.bootIndex, Math.max(0, boots.length - 1));
    const head = h('div', { class: 'machine-head' },
      this.backButton(),
      h('h2', { id: 'machine-title', tabindex: -1, text: m.id }),
      h('span', { class: `phase phase-${initialState(m)}`, 'data-testid': 'machine-phase', text: initialState(m) }));
    const summary = h('dl', { class: 'summary' },
      h('dt', { text: 'Group' }), h('dd', { text: m.group ?? (m.discovered ? 'discovered (no group)' : '—') }),
      h('dt', { text: 'Profile' }), h('dd', { text: m.profile ?? '—' }),
      h('dt', { text: 'Decision' }), h('dd', { text: `${m.decision}${m.reason ? ` (${m.reason})` : ''}` }),
      h('dt', { text: 'Boots' }), h('dd', { text: m.boots }),
      h('dt', { text: 'First seen' }), h('dd', { text: clock(m.first_seen_ms) }),
      h('dt', { text: 'Last seen' }), h('dd', { text: clock(m.last_seen_ms) }));
    this.root.append(head, summary);
    if (m.discovered) this.root.append(this.approveForm(m));

    const wf = h('section', { class: 'panel', 'aria-labelledby': 'wf-title' }, h('h3', { id: 'wf-title', text: 'Boot waterfall' }));
    if (boots.length) {
      const select = h('select', {
        id: 'boot-select',
        onchange: () => { this.bootIndex = Number(select.value); this.render(m, events); document.getElementById('boot-select')?.focus(); },
      }, boots.map((b, i) => h('option', { value: i, selected: i === this.bootIndex, text: `${clock(b.at_ms)}${i === 0 ? ' (latest)' : ''}` })));
      const boot = boots[this.bootIndex];
      const nextAt = this.bootIndex > 0 ? boots[this.bootIndex - 1].at_ms : null;
      const spans = bootSpans(boot.at_ms, nextAt, events);
      wf.append(h('div', { class: 'toolbar' }, h('label', { for: 'boot-select', text: 'Boot' }), select),
        spans.length ? waterfall(boot.at_ms, spans) : null,
        h('p', { class: 'muted', text: spans.length ? `ready after ${duration((spans.find((p) => p.phase === 'ready')?.end ?? NaN) - boot.at_ms)}` : 'No phase reported for this boot yet.' }));
    } else {
      wf.append(h('p', { class: 'muted', text: 'No boot recorded.' }));
    }
    this.root.append(wf);

    const hist = h('table', { class: 'table' },
      h('caption', { text: 'Event history (newest first)' }),
      h('thead', {}, h('tr', {}, ['Time', 'Phase', 'Uptime', 'Root', 'Message'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, [...events].reverse().map((e) => h('tr', {},
        h('td', { text: clock(e.at_ms) }),
        h('td', {}, h('span', { class: `phase phase-${e.phase}`, text: e.phase })),
        h('td', { text: e.uptime === undefined ? '—' : `${Number(e.uptime).toFixed(1)} s` }),
        h('td', { text: bytes(e.root_bytes) }),
        h('td', { class: 'msg', text: e.message ?? '' })))));
    const bootTable = h('table', { class: 'table' },
      h('caption', { text: 'Boots (newest first)' }),
      h('thead', {}, h('tr', {}, ['Time', 'Decision', 'Group', 'Profile', 'Reason'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, boots.map((b) => h('tr', {},
        h('td', { text: clock(b.at_ms) }), h('td', { text: b.decision }), h('td', { text: b.group ?? '—' }),
        h('td', { text: b.profile ?? '—' }), h('td', { text: b.reason ?? '' })))));
    this.root.append(h('section', { class: 'panel' }, hist), h('section', { class: 'panel' }, bootTable),
      h('details', { class: 'panel' }, h('summary', { text: 'Facts the machine sent' }), factsList(m.facts)));
    if (hadFocus) document.getElementById(hadFocus)?.focus();
  }

  approveForm(m) {
    const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const name = h('input', {
      id: 'approve-name', name: 'name', required: true, pattern: '[a-z0-9]([a-z0-9\\-]{0,61}[a-z0-9])?', maxlength: 63,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'approve-name-help',
      value: (m.facts?.hostname ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63),
    });
    const group = h('select', { id: 'approve-group', name: 'group', required: true });
    api.get('/api/v1/groups').then((groups) => {
      // A machine file is a group of its own: approving into one is refused.
      const real = groups.filter((x) => !/(^|\/)machines\/[^/]+\.yaml/.test(x.source ?? ''));
      for (const g of real) group.append(h('option', { value: g.id, text: `${g.id} (profile ${g.profile})` }));
    }, (e) => { status.textContent = `Groups not loaded: ${e.message}`; });
    const button = h('button', { type: 'submit', id: 'approve', text: 'Approve' });
    const form = h('form', {
      class: 'panel approve', 'aria-labelledby': 'approve-title',
      onsubmit: async (e) => {
        e.preventDefault();
        if (!form.reportValidity()) return;
        button.disabled = true;
        status.textContent = 'Approving…';
        try {
          const out = await api.post(`/api/v1/machines/${encodeURIComponent(m.id)}/approve`,
            { name: name.value, group: group.value });
          status.textContent = `Approved as ${name.value} in ${group.value}${out.file ? `: wrote ${out.file}` : ''}. ` +
            'It boots as a member of that group from its next boot on.';
        } catch (err) {
          status.textContent = `Not approved: ${err.message}`;
          button.disabled = false;
        }
      },
    },
    h('h3', { id: 'approve-title', text: 'Discovered machine' }),
    h('p', { text: 'No inventory group matches this machine. Approving it writes a machine file (machines/<name>.yaml) that puts it in a group under a name (an admin token is needed).' }),
    h('div', { class: 'fields' },
      h('label', { for: 'approve-name', text: 'Name' }), name,
      h('span', { id: 'approve-name-help', class: 'muted', text: 'its host name: a-z, 0-9 and -' }),
      h('label', { for: 'approve-group', text: 'Group' }), group),
    button, status);
    return form;
  }
}
