// Small views over one API resource: a table of rows with whatever columns
// they have, or a nested definition list for an object.

import { h } from './dom.js';

const TIME_KEYS = /(_ms|_at|expires|start|end)$/i;

function cellText(key, v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number' && TIME_KEYS.test(key) && v > 1e12) return new Date(v).toLocaleString();
  if (typeof v === 'number' && TIME_KEYS.test(key) && v > 1e9) return new Date(v * 1000).toLocaleString();
  return String(v);
}

export function rowsTable(caption, rows, preferred = []) {
  const keys = [...new Set([...preferred, ...rows.flatMap((r) => Object.keys(r))])].filter((k) => rows.some((r) => k in r));
  return h('table', { class: 'table' },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, keys.map((k) => h('th', { scope: 'col', text: k })))),
    h('tbody', {}, rows.map((r) => h('tr', {}, keys.map((k) => h('td', { text: cellText(k, r[k]) }))))));
}

export function objectList(obj, depth = 0) {
  if (obj === null || typeof obj !== 'object') return h('span', { text: cellText('', obj) });
  if (Array.isArray(obj) && obj.length && obj.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
    return rowsTable(`${obj.length} entries`, obj);
  }
  const dl = h('dl', { class: depth ? 'tree nested' : 'tree' });
  for (const [k, v] of Object.entries(obj)) {
    dl.append(h('dt', { text: k }), h('dd', {}, depth < 4 ? objectList(v, depth + 1) : cellText(k, v)));
  }
  return dl;
}
