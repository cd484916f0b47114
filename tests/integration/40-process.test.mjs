// The process model: flags and environment, the supervisor's restarts and
// backoff, SIGHUP replacement, SIGTERM drain, and what children inherit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { startMcpd, mcpdBinary, childrenOf } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { post, rpc, connect, readResponse, ACCEPT_BOTH } from '../lib/http.mjs';

function runMcpd(args, env = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MCPD_')));
  return spawnSync(mcpdBinary, args, { env: { ...clean, ...env }, encoding: 'utf8', timeout: 10000 });
}

const call = rpc(1, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } });

test('bad flags and environment values exit 2 with one line naming the value', () => {
  const cases = [
    [['--port', '70000'], {}, /--port value '70000'.*0\.\.65535/],
    [['--workers', '0'], {}, /--workers value '0'.*1\.\.256/],
    [['--workers'], {}, /--workers needs a value/],
    [['--max-body', '1GiB'], {}, /--max-body value '1GiB'/],
    [['--log-level', 'loud'], {}, /--log-level value 'loud'.*debug, info, warn or error/],
    [['--host', 'example.com'], {}, /--host value 'example.com'/],
    [['--allowed-origins', 'evil'], {}, /--allowed-origins value 'evil'/],
    [['--frobnicate'], {}, /unknown flag '--frobnicate'/],
    [['stray'], {}, /unexpected argument 'stray'/],
    [[], { MCPD_PORT: 'eighty' }, /MCPD_PORT value 'eighty'/],
    [[], { MCPD_WORKERS: '' }, /MCPD_WORKERS is empty/],
    [[], { MCPD_WORKER: '4' }, /unknown environment variable MCPD_WORKER/],
    [['--metrics-listen', '127.0.0.1'], {}, /--metrics-listen value '127.0.0.1'.*127\.0\.0\.1:9100/],
    [['--metrics-listen', '127.0.0.1:0'], {}, /--metrics-listen value '127.0.0.1:0'.*1\.\.65535/],
    [['--metrics-listen', 'localhost:9100'], {}, /--metrics-listen value 'localhost:9100'/],
    [['--metrics-listen', '::1:9100'], {}, /--metrics-listen value '::1:9100'.*\[::1\]:9100/],
    [['--metrics-emf', '-1'], {}, /--metrics-emf value '-1'.*0\.\.3600/],
    [[], { MCPD_METRICS_EMF: '1m' }, /MCPD_METRICS_EMF value '1m'/],
    [['--metrics-namespace', ':mcpd'], {}, /--metrics-namespace value ':mcpd'/],
    [['--metrics-namespace', 'a b'], {}, /--metrics-namespace value 'a b'/],
  ];
  for (const [args, env, pattern] of cases) {
    const r = runMcpd(args, env);
    assert.equal(r.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a flag wins over its environment variable', async () => {
  const server = await startMcpd({ workers: 1, env: { MCPD_WORKERS: '3', MCPD_LOG_LEVEL: 'warn' }, args: ['--log-level', 'info'] });
  try {
    const listening = server.logs.find((l) => l.event === 'listening');
    assert.equal(listening.workers, 1);
  } finally {
    await server.stop();
  }
});

test('--help and --version exit 0', () => {
  const help = runMcpd(['--help']);
  assert.equal(help.status, 0);
  for (const flag of ['--host', '--port', '--workers', '--max-body', '--shutdown-timeout', '--log-level', '--allowed-origins', 'MCPD_PORT']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const version = runMcpd(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^mcpd \d+\.\d+\.\d+/);
});

test('a port in use is a clear error with exit status 1', async () => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  try {
    const r = runMcpd(['--host', '127.0.0.1', '--port', String(blocker.address().port), '--auth', 'none']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already in use.*another --port/);
    // The metrics port is bound once too, and its error names its own flag.
    const m = runMcpd(['--host', '127.0.0.1', '--port', '0', '--auth', 'none',
      '--metrics-listen', `127.0.0.1:${blocker.address().port}`]);
    assert.equal(m.status, 1);
    assert.match(m.stderr, /already in use.*another --metrics-listen/);
    assert.equal(m.stderr.trim().split('\n').length, 1, m.stderr);
  } finally {
    blocker.close();
  }
});

test('a killed worker is replaced within a second and leaves no zombie', async () => {
  const server = await startMcpd({ workers: 2 });
  try {
    const [victim] = server.workerPids();
    process.kill(victim, 'SIGKILL');
    const exited = await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === victim);
    assert.equal(exited.signal, 9);
    const started = await server.waitForLog((l) => l.event === 'worker_started' && l.slot === exited.slot && l.child_pid !== victim);
    await server.waitForLog((l) => l.event === 'worker_ready' && l.child_pid === started.child_pid);
    assert.ok(Date.parse(started.time) - Date.parse(exited.time) < 1000, 'respawn was not immediate');
    const kids = childrenOf(server.pid);
    // The two workers, and the egress when the build runs one.
    assert.deepEqual(kids.map((k) => k.pid).sort(), [...server.livePids('worker'), ...server.livePids('egress')].sort(),
      JSON.stringify(kids));
    assert.equal(server.livePids('worker').length, 2);
    assert.ok(kids.every((k) => k.state !== 'Z'), JSON.stringify(kids));
    assert.equal((await post(server.url, call)).status, 200);
  } finally {
    await server.stop();
  }
});

test('a worker that keeps dying is restarted with growing backoff, not in a busy loop', async () => {
  const server = await startMcpd({ workers: 1 });
  try {
    const delays = [];
    for (let round = 0; round < 4; round++) {
      const [pid] = server.workerPids();
      process.kill(pid, 'SIGKILL');
      await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === pid);
      if (round > 0) {
        const backoff = await server.waitForLog((l) => l.event === 'worker_backoff' && !delays.includes(l)).then((l) => l);
        delays.push(backoff);
      }
      await server.waitForLog((l) => l.event === 'worker_ready' && l.child_pid !== pid && !server.logs.some((e) => e.event === 'worker_exited' && e.child_pid === l.child_pid), 40000);
    }
    const ms = delays.map((l) => Number(/restarting in (\d+) ms/.exec(l.msg)[1]));
    assert.deepEqual(ms, [100, 200, 400]);
    assert.equal((await post(server.url, call)).status, 200);
  } finally {
    await server.stop();
  }
});

