// How mcpd's workers share connections, read from the kernel: which process
// holds each established connection to the server's port (/proc/net/tcp and
// each process's fds), independent of mcpd's own accounting.
import fs from 'node:fs';
import http from 'node:http';

const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
const ESTABLISHED = '01';

// socket inodes of established TCP connections whose local port is `port`.
function establishedInodes(port) {
  const out = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== ESTABLISHED) continue;
      if (parseInt(f[1].split(':')[1], 16) === port) out.add(f[9]);
    }
  }
  return out;
}

function socketInodesOf(pid) {
  const out = [];
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (m) out.push(m[1]);
      } catch { /* closed meanwhile */ }
    }
  } catch { /* gone */ }
  return out;
}

/** The number of connections to `port` each of `pids` holds, in pid order. */
export function connectionsPerProcess(pids, port) {
  const inodes = establishedInodes(port);
  return pids.map((pid) => socketInodesOf(pid).filter((i) => inodes.has(i)).length);
}

/**
 * Opens `n` keep-alive connections at once and sends one public ping on each;
 * resolves once every one was answered (so every one was accepted by a
 * worker) with a function that closes them all.
 */
export async function openBurst(port, n, timeoutMs = 10000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n, timeout: timeoutMs });
  const one = () => new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/mcp', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PING) },
      timeout: timeoutMs,
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`ping answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(PING);
  });
  try {
    await Promise.all(Array.from({ length: n }, one));
  } catch (e) {
    agent.destroy();
    throw e;
  }
  return () => agent.destroy();
}

/** max/min of a list of counts (Infinity when a count is 0). */
export const imbalance = (counts) => Math.max(...counts) / Math.min(...counts);
