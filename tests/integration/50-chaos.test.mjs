// Fault tests: mcpd with token verification on, under load from a second
// process (tests/lib/load.mjs), while its workers, its fetcher or the supervisor
// itself are killed,
// its issuer misbehaves, clients are slow, oversized or malformed.
//
// Every wait has a deadline; nothing sleeps for a fixed time (the kill loop is
// paced at one kill a second, and the slow clients at one byte per 200 ms).
// Needs nothing beyond Node.js; a -DMCPD_TEST_HOOKS build is not required.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startMcpd, mcpdBinary, childrenOf } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { post, rpc, connect, ACCEPT_BOTH } from '../lib/http.mjs';
import { startIssuer, makeKey } from '../lib/oidc.mjs';
import { CLIENT_ID, mint, forgeAlgNone, tamperSignature, tamperPayload, malformBase64url, oversized, now } from '../lib/tokens.mjs';
import { startLoad, summary } from '../lib/load.mjs';

const PROTOCOL = '2025-11-25';
const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'MCP-Protocol-Version': PROTOCOL };
const DISCOVERY_PATH = '/.well-known/openid-configuration';

// ---- helpers ----------------------------------------------------------

// An issuer and an mcpd verifying its tokens, with the first key set published.
async function startVerifying({ workers = 2, args = [], env = {}, idp } = {}) {
  idp ??= await startIssuer({ keys: 1 });
  const server = await startMcpd({
    workers,
    auth: false,
    env,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID,
      '--jwks-refresh-min', '1', ...args],
  });
  server.requests = tallyRequests(server);
  await server.waitForLog((l) => l.event === 'jwks_published', 20000, 'the first key set');
  await waitUntil(async () => (await fetch(`${server.origin}/ping`)).status === 200, { timeout: 10000, what: '/ping 200' });
  return { idp, server };
}

// Request log lines are counted (by status) instead of kept: a load test logs
// hundreds of thousands, and the log helpers scan what is kept.
function tallyRequests(server) {
  const tally = { total: 0, statuses: {}, byPid: {} };
  const push = server.logs.push.bind(server.logs);
  server.logs.push = (line) => {
    if (line.event !== 'request') return push(line);
    tally.total++;
    tally.statuses[line.status] = (tally.statuses[line.status] || 0) + 1;
    tally.byPid[line.pid] = (tally.byPid[line.pid] || 0) + 1;
    return server.logs.length;
  };
  return tally;
}

// Resolves with the first log line from index `mark` on that satisfies pred.
function waitForLogAfter(server, mark, pred, timeoutMs, what) {
  return server.waitForLog((l) => pred(l) && server.logs.indexOf(l) >= mark, timeoutMs, what);
}

function toolCallRequest(token, id = 1) {
  return {
    headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}` },
    body: rpc(id, 'tools/call', { name: 'sum', arguments: { a: id, b: 2 } }),
  };
}

// One tools/call with `token`; returns the status (and checks the sum on 200).
async function callWith(server, token, id = 7) {
  const res = await post(server.url, rpc(id, 'tools/call', { name: 'sum', arguments: { a: id, b: 2 } }),
    { 'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${token}` });
  if (res.status === 200) assert.equal(res.json?.result?.structuredContent?.result, id + 2, res.text);
  return res;
}

// A token signed by a key nobody publishes, with a kid nobody knows: a worker
// that meets it asks the fetcher for a refresh.  The key is made once (RSA key
// generation blocks this process, and with it the test issuer).
let strayKey;
let strayCount = 0;
function unknownKidToken(idp) {
  strayKey ??= makeKey({ kid: 'stray' });
  return mint(idp, { key: strayKey, kid: `unknown-${process.pid}-${++strayCount}` });
}

function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => l.split(/:\s+/, 2)));
}

function rssKiB(pid) {
  return Number(procStatus(pid).VmRSS.split(' ')[0]);
}

function isAlive(pid) {
  try {
    return procStatus(pid).State[0] !== 'Z';
  } catch {
    return false;
  }
}

