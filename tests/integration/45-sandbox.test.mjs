// The sandbox: every worker, the fetcher, the metrics process and the egress
// run with no_new_privs and a seccomp filter (and as an unprivileged user
// when started as root); a forbidden system call kills only that worker,
// which is replaced while the others keep serving. Needs a build with -DMCPD_TEST_HOOKS=ON (ops/test
// builds that way) for the forbidden-call endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { post, rpc } from '../lib/http.mjs';

function status(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => l.split(/:\s+/, 2)));
}

// A file-based issuer (discovery document + JWKS), enough to start the fetcher.
function fileIssuer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-sandbox-'));
  const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  fs.writeFileSync(path.join(dir, 'openid-configuration.json'),
    JSON.stringify({ issuer: 'https://issuer.test', jwks_uri: `file://${dir}/jwks.json` }));
  // The fetcher runs as an unprivileged user: the public documents must be readable.
  fs.chmodSync(dir, 0o755);
  for (const f of ['jwks.json', 'openid-configuration.json']) fs.chmodSync(path.join(dir, f), 0o644);
  return { dir, url: `file://${dir}/openid-configuration.json` };
}

test('workers and the fetcher run with no_new_privs, seccomp and an unprivileged uid', async () => {
  const issuer = fileIssuer();
  const server = await startMcpd({
    workers: 2,
    args: ['--discovery-url', issuer.url, '--allow-insecure-issuer', '--allowed-clients', 'c1'],
  });
  try {
    const fetcher = await server.waitForLog((l) => l.event === 'fetcher_ready');
    await server.waitForLog((l) => l.event === 'jwks_published');
    const supervisorUid = status(server.pid).Uid.split('\t')[0];
    for (const pid of [...server.workerPids(), fetcher.child_pid]) {
      const st = status(pid);
      assert.equal(st.NoNewPrivs, '1', `pid ${pid}`);
      assert.equal(st.Seccomp, '2', `pid ${pid}`);
      const uid = st.Uid.split('\t')[0];
      if (supervisorUid === '0') assert.notEqual(uid, '0', `pid ${pid} still runs as root`);
      else assert.equal(uid, supervisorUid);
    }
    // The fetcher never holds the listening socket (the supervisor's only socket above stdio).
    // In the order of the fd numbers (readdir sorts them as text: "11" before "4").
    const fdsOf = (pid, min = 0) => fs.readdirSync(`/proc/${pid}/fd`).map(Number).filter((fd) => fd >= min)
      .sort((x, y) => x - y).map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    const [listener] = fdsOf(server.pid, 3).filter((t) => t.startsWith('socket:'));
    assert.ok(listener, 'the supervisor holds the listener');
    assert.ok(!fdsOf(fetcher.child_pid).includes(listener), `fetcher holds ${fdsOf(fetcher.child_pid)}`);
    assert.ok(server.workerPids().every((pid) => fdsOf(pid).includes(listener)));
  } finally {
    await server.stop();
    fs.rmSync(issuer.dir, { recursive: true, force: true });
  }
});

test('the metrics process is sandboxed too, and holds neither the MCP listener nor the key set', async () => {
  const issuer = fileIssuer();
  const metricsPort = await freePort();
  const server = await startMcpd({
    workers: 1,
    args: ['--discovery-url', issuer.url, '--allow-insecure-issuer', '--allowed-clients', 'c1',
      '--metrics-listen', `127.0.0.1:${metricsPort}`],
  });
  try {
    const metrics = await server.waitForLog((l) => l.event === 'metrics_ready');
    await server.waitForLog((l) => l.event === 'jwks_published');
    const st = status(metrics.child_pid);
    assert.equal(st.NoNewPrivs, '1');
    assert.equal(st.Seccomp, '2');
    if (status(server.pid).Uid.split('\t')[0] === '0') assert.notEqual(st.Uid.split('\t')[0], '0');
    // Past stdio (which every child shares), nothing the metrics process holds is a worker's.
    const fdsOf = (pid) => fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) > 2)
      .map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    const mine = fdsOf(metrics.child_pid);
    const [worker] = server.workerPids();
    const workerSockets = fdsOf(worker).filter((t) => t.startsWith('socket:'));
    assert.ok(!mine.some((t) => workerSockets.includes(t)), `the metrics process shares a socket with a worker: ${mine}`);
    assert.ok(!mine.some((t) => t.includes('mcpd-keyset')), `the metrics process holds the key set: ${mine}`);
    const maps = fs.readFileSync(`/proc/${metrics.child_pid}/maps`, 'utf8').split('\n');
    assert.ok(!maps.some((l) => l.includes('mcpd-keyset')), 'the metrics process maps the key set');
    // The counters are mapped, and only for reading.
    const counters = maps.filter((l) => l.includes('mcpd-counters'));
    assert.ok(counters.length >= 1 && counters.every((l) => l.split(/\s+/)[1].startsWith('r-')), counters.join('\n'));
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200);
  } finally {
    await server.stop();
    fs.rmSync(issuer.dir, { recursive: true, force: true });
  }
});

