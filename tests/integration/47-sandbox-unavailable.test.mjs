// Where a seccomp filter cannot be installed (qemu-user, a container runtime
// that forbids it), the default strict sandbox must not leave a supervisor
// restarting workers forever: mcpd stops within about a second with one line
// naming the cause and the remedy. --sandbox best-effort serves there.
//
// tests/helpers/no_seccomp.c runs mcpd with seccomp(2) and
// prctl(PR_SET_SECCOMP) failing with ENOSYS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { McpdProcess, mcpdBinary, startMcpd } from '../lib/mcpd.mjs';
import { post, rpc } from '../lib/http.mjs';
import { waitUntil } from '../lib/wait.mjs';

const noSeccomp = process.env.TEST_NO_SECCOMP_BIN || path.join(path.dirname(mcpdBinary), 'tests/no-seccomp');

test('strict sandbox that cannot be installed: mcpd exits non-zero at once, naming the cause and --sandbox best-effort', async (t) => {
  const started = Date.now();
  const proc = spawn(noSeccomp, [mcpdBinary, '--auth', 'none', '--host', '127.0.0.1', '--port', '0', '--workers', '2'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new McpdProcess(proc);
  await waitUntil(() => server.hasExited(), {
    timeout: 5000,
    wake: server.waiters,
    what: () => `mcpd to exit under no-seccomp; log:\n${server.logs.map((l) => JSON.stringify(l)).join('\n')}`,
  }).catch((err) => {
    proc.kill('SIGKILL');
    throw err;
  });
  const { code } = await server.exited;
  const elapsed = Date.now() - started;
  t.diagnostic(`exited with ${code} after ${elapsed} ms`);
  assert.equal(code, 1);
  const fatal = server.logs.filter((l) => l.event === 'startup_failed');
  assert.equal(fatal.length, 1, 'one line says why');
  assert.match(fatal[0].msg, /could not start and a restart cannot fix it/);
  assert.match(fatal[0].msg, /--sandbox best-effort/);
  assert.ok(server.logs.some((l) => l.event === 'worker_exited' && l.exit_code === 2), 'the worker said it could not start');
  assert.ok(!server.logs.some((l) => l.event === 'worker_backoff'), 'no restart loop began');
});

test('--sandbox best-effort under the same restriction serves, and logs the degraded sandbox', async () => {
  const s = await startMcpd({ wrapper: noSeccomp, args: ['--sandbox', 'best-effort'] });
  try {
    const res = await post(s.url, rpc(1, 'tools/call', { name: 'sum', arguments: { a: 2, b: 3 } }),
      { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.result.structuredContent, { result: 5 });
    assert.ok(s.logs.some((l) => l.event === 'sandbox_degraded'));
  } finally {
    assert.equal((await s.stopQuietly('SIGTERM', 20000)).code, 0);
  }
});