function socketsOf(pid) {
  const out = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:')) out.push(target);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

// Client connections a worker holds now: its sockets but the shared listener.
function connectionsOf(pid, listener) {
  return socketsOf(pid).filter((s) => s !== listener).length;
}

function listenerOf(server) {
  const [listener] = socketsOf(server.pid);
  assert.ok(listener, 'the supervisor holds the listener');
  return listener;
}

const pace = (at) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()))); // paced loop step

// Workers and the fetcher that exited other than by the SIGKILLs tests send, or cleanly.
function crashes(server) {
  return server.logs.filter((l) => (l.event === 'worker_exited' || l.event === 'fetcher_exited') &&
    l.exit_code !== 0 && l.signal !== 9);
}

const isAsan = (() => {
  try {
    return fs.readFileSync(mcpdBinary).includes('__asan_init');
  } catch {
    return false;
  }
})();

// ---- 1. kill -9 a random worker every second under load ----------------

test('kill -9 of a random worker every second for 30 s under load: only in-flight requests fail', { timeout: 120000 }, async () => {
  const WORKERS = 4;
  const CONNECTIONS = 16;
  const KILLS = 30;
  const { idp, server } = await startVerifying({ workers: WORKERS });
  let load;
  try {
    const listener = listenerOf(server);
    const tokens = Array.from({ length: 4 }, () => mint(idp));
    load = startLoad({ port: server.port, connections: CONNECTIONS, rampUp: true, requests: tokens.map((t, i) => toolCallRequest(t, i + 1)) });
    await load.waitFor((s) => s.statuses[200] >= 2000, 20000, '2000 answered calls before the first kill');
    const kills = [];
    const start = Date.now();
    for (let i = 1; i <= KILLS; i++) {
      await pace(start + i * 1000);
      const live = server.workerPids().filter(isAlive);
      assert.ok(live.length > 0, 'no live worker to kill');
      const victim = live[Math.floor(Math.random() * live.length)];
      const connections = connectionsOf(victim, listener);
      process.kill(victim, 'SIGKILL');
      kills.push({ pid: victim, connections, at: Date.now() });
    }
    for (const k of kills) {
      const exited = await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === k.pid, 10000, `worker ${k.pid} to be reaped`);
      assert.equal(exited.signal, 9, JSON.stringify(exited));
    }
    // Every slot is refilled (a slot killed twice within a second sits out a short backoff first).
    await waitUntil(() => server.workerPids().filter(isAlive).length === WORKERS, { timeout: 15000, what: `${WORKERS} live workers` });
    const okAtRefill = load.stats.statuses[200] ?? 0;
    await load.waitFor((s) => s.statuses[200] >= okAtRefill + 2000, 20000, '2000 more calls once every slot is back');
    const stats = await load.stop();

    const answered = stats.statuses[200] ?? 0;
    const ratio = answered / (stats.responses + stats.failures);
    const inFlightBound = kills.reduce((n, k) => n + k.connections, 0);
    const backoffs = server.logs.filter((l) => l.event === 'worker_backoff').length;
    console.log(`# kill -9 x${KILLS} with ${WORKERS} workers, ${CONNECTIONS} connections: ${summary(stats)}`);
    console.log(`# success ratio ${(ratio * 100).toFixed(4)}% (${answered} of ${stats.responses + stats.failures}); ` +
      `failed ${stats.failures}, connections on the victims at kill time ${inFlightBound}; backoffs ${backoffs}; ` +
      `${(stats.responses / ((stats.endedAt - stats.startedAt) / 1000)).toFixed(0)} req/s`);

    assert.deepEqual(Object.keys(stats.statuses), ['200'], `every answer is a 200: ${JSON.stringify(stats.statuses)}`);
    assert.ok(!stats.failureKinds.hung && !stats.failureKinds.unfinished, `a request hung: ${JSON.stringify(stats.failureKinds)}`);
    // Only requests in flight on a killed worker fail: at most one per connection it held.
    assert.ok(stats.failures <= inFlightBound, `${stats.failures} failures, but the victims held only ${inFlightBound} connections`);
    // ... and they fail when their worker dies, not later.
    const late = stats.failureTimes.filter((t) => !kills.some((k) => t >= k.at - 50 && t - k.at < 2000));
    assert.deepEqual(late, [], `failures not within 2 s of a kill (kills at ${kills.map((k) => k.at)})`);
    assert.ok(ratio >= 0.999, `success ratio ${ratio}`);
    assert.equal(crashes(server).length, 0, JSON.stringify(crashes(server)));

    const live = server.workerPids();
    assert.equal(live.length, WORKERS, `live workers ${live}`);
    const kids = childrenOf(server.pid);
    assert.equal(kids.length, WORKERS + 1, `children (workers and the fetcher): ${JSON.stringify(kids)}`);
    assert.ok(kids.every((k) => k.state !== 'Z'), `zombies: ${JSON.stringify(kids)}`);
    assert.equal((await callWith(server, mint(idp))).status, 200, 'the server still answers');
  } finally {
    await load?.kill();
    await server.stop();
    await idp.close();
  }
});

