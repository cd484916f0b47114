// Clients that send request bodies and never finish them: each connection
// declares a body (Content-Length 1 MiB by default) and sends all of it but
// the last byte, then waits.  Used by the memory-budget test and the long
// memory script (tests/bench/memory-attack.mjs); also the workers' memory,
// read from /proc.
import fs from 'node:fs';
import net from 'node:net';
import { waitUntil } from './wait.mjs';

export const MiB = 1024 * 1024;

export const rssBytes = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

// Summed RSS of `pids`; a worker that has exited counts nothing.
export function totalRss(pids) {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += rssBytes(pid);
    } catch {
      // gone
    }
  }
  return sum;
}

// Descriptors this process may open (the soft limit).
export function descriptorLimit() {
  const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

// Opens `connections` sockets to `port`, each sending a head that declares
// `declared` body bytes (with `headers` added) and `declared - 1` of them.
// Returns { sockets, statuses(), closed(), stalledOrDone(), destroy() }.
export function startAttack(port, { connections, declared = MiB, headers = {} }) {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = Buffer.from(`POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Accept: application/json, text/event-stream\r\n${extra}Content-Length: ${declared}\r\n\r\n`);
  const body = Buffer.alloc(declared - 1, 0x20);	// one buffer, written by every socket
  const sockets = [];
  for (let i = 0; i < connections; i++) {
    const sock = net.connect(port, '127.0.0.1');
    sock.answer = '';
    sock.sentAll = false;
    sock.on('data', (d) => { sock.answer += d.toString('latin1'); });
    sock.on('error', () => {});
    sock.write(head);
    sock.write(body, () => { sock.sentAll = true; });
    sockets.push(sock);
  }
  return {
    sockets,
    // Status codes of the answers received so far, counted: { '401': 12, ... }.
    statuses() {
      const counts = {};
      for (const s of sockets) {
        const m = /^HTTP\/1\.1 (\d{3})/.exec(s.answer);
        if (m) counts[m[1]] = (counts[m[1]] || 0) + 1;
      }
      return counts;
    },
    closed: () => sockets.filter((s) => s.closed).length,
    // Bytes still queued in this process (not taken by the kernel).
    queued: () => sockets.reduce((n, s) => n + (s.closed ? 0 : s.writableLength), 0),
    destroy() {
      for (const s of sockets) s.destroy();
    },
  };
}

// Waits until the attack has gone as far as the server lets it: nothing
// has moved for `quietMs`, neither the bytes this process still has to send
// nor `level()` (the workers' memory: bytes sent may still sit in the
// kernel's buffers, unread).  The sockets have then sent everything, been
// closed, or been stopped (back-pressure).
export async function settle(attack, { level, timeout = 60000, quietMs = 1000 }) {
  let last = '';
  let since = Date.now();
  await waitUntil(() => {
    const now = `${attack.queued()} ${attack.closed()} ${level()}`;
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    return Date.now() - since >= quietMs;
  }, { timeout, what: () => `the attack to settle (queued, closed, level: ${last})` });
}

// Sends `request()` (a fresh client's request, returning {status}) one after
// another until `stop()` is true; returns {statuses, latencies (ms)}.
export async function probeWhile(stop, request) {
  const statuses = [];
  const latencies = [];
  while (!stop()) {
    const started = process.hrtime.bigint();
    const res = await request();
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    statuses.push(res.status);
  }
  return { statuses, latencies };
}
