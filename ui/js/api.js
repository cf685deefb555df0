// The operator API, with the bearer token the user pasted (sessionStorage:
// gone when the tab closes). Every datum the dashboard shows comes through here.

const KEY = 'ramfleet.token';

export class Unauthorized extends Error {}

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t.trim()),
  clear: () => sessionStorage.removeItem(KEY),
};

export function authHeaders(extra = {}) {
  const t = token.get();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
}

async function check(res) {
  if (res.status === 401) throw new Unauthorized('the token was refused (401)');
  if (!res.ok) {
    let why = `${res.status} ${res.statusText}`;
    try { why = (await res.json()).error || why; } catch { /* not JSON */ }
    const e = new Error(why);
    e.status = res.status;
    throw e;
  }
  return res;
}

export async function get(path, { signal } = {}) {
  const res = await fetch(path, { headers: authHeaders({ Accept: 'application/json' }), signal });
  return (await check(res)).json();
}

export async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'application/json' }),
    body: JSON.stringify(body ?? {}),
  });
  return (await check(res)).json();
}

// RFC 8288 Link header: the rel="next" target, or null.
export function nextLink(header) {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?next"?/);
    if (m) return m[1];
  }
  return null;
}

// Every machine, a page at a time; onPage(rows) after each, so the table
// renders as soon as the first page arrives.
export async function allMachines(onPage, { signal } = {}) {
  let path = '/api/v1/machines?limit=1000';
  const all = [];
  while (path) {
    const res = await check(await fetch(path, { headers: authHeaders({ Accept: 'application/json' }), signal }));
    const rows = await res.json();
    all.push(...rows);
    onPage(rows, all);
    const next = nextLink(res.headers.get('Link'));
    // Follow only our own API: a Link header cannot send the token elsewhere.
    path = next && next.startsWith('/api/v1/machines?') ? next : null;
  }
  return all;
}
