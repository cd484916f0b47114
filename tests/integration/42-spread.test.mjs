// Connection spread: connections opened at once are shared by the workers,
// read from the kernel (which process holds each socket), and mcpd's own
// per-worker gauge agrees; a stopped worker does not hold up new connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { openBurst, connectionsPerProcess } from '../lib/spread.mjs';

// The worker pids by slot, from the supervisor's log.
function workersBySlot(server) {
  const bySlot = new Map();
  for (const l of server.logs) if (l.event === 'worker_ready') bySlot.set(l.slot, l.child_pid);
  return [...bySlot.entries()].sort((a, b) => a[0] - b[0]).map(([, pid]) => pid);
}

async function scrape(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

function openBySlot(text) {
  const out = [];
  for (const m of text.matchAll(/^mcpd_open_connections\{slot="(\d+)"\} (\d+)$/gm)) out[Number(m[1])] = Number(m[2]);
  return out;
}

test('32 connections opened at once: each of 2 workers holds some, none more than 3/4', async () => {
  const metricsPort = await freePort();
  const server = await startMcpd({ workers: 2, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`] });
  try {
    const pids = workersBySlot(server);
    assert.equal(pids.length, 2);
    for (let burst = 1; burst <= 3; burst++) {
      const close = await openBurst(server.port, 32);
      try {
        const counts = connectionsPerProcess(pids, server.port);
        assert.equal(counts[0] + counts[1], 32, `burst ${burst}: the kernel shows ${counts}`);
        for (const c of counts) {
          assert.ok(c >= 1, `burst ${burst}: a worker holds no connection: ${counts}`);
          assert.ok(c <= 24, `burst ${burst}: a worker holds more than 3/4: ${counts}`);
        }
        // mcpd's own gauge says the same, worker by worker.
        assert.deepEqual(openBySlot(await scrape(metricsPort)), counts, `burst ${burst}`);
      } finally {
        close();
      }
      await waitUntil(async () => openBySlot(await scrape(metricsPort)).every((n) => n === 0), { timeout: 10000,
        what: 'the open-connections gauge to drop back to 0 once the clients closed' });
    }
  } finally {
    await server.stop();
  }
});

test('a stopped worker does not hold up new connections: the other takes them', async () => {
  const server = await startMcpd({ workers: 2 });
  const pids = workersBySlot(server);
  process.kill(pids[0], 'SIGSTOP');
  try {
    const close = await openBurst(server.port, 20, 10000);
    try {
      assert.deepEqual(connectionsPerProcess(pids, server.port), [0, 20]);
    } finally {
      close();
    }
  } finally {
    process.kill(pids[0], 'SIGCONT');
    await server.stop();
  }
});
