// Per-client limits under load, for tests/integration/27-client-limits and
// tests/bench/client-limits.mjs: keep-alive connections that send one
// client's pings as fast as mcpd answers them, and the rate mcpd allowed,
// measured from its own counters between two scrapes of /metrics.
//
//   const load = startPings(server.url, token, 4);   // load.counts: { 200: n, 429: m }
//   await load.stop();
//   const m = await measureAllowedRate({ url, metricsPort, token, connections: 4, requests: 600 });
//   m.rate, m.allowed, m.refused, m.seconds
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { waitUntil } from './wait.mjs';

export const PROTOCOL = '2025-11-25';
const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

// One exposition as { 'name{labels}': value }, and when it was taken (ms, the middle of the scrape).
export async function scrape(metricsPort) {
  const before = performance.now();
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.text();
  const at = (before + performance.now()) / 2;
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${text}`);
  const values = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    values[line.slice(0, cut)] = Number(line.slice(cut + 1));
  }
  return { at, values };
}

// `connections` keep-alive connections, each sending the client's next ping
// as soon as the last is answered, until stop().  counts: answers by status;
// refusals: the 429s' Retry-After values and bodies, the first few.
export function startPings(url, token, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const headers = {
    'content-type': 'application/json', accept: 'application/json, text/event-stream',
    'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${token}`,
  };
  const load = { counts: {}, refusals: [], subscribers: new Set(), running: true, error: null };
  const one = () => new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'], body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(PING);
  });
  const loop = async () => {
    while (load.running) {
      const r = await one();
      load.counts[r.status] = (load.counts[r.status] || 0) + 1;
      if (r.status === 429 && load.refusals.length < 16) load.refusals.push(r);
      for (const wake of [...load.subscribers]) wake();
    }
  };
  const loops = Array.from({ length: connections }, () => loop().catch((e) => { load.error = e; }));
  load.stop = async () => {
    load.running = false;
    await Promise.all(loops);
    agent.destroy();
    if (load.error) throw load.error;
    return load.counts;
  };
  return load;
}

const allowed = (s) => s.values['mcpd_http_requests_total{code="200"}'] ?? 0;
const limited = (s) => s.values['mcpd_client_limited_total{reason="rate"}'] ?? 0;

// One client's pings over `connections` connections.  Once its bucket is
// empty (its first 429), the window runs until it has been allowed
// `requests` more; the 200s mcpd counted between a scrape at each end of
// the window, over the time between the two, are the rate it allowed.
// Only this client may send meanwhile.
export async function measureAllowedRate({ url, metricsPort, token, connections = 4, requests, timeoutMs = 60000 }) {
  const load = startPings(url, token, connections);
  const ok = () => load.counts[200] ?? 0;
  try {
    await waitUntil(() => (load.counts[429] ?? 0) > 0 || load.error,
      { timeout: 10000, what: () => `the first 429 (answers so far: ${JSON.stringify(load.counts)})`, wake: load.subscribers });
    const first = await scrape(metricsPort);
    const start = ok();
    await waitUntil(() => ok() - start >= requests || load.error,
      { timeout: timeoutMs, what: () => `${requests} requests allowed (${ok() - start} so far)`, wake: load.subscribers });
    const last = await scrape(metricsPort);
    const seconds = (last.at - first.at) / 1000;
    const passed = allowed(last) - allowed(first);
    return { rate: passed / seconds, allowed: passed, refused: limited(last) - limited(first), seconds, load };
  } finally {
    await load.stop();
  }
}
