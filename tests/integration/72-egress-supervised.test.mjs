// The egress process as the supervisor runs it (docs/egress-design.md): it
// starts with mcpd when a tool declares outbound destinations (the test
// build's reach_declared does), gets one connection per worker from the
// supervisor, is respawned after a crash and then gets every worker again,
// and a reload's successors get their own. The start-up check of
// --egress-allow's TOOL= entries is here too. (What a tool's request does
// through it: 73-example-tools.)
//
// The egress logs egress_worker_connected (with the worker's slot) for each
// connection handed over and egress_peer_closed when one ends; its lines
// carry its own pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMcpd, mcpdBinary } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { post, rpc } from '../lib/http.mjs';

const PROTOCOL = { 'mcp-protocol-version': '2025-11-25' };

// The egress's lines of `event` (from log index `from` on), in order.
function egressLines(server, event, { pid, from = 0 } = {}) {
  return server.logs.slice(from).filter((l) => l.role === 'egress' && l.event === event &&
    (pid === undefined || l.pid === pid));
}

const slotsOf = (lines) => lines.map((l) => l.slot).sort((a, b) => a - b);

// Waits until the egress `pid` logged `n` worker connections; returns their slots, sorted.
async function connectedSlots(server, pid, n, from = 0) {
  await waitUntil(() => egressLines(server, 'egress_worker_connected', { pid, from }).length >= n, {
    timeout: 10000, wake: server.waiters,
    what: () => `${n} worker connections at egress ${pid}; got ${JSON.stringify(egressLines(server, 'egress_worker_connected', { pid, from }))}`,
  });
  return slotsOf(egressLines(server, 'egress_worker_connected', { pid, from }));
}

function runMcpd(args, env = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MCPD_')));
  return spawnSync(mcpdBinary, ['--auth', 'none', '--host', '127.0.0.1', '--port', '0', '--workers', '1', ...args],
    { env: { ...clean, ...env }, encoding: 'utf8', timeout: 10000 });
}

test('the egress starts once with mcpd, after the workers, and gets one connection per worker', async () => {
  const server = await startMcpd({ workers: 3 });
  try {
    const ready = await server.waitForLog((l) => l.event === 'egress_ready');
    assert.equal(ready.slot, 3, 'the egress slot follows the workers');
    assert.deepEqual(await connectedSlots(server, ready.child_pid, 3), [0, 1, 2]);
    // The tools still answer, and the fixture says what it declares.
    const res = await post(server.url, rpc(1, 'tools/call', { name: 'reach_declared', arguments: {} }), PROTOCOL);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.structuredContent.result, '127.0.0.1:*');
    assert.equal((await post(server.url, rpc(2, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } }))).status, 200);
    assert.equal(server.logs.filter((l) => l.event === 'egress_started').length, 1);
    assert.equal(server.logs.filter((l) => l.event === 'egress_ready').length, 1);
    assert.equal(egressLines(server, 'egress_worker_connected').length, 3, 'one connection per worker, no more');
    assert.deepEqual(egressLines(server, 'egress_peer_closed'), []);
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0);
  }
  // The egress stops last, cleanly, once the workers have drained.
  const exits = server.logs.filter((l) => /^(worker|egress)_exited$/.test(l.event));
  assert.equal(exits.at(-1).event, 'egress_exited', JSON.stringify(exits));
  assert.equal(exits.at(-1).exit_code, 0);
});