// ---- 2. kill -9 the fetcher under load ----------------------------------

test('kill -9 of the fetcher under load: valid tokens keep passing, it is restarted, the key set survives', { timeout: 60000 }, async () => {
  const { idp, server } = await startVerifying({ workers: 2 });
  let load;
  try {
    const token = mint(idp);
    load = startLoad({ port: server.port, connections: 8, rampUp: true, requests: [toolCallRequest(token, 1), toolCallRequest(mint(idp), 2)] });
    await load.waitFor((s) => s.statuses[200] >= 1000, 20000, '1000 calls before the kill');

    // Round 1: the issuer answers, so the new fetcher refetches at once.
    // Round 2: the issuer is down, so the new fetcher cannot: the published
    // key set (shared memory the supervisor owns) is all the workers have.
    for (const issuerUp of [true, false]) {
      const fetcher = [...server.logs].reverse().find((l) => l.event === 'fetcher_ready');
      const mark = server.logs.length;
      if (!issuerUp) await idp.setMode('down');
      process.kill(fetcher.child_pid, 'SIGKILL');
      const exited = await waitForLogAfter(server, mark, (l) => l.event === 'fetcher_exited' && l.child_pid === fetcher.child_pid, 10000, 'fetcher_exited');
      assert.equal(exited.signal, 9);
      // Calls with a token no worker has seen go through a full verification now.
      assert.equal((await callWith(server, mint(idp), 3)).status, 200, 'a fresh token with the fetcher gone');
      const ready = await waitForLogAfter(server, mark, (l) => l.event === 'fetcher_ready' && l.child_pid !== fetcher.child_pid, 10000, 'a new fetcher_ready');
      if (issuerUp) {
        await waitForLogAfter(server, mark, (l) => l.event === 'jwks_published', 10000, 'the new fetcher to publish');
      } else {
        const failed = await waitForLogAfter(server, mark, (l) => l.event === 'jwks_fetch_failed', 15000, 'the new fetcher to fail against the dead issuer');
        assert.match(failed.msg, /keeping the last good key set/, failed.msg);
      }
      assert.equal((await callWith(server, mint(idp), 4)).status, 200, `a fresh token with the new fetcher ${ready.child_pid}`);
      const okNow = load.stats.statuses[200];
      await load.waitFor((s) => s.statuses[200] >= okNow + 500, 20000, '500 more calls after the restart');
      if (!issuerUp) await idp.setMode('ok');
    }
    const stats = await load.stop();
    console.log(`# fetcher killed twice under load: ${summary(stats)}; server saw ${JSON.stringify(server.requests.statuses)}`);
    assert.equal(stats.failures, 0, summary(stats));
    assert.deepEqual(Object.keys(stats.statuses), ['200'], summary(stats));
    assert.ok(!server.requests.statuses[503], `503s in the log: ${JSON.stringify(server.requests.statuses)}`);
    assert.equal(crashes(server).length, 0, JSON.stringify(crashes(server)));
    assert.equal((await fetch(`${server.origin}/ping`)).status, 200);
  } finally {
    await load?.kill();
    await server.stop();
    await idp.close();
  }
});

// ---- 3. a misbehaving issuer -------------------------------------------

const ISSUER_FAULTS = [
  // mode, what the log must say when the discovery document fails, ... when only the JWKS does
  ['garbage', /discovery document at \S+ is not a JSON object/, /JWKS is not valid JSON/],
  ['truncated', /transfer closed with \d+ bytes remaining to read/i, /transfer closed with \d+ bytes remaining to read/i],
  ['status500', /HTTP status 500/, /HTTP status 500/],
  ['hang', /timed out/i, /timed out/i],
  ['redirect-offhost', /HTTP status 302 \(redirects are not followed\)/, /HTTP status 302 \(redirects are not followed\)/],
];

