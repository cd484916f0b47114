// Per-client limits with a real OIDC issuer and 4 workers: the rate limit
// measured against its setting under load, the in-flight cap held by tool
// calls waiting on a slow upstream, 429 with Retry-After and a JSON-RPC
// error, one client limited while another is not, the count by reason, the
// log line naming the client, a dead worker's requests given back, and the
// refusal at start-up under --auth none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { rmSync } from 'node:fs';
import { startMcpd, mcpdBinary } from '../lib/mcpd.mjs';
import { freePort } from '../lib/ports.mjs';
import { post, rpc, ACCEPT_BOTH } from '../lib/http.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { mint } from '../lib/tokens.mjs';
import { makeCerts, startUpstream } from '../lib/upstream.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { PROTOCOL, measureAllowedRate, scrape, startPings } from '../lib/limits.mjs';

const CLIENTS = ['rate-client', 'calm-client', 'busy-client'];
const RATE = 200;
const BURST = 20;
let idp, certs, up;

const token = (clientId, sub = 'user-1') => mint(idp, { claims: { client_id: clientId, sub } });

async function verifying({ workers = 4, args = [] }) {
  const metricsPort = await freePort();
  const server = await startMcpd({
    workers,
    auth: false,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENTS.join(','),
      '--metrics-listen', `127.0.0.1:${metricsPort}`, ...args],
  });
  server.metricsPort = metricsPort;
  await waitUntil(async () => (await fetch(`${server.origin}/ping`)).status === 200, { timeout: 20000, what: 'the first key set' });
  return server;
}

function call(server, tok, name, args) {
  return fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-protocol-version': PROTOCOL,
      authorization: `Bearer ${tok}` },
    body: JSON.stringify(rpc(1, 'tools/call', { name, arguments: args })),
  });
}

// A 429 of the per-client limits: Retry-After and a JSON-RPC error about no one request.
function assertLimited(status, retryAfter, body, seconds) {
  assert.equal(status, 429, body);
  assert.equal(retryAfter, seconds);
  const json = JSON.parse(body);
  assert.equal(json.jsonrpc, '2.0');
  assert.equal(json.id, null);
  assert.equal(json.error.code, -32000);
  assert.match(json.error.message, /^Too Many Requests: /);
}

before(async () => {
  idp = await startIssuer({ keys: 1 });
  certs = makeCerts();
  up = await startUpstream(certs);
});

after(async () => {
  up.close();
  rmSync(certs.dir, { recursive: true, force: true });
  await idp.close();
});