// An fd closed between listing and reading its link (a readiness pipe
// closing just after worker_ready) is left out: it is no longer open.
// [fd, target] in the order of the fd numbers (readdir sorts them as text: "11" before "4").
function openFds(pid) {
  const open = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      open.push([Number(fd), fs.readlinkSync(`/proc/${pid}/fd/${fd}`)]);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
  }
  return open.sort(([a], [b]) => a - b);
}

test('workers inherit only stdio, the listener and their own fds', async () => {
  const server = await startMcpd({ workers: 2 });
  try {
    const [a, b] = server.workerPids();
    // Bound before anything else is opened: the supervisor's first socket.
    const listener = openFds(server.pid).find(([fd, t]) => fd > 2 && t.startsWith('socket:'))[1];
    const supervisorFds = openFds(server.pid).map(([, t]) => t);
    // A build whose tools may fetch runs the egress: each worker then holds
    // its link to the supervisor and the connection to the egress it got on it.
    const linked = server.logs.some((l) => l.event === 'egress_started');
    for (const [pid, other] of [[a, b], [b, a]]) {
      // The shared listener, its own epoll, signalfd and h2o's wake-up pipe
      // (both ends). Its readiness pipe is closed just after worker_ready.
      const expected = ['anon_inode:[eventpoll]', 'anon_inode:[signalfd]', 'pipe:[N]', 'pipe:[N]', 'socket:[N]',
        ...(linked ? ['socket:[N]', 'socket:[N]'] : [])];
      const current = () => openFds(pid).filter(([fd]) => fd > 2).map(([, t]) => t);
      const kinds = () => current().map((t) => t.replace(/\d+/g, 'N')).sort();
      await waitUntil(() => JSON.stringify(kinds()) === JSON.stringify(expected), { timeout: 5000,
        what: `worker ${pid} to hold exactly ${expected}` });
      const fds = current();
      const otherFds = openFds(other).map(([, t]) => t);
      assert.ok(fds.includes(listener), 'the listener is the shared one');
      for (const own of fds.filter((t) => t !== listener && /^(pipe|socket):/.test(t))) {
        assert.ok(!otherFds.includes(own) && !supervisorFds.includes(own), `${own} is shared with another process`);
      }
    }
  } finally {
    await server.stop();
  }
});

