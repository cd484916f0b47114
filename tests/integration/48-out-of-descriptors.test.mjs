// A worker out of file descriptors: accept(2) fails with EMFILE while the
// connection stays queued. The worker must say so (once per interval, with
// a count), keep serving its open connections, not spin on the listener,
// and take the queued clients once descriptors are free again.
//
// mcpd runs under prlimit with a small open-file limit (the sandbox only
// ever lowers it), one worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { post, rpc, connect, readResponse } from '../lib/http.mjs';

const LIMIT = 40;
const CALL = JSON.stringify(rpc(1, 'tools/call', { name: 'sum', arguments: { a: 2, b: 3 } }));
const request = `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
  `Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: ${CALL.length}\r\n\r\n${CALL}`;

// utime + stime of a process, in clock ticks.
function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

test('out of descriptors: logged with a count, open connections served, no spinning, queued clients taken later', async (t) => {
  const s = await startMcpd({ workers: 1, wrapper: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`], args: ['--idle-timeout', '60'] });
  const idle = [];
  try {
    const [pid] = s.workerPids();
    // A keep-alive connection opened while there is room.
    const kept = await connect(s.port);
    kept.write(request);
    assert.equal((await readResponse(kept)).status, 200);

    // More idle connections than the worker can hold.
    for (let i = 0; i < LIMIT + 10; i++) {
      const c = net.connect(s.port, '127.0.0.1');
      c.on('error', () => {});
      idle.push(c);
    }
    await waitUntil(() => s.logs.some((l) => l.event === 'accept_no_descriptors'), { timeout: 10000, what: 'the accept_no_descriptors line' });
    const line = s.logs.find((l) => l.event === 'accept_no_descriptors');
    assert.match(line.msg, /Too many open files .*ulimit -n/);

    // Not spinning: over a one-second window the worker uses little CPU.
    const ticksPerSecond = 100;
    const before = cpuTicks(pid);
    const from = Date.now();
    await waitUntil(() => Date.now() - from >= 1000, { timeout: 5000, what: 'a one-second measuring window' });
    const used = (cpuTicks(pid) - before) / ticksPerSecond / ((Date.now() - from) / 1000);
    t.diagnostic(`worker CPU while out of descriptors: ${(used * 100).toFixed(1)}% of one core`);
    assert.ok(used < 0.2, `the worker spins: ${(used * 100).toFixed(1)}% of a core`);
    assert.equal(s.logs.filter((l) => l.event === 'accept_no_descriptors').length, 1, 'one line per interval, not one per refusal');

    // The open connection is still served.
    kept.write(request);
    assert.equal((await readResponse(kept)).status, 200);
    kept.destroy();

    // Once descriptors are free, queued and new clients are taken.
    for (const c of idle) c.destroy();
    await waitUntil(async () => (await post(s.url, CALL, { 'mcp-protocol-version': '2025-11-25' }).catch(() => ({}))).status === 200,
      { timeout: 10000, what: 'a new client served after the idle ones left' });
  } finally {
    for (const c of idle) c.destroy();
    assert.equal((await s.stopQuietly('SIGTERM', 20000)).code, 0);
  }
});