test('a misbehaving issuer: the last good key set stays, nothing crashes, the log says why', { timeout: 120000 }, async () => {
  const { idp, server } = await startVerifying({ workers: 2 });
  // Faults on the JWKS alone: the discovery document keeps being served well.
  let jwksOnly = false;
  const respond = idp.respond.bind(idp);
  idp.respond = (req, res, text) => {
    if (!jwksOnly || !req.url.startsWith(DISCOVERY_PATH)) return respond(req, res, text);
    const mode = idp.mode;
    idp.mode = 'ok';
    try {
      return respond(req, res, text);
    } finally {
      idp.mode = mode;
    }
  };
  try {
    const generation = server.logs.filter((l) => l.event === 'jwks_published').at(-1).generation;
    const observed = [];
    for (const scope of ['discovery', 'jwks']) {
      jwksOnly = scope === 'jwks';
      for (const [mode, discoveryCause, jwksCause] of ISSUER_FAULTS) {
        const cause = jwksOnly ? jwksCause : discoveryCause;
        const mark = server.logs.length;
        const requestsBefore = idp.requests.length;
        await idp.setMode(mode);
        // Unknown kids ask for a refresh (at most one a second); valid tokens
        // must pass the whole time, the hanging fetch included.
        let round = 0;
        const failed = await waitUntil(async () => {
          const line = server.logs.slice(mark).find((l) => l.event === 'jwks_fetch_failed');
          if (line) return line;
          assert.equal((await callWith(server, unknownKidToken(idp))).status, 401, 'an unknown kid is refused');
          assert.equal((await callWith(server, mint(idp), ++round)).status, 200, `${scope} ${mode}: a valid token`);
          return undefined;
        }, { timeout: 20000, every: 200, what: `${scope} ${mode}: a jwks_fetch_failed line` });
        observed.push(`${scope}/${mode}: ${failed.msg}`);
        assert.match(failed.msg, cause, `${scope} ${mode}`);
        assert.match(failed.msg, /keeping the last good key set/, `${scope} ${mode}`);
        const hit = idp.requests.slice(requestsBefore).filter((r) => r.mode === mode).map((r) => r.path);
        assert.ok(hit.includes(jwksOnly ? '/.well-known/jwks.json' : DISCOVERY_PATH), `${scope} ${mode}: issuer saw ${hit}`);
        assert.ok(!server.logs.slice(mark).some((l) => l.event === 'jwks_published'), `${scope} ${mode}: something was published`);
        assert.equal((await callWith(server, mint(idp), 5)).status, 200, `${scope} ${mode}: a valid token after the failure`);
        assert.equal((await fetch(`${server.origin}/ping`)).status, 200);
      }
    }
    console.log(`# jwks_fetch_failed messages:\n${observed.map((m) => `#   ${m}`).join('\n')}`);
    // The issuer recovers: the next refresh publishes again.
    const mark = server.logs.length;
    await idp.setMode('ok');
    jwksOnly = false;
    const published = await waitUntil(async () => {
      const line = server.logs.slice(mark).find((l) => l.event === 'jwks_published');
      if (!line) await callWith(server, unknownKidToken(idp));
      return line;
    }, { timeout: 20000, every: 200, what: 'a jwks_published line once the issuer recovered' });
    assert.ok(published.generation > generation);
    assert.equal((await callWith(server, mint(idp))).status, 200);
    const exits = server.logs.filter((l) => l.event === 'worker_exited' || l.event === 'fetcher_exited');
    assert.deepEqual(exits, [], 'no worker or fetcher exited');
    assert.ok(!server.requests.statuses[503], `503s: ${JSON.stringify(server.requests.statuses)}`);
  } finally {
    await server.stop();
    await idp.close();
  }
});

// ---- 4. slow clients --------------------------------------------------

test('200 clients trickling their headers do not starve others and are cut off by --idle-timeout', { timeout: 60000 }, async () => {
  const IDLE = 3;
  const SLOW = 200;
  const { idp, server } = await startVerifying({ workers: 2, args: ['--idle-timeout', String(IDLE)] });
  const slow = [];
  let trickle;
  try {
    // A request head that never ends, one byte every 200 ms on every slow connection.
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: ${'s'.repeat(4096)}`;
    const sockets = await Promise.all(Array.from({ length: SLOW }, () => connect(server.port).then((sock) => ({ sock, at: Date.now() }))));
    for (const { sock, at } of sockets) {
      const c = { sock, openedAt: at, closedAt: 0, received: '', sent: 0 };
      sock.on('data', (d) => { c.received += d; });
      sock.on('error', () => {});
      sock.on('close', () => { c.closedAt = Date.now(); });
      slow.push(c);
    }
    trickle = setInterval(() => { // paced: one byte per connection per tick
      for (const c of slow) if (!c.closedAt && c.sent < head.length) c.sock.write(head[c.sent++]);
    }, 200);
    const openSlow = () => slow.filter((c) => !c.closedAt).length;
    await waitUntil(() => slow.every((c) => c.sent >= 1), { timeout: 5000, what: 'every slow connection to send its first byte' });
    // Normal clients meanwhile: 100 calls, 10 at a time, each on the keep-alive pool.
    const started = Date.now();
    const token = mint(idp);
    const statuses = [];
    for (let round = 0; round < 10; round++) {
      const res = await Promise.all(Array.from({ length: 10 }, (_, i) => callWith(server, token, round * 10 + i)));
      statuses.push(...res.map((r) => r.status));
    }
    const normalMs = Date.now() - started;
    const stillOpen = openSlow();
    console.log(`# 100 normal calls in ${normalMs} ms with ${stillOpen} slow connections open`);
    assert.deepEqual([...new Set(statuses)], [200], `normal calls: ${statuses}`);
    assert.equal(stillOpen, SLOW, 'the normal calls completed while every slow connection was still open');
    // Then the slow ones are cut off, each about --idle-timeout after it connected.
    await waitUntil(() => openSlow() === 0, { timeout: (IDLE + 10) * 1000, what: 'every slow connection to be closed by mcpd' });
    const lifetimes = slow.map((c) => c.closedAt - c.openedAt).sort((a, b) => a - b);
    const answers = [...new Set(slow.map((c) => c.received.slice(0, 12) || '(nothing)'))];
    console.log(`# slow connections closed after ${lifetimes[0]}..${lifetimes.at(-1)} ms (idle timeout ${IDLE} s); they got: ${answers}`);
    assert.ok(lifetimes[0] >= IDLE * 1000 - 500, `a slow connection was closed after only ${lifetimes[0]} ms`);
    assert.ok(slow.every((c) => c.sent < head.length), 'the head was still unfinished when the connections were cut');
    // And the server still serves.
    assert.equal((await callWith(server, token)).status, 200);
    assert.equal(crashes(server).length, 0, JSON.stringify(crashes(server)));
  } finally {
    clearInterval(trickle);
    for (const c of slow) c.sock.destroy();
    await server.stop();
    await idp.close();
  }
});

// ---- 5. oversized headers and bodies ---------------------------------------

// Sends `head`, then `chunks` one at a time (paced, stopping once an answer
// arrives); resolves with {status, text, bytesSent, closed} once the server
// closes the connection or the deadline passes (closed: false then).
async function sendRaw(port, head, chunks = [], timeoutMs = 5000) {
  const sock = await connect(port);
  const out = { text: '', bytesSent: 0, closed: false, error: null };
  const closed = new Promise((resolve) => sock.on('close', () => { out.closed = true; resolve(); }));
  sock.on('data', (d) => { out.text += d; });
  sock.on('error', (e) => { out.error = e.code; });
  const deadline = Date.now() + timeoutMs;
  sock.write(head);
  out.bytesSent += Buffer.byteLength(head);
  for (const chunk of chunks) {
    await pace(Date.now() + 10); // paced: give an early answer a chance to arrive
    if (out.text || out.closed) break;
    sock.write(chunk);
    out.bytesSent += Buffer.byteLength(chunk);
  }
  let timer;
  await Promise.race([closed, new Promise((r) => { timer = setTimeout(r, Math.max(0, deadline - Date.now())); })]);
  clearTimeout(timer);
  sock.destroy();
  out.status = Number(out.text.slice(9, 12)) || 0;
  return out;
}

function requestHead({ token, extra = '', length, chunked = false }) {
  return 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    Object.entries(MCP_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
    `Authorization: Bearer ${token}\r\n` +
    (chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${length}\r\n`) +
    `${extra}\r\n`;
}

const MAX_BODY = 64 * 1024;

test('bodies over --max-body are refused with 413 before they are read, and the connection closes', { timeout: 60000 }, async () => {
  // A long idle timeout: a connection that closes within the deadline was closed on purpose.
  const { idp, server } = await startVerifying({ workers: 2, args: ['--max-body', '64KiB', '--idle-timeout', '30'] });
  try {
    const token = mint(idp);
    const body = JSON.stringify(rpc(1, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } }));
    // Just under the limit is served (the limit is the limit, not less).
    const fits = JSON.stringify({ ...JSON.parse(body), pad: 'x'.repeat(MAX_BODY - body.length - 20) });
    const ok = await post(server.url, fits, { 'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200, ok.text);

    // A Content-Length of 100 MiB: refused from the head alone, no body byte sent.
    const declared = await sendRaw(server.port, requestHead({ token, length: 100 * 1024 * 1024 }));
    assert.equal(declared.status, 413, declared.text);
    assert.ok(declared.closed, 'the connection was closed');

    // 1 MiB chunked, in 4 KiB chunks: refused once past the limit, long before the end.
    const chunk = `1000\r\n${'x'.repeat(4096)}\r\n`;
    const chunked = await sendRaw(server.port, requestHead({ token, chunked: true }), Array(256).fill(chunk));
    assert.equal(chunked.status, 413, chunked.text);
    assert.ok(chunked.closed, 'the connection was closed');
    assert.ok(chunked.bytesSent < 256 * 1024, `the server read ${chunked.bytesSent} bytes before refusing`);

    // Content-Length one byte over, body sent in full.
    const over = await sendRaw(server.port, requestHead({ token, length: MAX_BODY + 1 }), ['x'.repeat(MAX_BODY + 1)]);
    assert.equal(over.status, 413, over.text);
    assert.ok(over.closed, 'the connection was closed');
    console.log(`# 413 after ${declared.bytesSent} bytes (declared 100 MiB), ${chunked.bytesSent} bytes (1 MiB chunked)`);
    assert.equal((await callWith(server, token)).status, 200, 'still serving');
    assert.equal(crashes(server).length, 0, JSON.stringify(crashes(server)));
  } finally {
    await server.stop();
    await idp.close();
  }
});

test('a request head over h2o\'s hard limit (512 KiB) is refused with 400 and the connection closes', { timeout: 60000 }, async () => {
  const { idp, server } = await startVerifying({ workers: 2, args: ['--idle-timeout', '30'] });
  try {
    const token = mint(idp);
    const body = JSON.stringify(rpc(1, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } }));
    const huge = await sendRaw(server.port, requestHead({ token, length: body.length, extra: `X-Padding: ${'p'.repeat(512 * 1024)}\r\n` }) + body);
    assert.ok(huge.status >= 400 && huge.status < 500, `status ${huge.status}: ${huge.text.slice(0, 200)}`);
    assert.ok(huge.closed, 'the connection was closed');
    // 101 headers: over h2o's count limit.
    const many = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const counted = await sendRaw(server.port, requestHead({ token, length: body.length, extra: many }) + body);
    assert.ok(counted.status >= 400 && counted.status < 500, `status ${counted.status}: ${counted.text.slice(0, 200)}`);
    assert.ok(counted.closed, 'the connection was closed');
    assert.equal((await callWith(server, token)).status, 200, 'still serving');
  } finally {
    await server.stop();
    await idp.close();
  }
});