// Keeps `concurrency` keep-alive request loops busy until stopped; counts results.
function startLoad(url, concurrency) {
  const stats = { ok: 0, failed: 0, running: true };
  const loops = Array.from({ length: concurrency }, async () => {
    while (stats.running) {
      try {
        const res = await post(url, call);
        if (res.status === 200) stats.ok++;
        else stats.failed++;
      } catch {
        stats.failed++;
      }
    }
  });
  stats.stop = async () => {
    stats.running = false;
    await Promise.all(loops);
    return stats;
  };
  return stats;
}

test('kill -9 of a worker under load: the service keeps answering', async () => {
  const server = await startMcpd({ workers: 2 });
  try {
    const load = startLoad(server.url, 8);
    await waitUntil(() => load.ok >= 200, { timeout: 20000, what: '200 successful calls before the kill' });
    const [victim] = server.workerPids();
    process.kill(victim, 'SIGKILL');
    await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === victim);
    const okAtKill = load.ok;
    await waitUntil(() => load.ok >= okAtKill + 200, { timeout: 20000, what: '200 more successful calls after the kill' });
    const stats = await load.stop();
    // Only requests in flight on the killed worker may fail: at most one per connection.
    assert.ok(stats.failed <= 8, `failed ${stats.failed}`);
    await server.waitForLog((l) => l.event === 'worker_ready' && l.child_pid !== victim && !server.logs.slice(0, 4).includes(l));
  } finally {
    await server.stop();
  }
});

test('SIGHUP replaces every worker without a failed request', async () => {
  const server = await startMcpd({ workers: 2 });
  try {
    const before = server.workerPids().sort();
    const load = startLoad(server.url, 4);
    await waitUntil(() => load.ok >= 100, { timeout: 20000, what: '100 calls before SIGHUP' });
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog((l) => l.event === 'reload_done', 20000);
    const okAtReload = load.ok;
    await waitUntil(() => load.ok >= okAtReload + 100, { timeout: 20000, what: '100 calls after the reload' });
    const stats = await load.stop();
    assert.equal(stats.failed, 0);
    // The replaced workers drain and exit on their own.
    for (const pid of before) {
      await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === pid && l.exit_code === 0, 15000);
    }
    const after = server.workerPids().sort();
    assert.equal(after.length, 2);
    assert.ok(after.every((pid) => !before.includes(pid)), `${before} -> ${after}`);
  } finally {
    await server.stop();
  }
});

