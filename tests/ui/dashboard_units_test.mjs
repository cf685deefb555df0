// The dashboard's pure parts under node's test runner (no browser): the SSE
// parser fed in arbitrary chunks, the waterfall's spans, the Link header,
// the machines model applying feed events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../ui/js/sse.js';
import { bootSpans } from '../../ui/js/machine.js';
import { nextLink } from '../../ui/js/api.js';
import { MachineModel } from '../../ui/js/machines.js';

const STREAM = 'retry: 3000\n\nid: e1-4\nevent: hello\ndata: {}\n\n: keep-alive\n\n'
  + 'id: e1-5\nevent: boot\ndata: {"machine":"m1"}\n\nid: e1-6\r\nevent: phase\r\ndata: {"phase":"ready"}\r\n\r\n';

function parse(chunks) {
  const got = [];
  const p = new SseParser((e) => got.push(e));
  for (const c of chunks) p.push(c);
  return { got, p };
}

test('SSE: events, ids, retry and comments, whole', () => {
  const { got, p } = parse([STREAM]);
  assert.deepEqual(got.map((e) => [e.type, e.id, e.data]), [
    ['hello', 'e1-4', '{}'], ['boot', 'e1-5', '{"machine":"m1"}'], ['phase', 'e1-6', '{"phase":"ready"}']]);
  assert.equal(p.retry, 3000);
});

test('SSE: the same events whatever the chunking, CRLF split included', () => {
  const whole = parse([STREAM]).got;
  for (let size = 1; size < 12; size++) {
    const chunks = [];
    for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
    assert.deepEqual(parse(chunks).got, whole, `chunks of ${size}`);
  }
});

test('SSE: multi-line data joins with newlines; an event without data is not dispatched', () => {
  const { got } = parse(['event: x\ndata: a\ndata: b\n\nevent: empty\n\n']);
  assert.deepEqual(got.map((e) => [e.type, e.data]), [['x', 'a\nb']]);
});

test('waterfall: the spans of one boot, from its script to each phase', () => {
  const events = [
    { at_ms: 50, phase: 'ready' }, // an earlier boot's
    { at_ms: 1200, phase: 'booted' },
    { at_ms: 1500, phase: 'configured' },
    { at_ms: 2100, phase: 'ready' },
    { at_ms: 9000, phase: 'booted' }, // the next boot's
  ];
  const spans = bootSpans(1000, 8000, events);
  assert.deepEqual(spans.map((s) => [s.phase, s.start, s.end]), [
    ['booted', 1000, 1200], ['configured', 1200, 1500], ['ready', 1500, 2100]]);
  assert.deepEqual(bootSpans(8000, null, events).map((s) => s.phase), ['booted']);
});

test('Link: the next page, or null', () => {
  assert.equal(nextLink('</api/v1/machines?limit=1000&after=52%3A54>; rel="next"'), '/api/v1/machines?limit=1000&after=52%3A54');
  assert.equal(nextLink(null), null);
  assert.equal(nextLink('</x>; rel="prev"'), null);
});

test('model: a boot then phases move a machine; a replayed boot counts once', () => {
  const m = new MachineModel();
  m.setAll([{ id: 'm1', boots: 1, last_seen_ms: 100, last_phase: 'ready', decision: 'group', group: 'g' }]);
  assert.equal(m.byId.get('m1').state, 'ready');
  const boot = { machine: 'm1', decision: 'group', discovered: false, group: 'g', profile: 'p', at_ms: 200 };
  m.apply('boot', boot);
  assert.equal(m.byId.get('m1').state, 'booting');
  m.apply('boot', boot); // the same event again (a resume overlapping the load)
  assert.equal(m.byId.get('m1').boots, 2);
  m.apply('phase', { machine: 'm1', phase: 'booted', at_ms: 300 });
  assert.equal(m.byId.get('m1').state, 'booted');
  m.apply('boot', { ...boot, machine: 'new', decision: 'exit', discovered: true, group: null });
  assert.equal(m.byId.get('new').state, 'exit');
  assert.equal(m.byId.get('new').discovered, true);
  assert.equal(m.apply('phase', { phase: 'ready' }), null); // no machine: ignored
});