// h2o 2.2.5 buffers request heads up to ~408 KiB; mcpd refuses anything
// over 16 KiB of headers with 431 and closes the connection.
test('a 64 KiB request header is refused with a 4xx and the connection closes', {
  timeout: 60000,
}, async () => {
  const { idp, server } = await startVerifying({ workers: 2, args: ['--idle-timeout', '30'] });
  try {
    const token = mint(idp);
    const body = JSON.stringify(rpc(1, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } }));
    const res = await sendRaw(server.port, requestHead({ token, length: body.length, extra: `X-Padding: ${'p'.repeat(64 * 1024)}\r\n` }) + body, [], 3000);
    console.log(`# 64 KiB header: status ${res.status}, closed ${res.closed}`);
    assert.equal(res.status, 431, `status ${res.status}: ${res.text.slice(0, 200)}`);
    assert.ok(res.closed, 'the connection was closed');
  } finally {
    await server.stop();
    await idp.close();
  }
});

// ---- 6. malformed requests leave worker memory flat ------------------------

// Requests that must all be refused (4xx): bad JSON, bad JSON-RPC and the
// wrong content type with a valid token, and every kind of bad token.
function malformedRequests(idp) {
  const good = mint(idp);
  const t = now();
  const call = JSON.stringify(rpc(1, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } }));
  const withToken = (token, body, headers = {}) => ({ headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}`, ...headers }, body });
  const raw = (headers, body) => ({ headers: { ...MCP_HEADERS, ...headers }, body });
  return [
    // bad JSON
    withToken(good, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_'),
    withToken(good, '{"jsonrpc":"2.0","id":1,,}'),
    withToken(good, `${'['.repeat(5000)}${']'.repeat(5000)}`),
    withToken(good, Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/list","x":"\u0000"}')), // a raw NUL in a string
    withToken(good, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), // not UTF-8
    withToken(good, ''),
    // bad JSON-RPC
    withToken(good, '{"jsonrpc":"1.0","id":1,"method":"tools/list"}'),
    withToken(good, '{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}'),
    withToken(good, '{"jsonrpc":"2.0","id":1,"method":42}'),
    withToken(good, '[]'),
    withToken(good, `[${call},${call}]`),
    withToken(good, '"just a string"'),
    withToken(good, 'null'),
    // wrong content type / accept
    withToken(good, call, { 'Content-Type': 'text/plain' }),
    withToken(good, call, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    withToken(good, call, { Accept: 'text/html' }),
    // bad tokens
    raw({}, call),
    raw({ Authorization: 'Basic dXNlcjpwYXNz' }, call),
    raw({ Authorization: 'Bearer ' }, call),
    raw({ Authorization: 'Bearer not-a-jwt' }, call),
    raw({ Authorization: `Bearer ${forgeAlgNone(idp)}` }, call),
    raw({ Authorization: `Bearer ${tamperSignature(good)}` }, call),
    raw({ Authorization: `Bearer ${tamperPayload(good, { scope: 'admin' })}` }, call),
    raw({ Authorization: `Bearer ${malformBase64url(good, 'plus')}` }, call),
    raw({ Authorization: `Bearer ${mint(idp, { claims: { exp: t - 7200, iat: t - 9000 } })}` }, call),
    raw({ Authorization: `Bearer ${mint(idp, { claims: { client_id: 'someone-else' } })}` }, call),
    raw({ Authorization: `Bearer ${mint(idp, { claims: { iss: 'https://evil.example' } })}` }, call),
    raw({ Authorization: `Bearer ${unknownKidToken(idp)}` }, call),
    raw({ Authorization: `Bearer ${oversized(idp)}` }, call),
    raw({ Authorization: `Bearer ${good.split('.').slice(0, 2).join('.')}` }, call),
  ];
}

test('100k malformed requests over keep-alive connections leave worker memory flat', { timeout: 120000 }, async () => {
  const WARMUP = 5000;
  const TOTAL = 100000;
  const LIMIT_KIB = 2048;
  // AddressSanitizer keeps freed memory in a quarantine (256 MiB by default)
  // that would show as growth; that build gets no quarantine here (leaks are
  // LeakSanitizer's business there).
  const env = isAsan ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0` } : {};
  const { idp, server: srv } = await startVerifying({ workers: 2, env });
  let load;
  try {
    const requests = malformedRequests(idp);
    // Every kind is refused; remember how, to check the totals exactly.
    const expected = [];
    for (const r of requests) {
      const res = await fetch(srv.url, { method: 'POST', headers: r.headers, body: r.body });
      await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(r).slice(0, 200)}: ${res.status}`);
      expected.push(res.status);
    }
    const histogram = (n) => {
      const h = {};
      for (let i = 0; i < n; i++) h[expected[i % expected.length]] = (h[expected[i % expected.length]] || 0) + 1;
      return h;
    };
    const workers = srv.workerPids();
    const rss = () => Object.fromEntries(workers.map((pid) => [pid, rssKiB(pid)]));

    load = startLoad({ port: srv.port, connections: 16, rampUp: true, requests, limit: WARMUP });
    const warm = await load.finished;
    assert.equal(warm.failures, 0, summary(warm));
    assert.deepEqual(warm.statuses, histogram(WARMUP), summary(warm));
    const before = rss();

    load = startLoad({ port: srv.port, connections: 16, rampUp: true, requests, limit: TOTAL });
    const run = await load.finished;
    const after = rss();
    const seconds = (run.endedAt - run.startedAt) / 1000;
    console.log(`# ${TOTAL} malformed requests (${requests.length} kinds) in ${seconds.toFixed(1)} s: ${summary(run)}`);
    console.log(`# worker VmRSS KiB after ${WARMUP} warm-up -> after ${TOTAL}: ` +
      workers.map((pid) => `${pid}: ${before[pid]} -> ${after[pid]} (${after[pid] - before[pid] >= 0 ? '+' : ''}${after[pid] - before[pid]})`).join(', ') +
      (isAsan ? ' [ASan build, quarantine off]' : ''));
    assert.equal(run.failures, 0, summary(run));
    assert.deepEqual(run.statuses, histogram(TOTAL), summary(run));
    assert.deepEqual(srv.workerPids().sort(), [...workers].sort(), 'no worker was replaced');
    const served = workers.map((pid) => srv.requests.byPid[pid] ?? 0);
    console.log(`# requests per worker: ${workers.map((pid, i) => `${pid}: ${served[i]}`).join(', ')}`);
    assert.ok(served.every((n) => n >= (WARMUP + TOTAL) / 10), `every worker took a share: ${served}`);
    for (const pid of workers) {
      assert.ok(after[pid] - before[pid] < LIMIT_KIB, `worker ${pid} grew by ${after[pid] - before[pid]} KiB`);
    }
    assert.equal(crashes(srv).length, 0, JSON.stringify(crashes(srv)));
    assert.equal((await callWith(srv, mint(idp))).status, 200, 'still serving');
  } finally {
    await load?.kill();
    await srv.stop();
    await idp.close();
  }
});