test(`the rate limit across 4 workers: ${RATE}/s allowed within 20%, 429 with Retry-After past it, another client unaffected`, async (t) => {
  // Request lines at warn: the load makes thousands a second, which this process would parse.
  const server = await verifying({ args: ['--client-rate-limit', `${RATE}:${BURST}`, '--log-level', 'warn'] });
  try {
    const m = await measureAllowedRate({ url: server.url, metricsPort: server.metricsPort, token: token('rate-client'),
      connections: 4, requests: 3 * RATE });
    const error = (m.rate - RATE) / RATE;
    t.diagnostic(`allowed ${m.allowed} in ${m.seconds.toFixed(3)} s = ${m.rate.toFixed(1)}/s against ${RATE}/s `
      + `(${(100 * error).toFixed(2)}%); ${m.refused} refused; client saw ${JSON.stringify(m.load.counts)}`);
    assert.ok(Math.abs(error) <= 0.2, `allowed ${m.rate.toFixed(1)}/s, limit ${RATE}/s`);
    assert.ok(m.refused > 0, 'the load went past the limit');
    for (const r of m.load.refusals) assertLimited(r.status, r.retryAfter, r.body, '1');
    assert.match(m.load.refusals[0].body, /rate limit/);
    // Every 429 is counted by reason, none by another.
    const after = await scrape(server.metricsPort);
    assert.equal(after.values['mcpd_client_limited_total{reason="rate"}'], m.load.counts[429]);
    assert.equal(after.values['mcpd_client_limited_total{reason="concurrency"}'], 0);
    assert.equal(after.values['mcpd_client_limited_total{reason="table_full"}'], 0);

    // While one client is held at its limit, another has its own bucket, and the token-less liveness ping none.
    const load = startPings(server.url, token('rate-client'), 2);
    try {
      await waitUntil(() => (load.counts[429] ?? 0) > 0, { what: 'rate-client limited again', wake: load.subscribers });
      const calm = token('calm-client');
      for (let i = 0; i < BURST; i++) {
        const r = await post(server.url, rpc(i, 'ping'), { authorization: `Bearer ${calm}`, 'mcp-protocol-version': PROTOCOL });
        assert.equal(r.status, 200, `calm-client's ping ${i}: ${r.text}`);
      }
      for (let i = 0; i < 3 * BURST; i++) {
        const r = await post(server.url, rpc(i, 'ping'), { 'mcp-protocol-version': PROTOCOL });
        assert.equal(r.status, 200, `anonymous ping ${i}: ${r.text}`);
      }
    } finally {
      await load.stop();
    }
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

test('--client-limit-key sub: users of one app client each have their own limit; the log names the user', async () => {
  const server = await verifying({ workers: 2, args: ['--client-rate-limit', '0.5:2', '--client-limit-key', 'sub'] });
  try {
    const alice = token('calm-client', 'alice'), bob = token('calm-client', 'bob');
    const ping = (tok) => post(server.url, rpc(1, 'ping'), { authorization: `Bearer ${tok}`, 'mcp-protocol-version': PROTOCOL });
    assert.equal((await ping(alice)).status, 200);
    assert.equal((await ping(alice)).status, 200);
    const refused = await ping(alice);
    // 0.5 a second: the next token is two seconds away, less the time the two pings took.
    assertLimited(refused.status, refused.headers.get('retry-after'), refused.text, '2');
    assert.equal((await ping(bob)).status, 200);
    const line = await server.waitForLog((l) => l.event === 'request' && l.status === 429, 5000, 'the 429 request line');
    assert.equal(line.limited, 'rate');
    assert.equal(line.sub, 'alice');
    assert.equal(line.client_id, undefined);
    assert.doesNotMatch(JSON.stringify(server.logs), new RegExp(alice.split('.')[2].slice(0, 20)), 'no token in the log');
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

test('the in-flight cap: calls waiting on a slow upstream hold it until they end, also when their worker dies', async () => {
  const server = await verifying({ args: ['--client-concurrency', '2', '--egress-allow', `127.0.0.1:${up.port}`,
    '--egress-ca-file', certs.ca] });
  const busy = token('busy-client'), calm = token('calm-client');
  // A call waiting on the slow upstream, on a connection of its own, which closing ends.
  const slow = (tag) => {
    const req = http.request(server.url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json',
      accept: ACCEPT_BOTH, 'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${busy}` } });
    const done = new Promise((resolve) => {
      req.on('error', resolve);
      req.on('close', resolve);
    });
    req.end(JSON.stringify(rpc(1, 'tools/call', { name: 'http_get',
      arguments: { url: `https://127.0.0.1:${up.port}/slow?${tag}`, timeout_ms: 60000 } })));
    return { close: () => req.destroy(), done };
  };
  const sum = async (tok) => {
    const r = await call(server, tok, 'sum', { a: 2, b: 3 });
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
  };
  try {
    await server.waitForLog((l) => l.event === 'egress_ready');
    const held = [slow('a'), slow('b')];
    await waitUntil(() => up.requests.includes('/slow?a') && up.requests.includes('/slow?b'), { what: 'both calls at the upstream' });
    const third = await sum(busy);
    assertLimited(third.status, third.retryAfter, third.body, '1');
    assert.match(third.body, /in flight/);
    assert.equal((await sum(calm)).status, 200, 'another client is not held by busy-client\'s calls');
    const line = await server.waitForLog((l) => l.event === 'request' && l.status === 429, 5000, 'the 429 request line');
    assert.equal(line.limited, 'concurrency');
    assert.equal(line.client_id, 'busy-client');
    assert.equal((await scrape(server.metricsPort)).values['mcpd_client_limited_total{reason="concurrency"}'], 1);

    // The clients go away: their requests end (mcpd looks each second), and the cap is free again.
    const closedAt = server.logs.length;
    for (const h of held) h.close();
    await Promise.all(held.map((h) => h.done));
    await waitUntil(() => server.logs.slice(closedAt).filter((l) => l.event === 'request' && l.tool === 'http_get'
      && l.status === 503).length === 2, { timeout: 10000, what: 'both calls ended', wake: server.waiters });
    assert.equal((await sum(busy)).status, 200, 'the ended calls no longer count');

    // Held again, then every worker killed: the supervisor gives their requests back.
    const again = [slow('c'), slow('d')];
    await waitUntil(() => up.requests.includes('/slow?c') && up.requests.includes('/slow?d'), { what: 'both calls at the upstream' });
    assert.equal((await sum(busy)).status, 429);
    const mark = server.logs.length;
    const pids = server.workerPids();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await Promise.all(again.map((h) => h.done));
    await waitUntil(() => server.logs.slice(mark).filter((l) => l.event === 'worker_ready').length === pids.length,
      { timeout: 20000, what: 'the 4 workers replaced', wake: server.waiters });
    const reclaimed = server.logs.slice(mark).filter((l) => l.event === 'client_limits_reclaimed');
    assert.equal(reclaimed.reduce((n, l) => n + l.in_flight, 0), 2, JSON.stringify(reclaimed));
    assert.equal((await sum(busy)).status, 200, 'the dead workers\' requests no longer count');
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

test('under --auth none the limits are refused at start-up, saying why', () => {
  for (const [args, env] of [
    [['--client-rate-limit', '10:20'], {}],
    [[], { MCPD_CLIENT_CONCURRENCY: '4' }],
  ]) {
    const run = spawnSync(mcpdBinary, ['--host', '127.0.0.1', '--port', '0', '--auth', 'none', ...args],
      { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 10000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--auth none verifies no token: give --discovery-url to verify tokens, or leave the limits off/);
  }
});

test('the limits are off by default: one client\'s burst of pings is all served', async () => {
  const server = await verifying({ workers: 2, args: ['--log-level', 'warn'] });
  try {
    const load = startPings(server.url, token('rate-client'), 4);
    await waitUntil(() => (load.counts[200] ?? 0) >= 2000, { timeout: 30000, what: '2000 pings answered', wake: load.subscribers });
    const counts = await load.stop();
    assert.deepEqual(Object.keys(counts), ['200']);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