// A second SIGHUP while the worker the first one retired still drains: that
// worker writes the slot's other counters block, the one a new successor
// would get, so the second reload waits until it has exited.
test('a second SIGHUP replaces a slot only after the worker the first one retired there exited', async () => {
  const server = await startMcpd({ workers: 1, args: ['--shutdown-timeout', '10'] });
  let trickle;
  try {
    const padded = JSON.stringify(call).padEnd(400, ' ');	// JSON allows trailing whitespace
    const retired = server.workerPids()[0];
    const sockets = () => openFds(retired).map(([, t]) => t).filter((t) => t.startsWith('socket:'));
    const idle = sockets();
    const sock = await connect(server.port);
    sock.write(`POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nContent-Length: ${padded.length}\r\n\r\n`);
    await waitUntil(() => sockets().some((t) => !idle.includes(t)), { timeout: 5000, what: 'the worker to accept the connection' });
    // The body trickles in, so the draining worker keeps the request open.
    let sent = 0;
    trickle = setInterval(() => { if (sent < padded.length - 1) sock.write(padded[sent++]); }, 100); // paced: one byte per tick
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog((l) => l.event === 'worker_draining' && l.pid === retired, 10000, 'the retired worker to drain');
    const mark = server.logs.length;
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog((l) => l.event === 'reload' && server.logs.indexOf(l) >= mark, 5000, 'the second reload');
    clearInterval(trickle);
    const responded = readResponse(sock);
    sock.write(padded.slice(sent));
    assert.equal((await responded).status, 200);
    const exited = await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === retired, 15000);
    assert.equal(exited.exit_code, 0);
    const started = await server.waitForLog((l) => l.event === 'worker_started' && server.logs.indexOf(l) >= mark, 10000,
      'the second reload to start a successor');
    assert.ok(server.logs.indexOf(started) > server.logs.indexOf(exited),
      `successor ${started.child_pid} started while the retired worker ${retired} still ran`);
    await server.waitForLog((l) => l.event === 'reload_done' && server.logs.indexOf(l) >= mark, 10000);
    assert.equal((await post(server.url, call)).status, 200);
  } finally {
    clearInterval(trickle);
    await server.stop();
  }
});

// A retired worker that never exits (here: stopped) is killed once the
// drain a shutdown would give it is over, so later reloads go on.
test('a retired worker that never exits is killed after --shutdown-timeout, and the next SIGHUP reloads', async () => {
  const server = await startMcpd({ workers: 1, args: ['--shutdown-timeout', '1'] });
  const retired = server.workerPids()[0];
  try {
    process.kill(retired, 'SIGSTOP');
    process.kill(server.pid, 'SIGHUP');
    const timeout = await server.waitForLog((l) => l.event === 'retire_timeout', 15000, 'the retired worker to be overdue');
    assert.match(timeout.msg, new RegExp(`pid ${retired} did not exit within --shutdown-timeout \\(1 s\\)`));
    const exited = await server.waitForLog((l) => l.event === 'worker_exited' && l.child_pid === retired, 5000);
    assert.equal(exited.signal, 9);
    await server.waitForLog((l) => l.event === 'reload_done', 5000, 'the first reload to finish');
    const mark = server.logs.length;
    process.kill(server.pid, 'SIGHUP');
    await server.waitForLog((l) => l.event === 'reload_done' && server.logs.indexOf(l) >= mark, 15000, 'the second reload');
    assert.equal((await post(server.url, call)).status, 200);
  } finally {
    try { process.kill(retired, 'SIGCONT'); } catch { /* already gone */ }
    await server.stop();
  }
});

test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
  const server = await startMcpd({ workers: 1, args: ['--shutdown-timeout', '10'] });
  try {
    const body = JSON.stringify(call);
    const worker = server.workerPids()[0];
    const sockets = () => openFds(worker).map(([, t]) => t).filter((t) => t.startsWith('socket:'));
    const idle = sockets();
    const sock = await connect(server.port);
    // Headers and half the body: the request is in flight when SIGTERM arrives.
    sock.write(`POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`);
    await waitUntil(() => sockets().some((t) => !idle.includes(t)), { timeout: 5000, what: 'the worker to accept the connection' });
    process.kill(server.pid, 'SIGTERM');
    await server.waitForLog((l) => l.event === 'worker_draining');
    const responded = readResponse(sock);
    sock.write(body.slice(20));
    const res = await responded;
    assert.equal(res.status, 200);
    assert.match(res.head, /connection: close/i);
    assert.equal(JSON.parse(res.body).result?.content[0].text, '3', res.body);
    await server.waitForLog((l) => l.event === 'stopped', 15000);
    const { code } = await server.stop();
    assert.equal(code, 0);
    // New connections are refused once it is gone.
    await assert.rejects(connect(server.port));
  } finally {
    await server.stop('SIGKILL').catch(() => {});
  }
});
