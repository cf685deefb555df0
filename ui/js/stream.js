// The live feed, GET /api/v1/events/stream. EventSource cannot send an
// Authorization header, so the stream is read with fetch and a
// ReadableStream. One connection for the whole page; when it drops, one
// reconnect after the server's retry delay (longer after repeated failures),
// resuming with Last-Event-ID. A "reset" means the server lost our place:
// listeners reload their view from the API.

import { authHeaders } from './api.js';
import { SseParser } from './sse.js';

export class LiveFeed {
  constructor({ onEvent, onStatus, onReset, onUnauthorized }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onReset = onReset;
    this.onUnauthorized = onUnauthorized;
    this.lastId = null;
    this.retry = 3000;
    this.failures = 0;
    this.controller = null;
    this.stopped = true;
    this.timer = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
    this.onStatus('offline');
  }

  async connect() {
    if (this.stopped) return;
    this.controller = new AbortController();
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (this.lastId) headers['Last-Event-ID'] = this.lastId;
    this.onStatus(this.failures ? 'reconnecting' : 'connecting');
    try {
      const res = await fetch('/api/v1/events/stream', { headers, signal: this.controller.signal, cache: 'no-store' });
      if (res.status === 401) {
        this.stopped = true;
        this.onStatus('offline');
        this.onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`stream: ${res.status}`);
      this.onStatus('live');
      const parser = new SseParser((e) => this.dispatch(e));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.failures = 0;
        parser.push(value);
        if (parser.retry) this.retry = parser.retry;
      }
    } catch (e) {
      if (this.stopped) return;
    }
    this.failures++;
    this.schedule();
  }

  schedule() {
    if (this.stopped) return;
    this.onStatus('reconnecting');
    // The server's retry, doubled per consecutive failure up to a minute, with
    // jitter so many tabs do not come back in step.
    const delay = Math.min(60000, this.retry * 2 ** Math.max(0, this.failures - 1)) * (0.75 + Math.random() / 2);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  dispatch(e) {
    if (e.id) this.lastId = e.id;
    let data = {};
    try { data = JSON.parse(e.data); } catch { return; }
    if (e.type === 'reset') { this.onReset(data); return; }
    if (e.type === 'hello') return;
    this.onEvent(e.type, data);
  }
}