// ---- 7. kill -9 of the supervisor ------------------------------------------

test('kill -9 of the supervisor: every worker, the fetcher and the metrics process exit', { timeout: 60000 }, async () => {
  const WORKERS = 2;
  const metricsPort = await freePort();
  const { idp, server } = await startVerifying({ workers: WORKERS, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`] });
  let children = [];
  try {
    const fetcher = await server.waitForLog((l) => l.event === 'fetcher_ready');
    const metrics = await server.waitForLog((l) => l.event === 'metrics_ready');
    children = childrenOf(server.pid).map((k) => k.pid);
    assert.deepEqual([...children].sort(), [...server.workerPids(), fetcher.child_pid, metrics.child_pid].sort(),
      'the children are the workers, the fetcher and the metrics process');
    assert.equal(children.length, WORKERS + 2);
    assert.equal((await callWith(server, mint(idp))).status, 200);

    process.kill(server.pid, 'SIGKILL');
    const { signal } = await server.exited;
    assert.equal(signal, 'SIGKILL');
    // Orphans get SIGTERM (PR_SET_PDEATHSIG): workers drain, the others stop.
    await waitUntil(() => children.every((pid) => !isAlive(pid)), { timeout: 15000,
      what: `every child of the killed supervisor to exit (${children})` });
    for (const pid of server.workerPids()) {
      await waitUntil(() => server.logs.some((l) => l.event === 'worker_stopped' && l.pid === pid), { timeout: 5000,
        what: `worker ${pid} to log that it drained and stopped` });
    }
  } finally {
    // Whatever failed above, no child is left behind.
    for (const pid of children.filter(isAlive)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
    await server.stop('SIGKILL').catch(() => {});
    await idp.close();
  }
});
