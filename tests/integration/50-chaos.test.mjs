// Fault tests: mcpd with token verification on, under load from a second
// process (tests/lib/load.mjs), while its workers, its fetcher or the
// supervisor itself are killed, and while its issuer misbehaves.
// 51-chaos-clients has the slow, oversized and malformed clients.
//
// Every wait has a deadline; nothing sleeps for a fixed time (the kill loop is
// paced at one kill a second).
// Needs nothing beyond Node.js; a -DMCPD_TEST_HOOKS build is not required.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childrenOf } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { mint } from '../lib/tokens.mjs';
import { startLoad, summary } from '../lib/load.mjs';
import {
  DISCOVERY_PATH, startVerifying, waitForLogAfter, toolCallRequest, callWith, unknownKidToken,
  isAlive, connectionsOf, listenerOf, pace, crashes,
} from '../lib/chaos.mjs';

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
    const others = 1 + server.livePids('egress').length;
    assert.equal(kids.length, WORKERS + others, `children (workers, the fetcher and the egress): ${JSON.stringify(kids)}`);
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

// ---- 4. kill -9 of the supervisor ------------------------------------------

test('kill -9 of the supervisor: every worker, the fetcher, the metrics process and the egress exit', { timeout: 60000 }, async () => {
  const WORKERS = 2;
  const metricsPort = await freePort();
  const { idp, server } = await startVerifying({ workers: WORKERS, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`] });
  let children = [];
  try {
    const fetcher = await server.waitForLog((l) => l.event === 'fetcher_ready');
    const metrics = await server.waitForLog((l) => l.event === 'metrics_ready');
    // The test build has a tool that declares a destination: it runs the egress too.
    const egress = await server.waitForLog((l) => l.event === 'egress_ready');
    children = childrenOf(server.pid).map((k) => k.pid);
    assert.deepEqual([...children].sort(),
      [...server.workerPids(), fetcher.child_pid, metrics.child_pid, egress.child_pid].sort(),
      'the children are the workers, the fetcher, the metrics process and the egress');
    assert.equal(children.length, WORKERS + 3);
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