test('the egress process is sandboxed too, and holds neither a listener, the key set, the counters nor the AWS memfd', async (t) => {
  const issuer = fileIssuer();
  const server = await startMcpd({
    workers: 2,
    args: ['--discovery-url', issuer.url, '--allow-insecure-issuer', '--allowed-clients', 'c1'],
  });
  try {
    if (!server.logs.some((l) => l.event === 'egress_started')) {
      t.skip('this build has no tool that declares an outbound destination, so no egress');
      return;
    }
    const egress = await server.waitForLog((l) => l.event === 'egress_ready');
    await server.waitForLog((l) => l.event === 'jwks_published');
    const st = status(egress.child_pid);
    assert.equal(st.NoNewPrivs, '1');
    assert.equal(st.Seccomp, '2');
    if (status(server.pid).Uid.split('\t')[0] === '0') assert.notEqual(st.Uid.split('\t')[0], '0');
    const fdsOf = (pid) => fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) > 2)
      .map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    const mine = fdsOf(egress.child_pid);
    const [worker] = server.workerPids();
    const workerSockets = fdsOf(worker).filter((s) => s.startsWith('socket:'));
    assert.ok(!mine.some((f) => workerSockets.includes(f)), `the egress shares a socket with a worker: ${mine}`);
    for (const name of ['mcpd-keyset', 'mcpd-counters', 'mcpd-aws-env']) {
      assert.ok(!mine.some((f) => f.includes(name)), `the egress holds ${name}: ${mine}`);
    }
    const maps = fs.readFileSync(`/proc/${egress.child_pid}/maps`, 'utf8');
    assert.ok(!maps.includes('mcpd-keyset') && !maps.includes('mcpd-counters'), 'the egress maps a shared region');
  } finally {
    await server.stop();
    fs.rmSync(issuer.dir, { recursive: true, force: true });
  }
});

test('a worker making a forbidden system call dies by SIGSYS and is replaced; the others keep serving', async () => {
  const server = await startMcpd({ workers: 2 });
  try {
    const before = server.workerPids();
    const call = rpc(1, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } });
    const probe = await fetch(`${server.origin}/__test/forbidden-syscall`, { method: 'POST' }).catch((e) => e);
    assert.ok(probe instanceof Error, `expected the connection to die with its worker; got HTTP ${probe.status} (is this a -DMCPD_TEST_HOOKS=ON build?)`);
    const died = await server.waitForLog((l) => l.event === 'worker_exited' && l.signal === 31);
    assert.equal(died.signal_name, 'SYS');
    assert.ok(before.includes(died.child_pid));
    // The other worker serves while the slot is refilled.
    for (let i = 0; i < 20; i++) assert.equal((await post(server.url, call)).status, 200);
    await server.waitForLog((l) => l.event === 'worker_ready' && !before.includes(l.child_pid));
    await waitUntil(() => server.workerPids().length === 2, { timeout: 5000, what: 'both worker slots to be filled' });
    assert.equal((await post(server.url, call)).status, 200);
    const { code } = await server.stopQuietly('SIGTERM', 20000);
    assert.equal(code, 0);
    // Nothing else went wrong: the only unexpected exit is the SIGSYS one.
    const trouble = server.unexpectedTrouble();
    assert.equal(trouble.length, 1, trouble.join('\n'));
    assert.match(trouble[0], /"signal":31/);
  } finally {
    await server.stop('SIGKILL').catch(() => {});
  }
});