test('kill -9 of the egress: it is respawned, gets every worker again, and no worker exits', async () => {
  const metricsPort = await freePort();
  const server = await startMcpd({ workers: 2, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`] });
  try {
    const first = await server.waitForLog((l) => l.event === 'egress_ready');
    assert.deepEqual(await connectedSlots(server, first.child_pid, 2), [0, 1]);
    const workers = server.workerPids().sort();

    process.kill(first.child_pid, 'SIGKILL');
    const exited = await server.waitForLog((l) => l.event === 'egress_exited' && l.child_pid === first.child_pid);
    assert.equal(exited.signal, 9);
    const second = await server.waitForLog((l) => l.event === 'egress_ready' && l.child_pid !== first.child_pid);
    assert.equal(second.slot, first.slot);
    assert.deepEqual(await connectedSlots(server, second.child_pid, 2), [0, 1]);

    assert.deepEqual(server.logs.filter((l) => l.event === 'worker_exited'), [], 'no worker exited');
    assert.deepEqual(server.workerPids().sort(), workers);
    assert.equal((await post(server.url, rpc(1, 'tools/call', { name: 'sum', arguments: { a: 2, b: 2 } }))).status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^mcpd_child_starts_total\{role="egress"\} 2$/m);
    assert.match(metrics, /^mcpd_child_exits_total\{role="egress",cause="crash"\} 1$/m);
    assert.match(metrics, /^mcpd_child_exits_total\{role="worker",cause="crash"\} 0$/m);
  } finally {
    await server.stop();
  }
});

test('SIGHUP: each successor gets its own connection to the running egress; the retired ones end', async () => {
  const server = await startMcpd({ workers: 2 });
  try {
    const egress = await server.waitForLog((l) => l.event === 'egress_ready');
    await connectedSlots(server, egress.child_pid, 2);
    const before = server.workerPids();
    const mark = server.logs.length;

    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog((l) => l.event === 'reload_done', 20000);
    for (const pid of before) {
      await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === pid && l.exit_code === 0, 15000);
    }
    // One new connection per slot, each after its successor started.
    assert.deepEqual(await connectedSlots(server, egress.child_pid, 2, mark), [0, 1]);
    for (const line of egressLines(server, 'egress_worker_connected', { from: mark })) {
      const started = server.logs.findIndex((l, i) => i >= mark && l.event === 'worker_started' && l.slot === line.slot);
      assert.ok(started >= 0 && started < server.logs.indexOf(line), `slot ${line.slot}: connected before its successor started`);
    }
    // The retired workers' connections end with them.
    await waitUntil(() => egressLines(server, 'egress_peer_closed', { from: mark }).length >= 2, {
      timeout: 10000, wake: server.waiters, what: 'the retired workers\' connections to end at the egress' });
    assert.deepEqual(slotsOf(egressLines(server, 'egress_peer_closed', { from: mark })), [0, 1]);
    assert.equal(server.logs.filter((l) => l.event === 'egress_started').length, 1, 'the egress was not restarted');
    assert.equal(server.workerPids().length, 2);
  } finally {
    await server.stop();
  }
});

test('--egress-allow TOOL= entries must name a tool that makes outbound requests', () => {
  const refused = [
    [['--egress-allow', 'sum=api.example.com'], {},
      'mcpd: --egress-allow entry 1 "sum=api.example.com:443": the tool sum makes no outbound requests (it declares no MCPD_EGRESS)'],
    [['--egress-allow', 'reach_declared=127.0.0.1:9, nosuch=x.example:*'], {},
      'mcpd: --egress-allow entry 2 "nosuch=x.example:*": no tool of this build is named nosuch'],
    [[], { MCPD_EGRESS_ALLOW: 'docs.example.com,echo=-docs.example.com' },
      'mcpd: --egress-allow entry 2 "echo=-docs.example.com:443": the tool echo makes no outbound requests (it declares no MCPD_EGRESS)'],
    [['--egress-ca-file', '/nonexistent/ca.pem'], {},
      "mcpd: --egress-ca-file '/nonexistent/ca.pem' cannot be read: No such file or directory"],
  ];
  for (const [args, env, line] of refused) {
    const r = runMcpd(args, env);
    assert.equal(r.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
    assert.equal(r.stderr, `${line}\n`);
    assert.equal(r.stdout, '', 'refused before anything is logged or bound');
  }
});

// The warning for entries without TOOL= that no tool takes cannot show in
// this build (http_get takes the operator's destinations);
// tests/unit/supervisor/egress_check_test.c counts such entries.
test('entries for the tools that fetch start mcpd without a warning', async () => {
  const server = await startMcpd({ workers: 1, args: ['--egress-allow', 'reach_declared=127.0.0.1:8080,docs.example.com'] });
  try {
    await server.waitForLog((l) => l.event === 'egress_ready');
    assert.deepEqual(server.logs.filter((l) => l.event === 'egress_allow_unused'), []);
  } finally {
    await server.stop();
  }
});
