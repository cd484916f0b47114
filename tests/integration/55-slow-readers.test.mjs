// Clients that send large requests and never read the answers: a worker's
// memory stays bounded (--max-pending-output), small requests are still
// served, answers that do not move for --idle-timeout end their connection,
// and the memory goes back once they are gone.
//
// Real supervisor and worker; the slow clients are paused sockets, so the
// kernel's buffers fill and the rest of each answer waits in the worker.
// Every wait has a deadline; nothing sleeps for a fixed time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { post, rpc } from '../lib/http.mjs';

const MiB = 1024 * 1024;
const SLOW_CLIENTS = 12;
const TEXT_BYTES = 4 * MiB;	// echo answers with the text twice: ~8 MiB each
const CAP = 8 * MiB;

const rssBytes = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const requestLines = (s) => s.logs.filter((l) => l.event === 'request' && l.path === '/mcp');

function echoRequest(text) {
  const body = JSON.stringify(rpc(1, 'tools/call', { name: 'echo', arguments: { text } }));
  return `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

// A client that sends `request` and does not read until told to: its socket
// is paused, so the kernel stops taking the answer once its buffers are full.
function slowClient(port, request) {
  const sock = net.connect(port, '127.0.0.1');
  sock.pause();
  sock.received = 0;
  sock.ended = false;
  sock.on('error', () => { sock.ended = true; });
  sock.on('data', (d) => { sock.received += d.length; });
  sock.on('end', () => { sock.ended = true; });
  sock.write(request);
  return sock;
}

test('slow readers: bounded memory, small requests served, stalled answers cut, memory returned', async (t) => {
  const s = await startMcpd({
    workers: 1,
    // h2o gives a whole request --idle-timeout to arrive: twelve 4 MiB bodies
    // on a loaded machine (sanitizer builds, both cores busy) need more than 2 s.
    // --max-buffered (which would refuse some of the bodies before they are
    // read, 56-memory-budget) is set out of the way: this test is about answers.
    args: ['--max-body', '16MiB', '--max-pending-output', `${CAP}`, '--max-buffered', '1GiB', '--idle-timeout', '6'],
    // Under AddressSanitizer freed memory waits in a quarantine and goes
    // back to the system on a timer of the sanitizer's own; these options
    // make its memory follow the program's (other builds ignore them).
    env: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0', 'allocator_release_to_os_interval_ms=100'].filter(Boolean).join(':') },
  });
  const clients = [];
  try {
    const [pid] = s.workerPids();
    // A first large answer, read in full, warms the allocator up.
    const warm = await post(s.url, rpc(1, 'tools/call', { name: 'echo', arguments: { text: 'y'.repeat(TEXT_BYTES) } }),
      { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(warm.status, 200);
    const baseline = rssBytes(pid);

    const request = echoRequest('x'.repeat(TEXT_BYTES));
    let peak = 0;
    for (let i = 0; i < SLOW_CLIENTS; i++) clients.push(slowClient(s.port, request));
    await waitUntil(() => {
      peak = Math.max(peak, rssBytes(pid));
      return requestLines(s).length >= 1 + SLOW_CLIENTS;
    }, { timeout: 60000, what: `all ${SLOW_CLIENTS} slow requests answered or refused` });
    const answered = requestLines(s).slice(1);
    const refused = answered.filter((l) => l.status === 503);
    t.diagnostic(`statuses: ${answered.map((l) => l.status).join(' ')}; worker peak ${(peak / MiB).toFixed(1)} MiB, ` +
      `baseline ${(baseline / MiB).toFixed(1)} MiB`);
    assert.ok(refused.length > 0, 'past --max-pending-output large requests get 503');
    assert.ok(refused.every((l) => l.refused === 'too many answers waiting for slow clients'));
    // Without the cap every answer waits in the worker: 244 MiB of growth measured here,
    // against 46 MiB with it (the twelve 4 MiB requests are read before any is refused).
    assert.ok(peak - baseline < 96 * MiB, `worker growth ${((peak - baseline) / MiB).toFixed(1)} MiB stays under 96 MiB`);

    // A small request is served meanwhile.
    const started = Date.now();
    const small = await post(s.url, rpc(2, 'tools/call', { name: 'sum', arguments: { a: 1, b: 2 } }),
      { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(small.status, 200, small.text);
    t.diagnostic(`a small request while slow readers stall: ${Date.now() - started} ms`);

    // Answers that do not move for --idle-timeout end their connections: the
    // clients, reading at last, get part of an answer and then the end.
    const held = answered.filter((l) => l.status === 200).length;
    await waitUntil(() => s.logs.filter((l) => l.event === 'connection_stalled').length >= held, { timeout: 30000,
      what: `${held} connection_stalled lines` });
    for (const c of clients) c.resume();
    await waitUntil(() => clients.every((c) => c.ended), { timeout: 30000, what: 'every slow connection to end' });
    const cut = clients.filter((c) => c.received > 64 * 1024 && c.received < 2 * TEXT_BYTES);
    t.diagnostic(`bytes the slow clients got: ${clients.map((c) => c.received).join(' ')}`);
    assert.equal(cut.length, held, 'each connection holding an answer was ended part-way through it');

    // With the backlog gone, large requests are served again and memory goes back.
    const again = await post(s.url, rpc(3, 'tools/call', { name: 'echo', arguments: { text: 'z'.repeat(MiB) } }),
      { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(again.status, 200, 'large requests are served once the answers in flight are gone');
    for (const c of clients) c.destroy();
    await waitUntil(() => rssBytes(pid) < baseline + 16 * MiB, { timeout: 15000,
      what: () => `worker RSS back within 16 MiB of ${(baseline / MiB).toFixed(1)} MiB (now ${(rssBytes(pid) / MiB).toFixed(1)} MiB)` });
  } finally {
    for (const c of clients) c.destroy();
    assert.equal((await s.stop()).code, 0);
  }
});
