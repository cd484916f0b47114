// What the fault tests (tests/integration/50-chaos*, 51-chaos*) share: mcpd
// verifying the tokens of a test issuer, a tools/call with a token (of the
// test tool sum: a -DMCPD_TEST_TOOLS build), and what /proc says about its
// processes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startMcpd, mcpdBinary } from './mcpd.mjs';
import { waitUntil } from './wait.mjs';
import { post, rpc, ACCEPT_BOTH } from './http.mjs';
import { startIssuer, makeKey } from './oidc.mjs';
import { CLIENT_ID, mint } from './tokens.mjs';

export const PROTOCOL = '2025-11-25';
export const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'MCP-Protocol-Version': PROTOCOL };
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

// An issuer and an mcpd verifying its tokens, with the first key set published.
export async function startVerifying({ workers = 2, args = [], env = {}, idp } = {}) {
  idp ??= await startIssuer({ keys: 1 });
  const server = await startMcpd({
    workers,
    auth: false,
    env,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID,
      '--jwks-refresh-min', '1', ...args],
  });
  server.requests = tallyRequests(server);
  await server.waitForLog((l) => l.event === 'jwks_published', 20000, 'the first key set');
  await waitUntil(async () => (await fetch(`${server.origin}/ping`)).status === 200, { timeout: 10000, what: '/ping 200' });
  return { idp, server };
}

// Request log lines are counted (by status) instead of kept: a load test logs
// hundreds of thousands, and the log helpers scan what is kept.
function tallyRequests(server) {
  const tally = { total: 0, statuses: {}, byPid: {} };
  const push = server.logs.push.bind(server.logs);
  server.logs.push = (line) => {
    if (line.event !== 'request') return push(line);
    tally.total++;
    tally.statuses[line.status] = (tally.statuses[line.status] || 0) + 1;
    tally.byPid[line.pid] = (tally.byPid[line.pid] || 0) + 1;
    return server.logs.length;
  };
  return tally;
}

// Resolves with the first log line from index `mark` on that satisfies pred.
export function waitForLogAfter(server, mark, pred, timeoutMs, what) {
  return server.waitForLog((l) => pred(l) && server.logs.indexOf(l) >= mark, timeoutMs, what);
}

export function toolCallRequest(token, id = 1) {
  return {
    headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}` },
    body: rpc(id, 'tools/call', { name: 'sum', arguments: { a: id, b: 2 } }),
  };
}

// One tools/call with `token`; returns the status (and checks the sum on 200).
export async function callWith(server, token, id = 7) {
  const res = await post(server.url, rpc(id, 'tools/call', { name: 'sum', arguments: { a: id, b: 2 } }),
    { 'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${token}` });
  if (res.status === 200) assert.equal(res.json?.result?.structuredContent?.result, id + 2, res.text);
  return res;
}

// A token signed by a key nobody publishes, with a kid nobody knows: a worker
// that meets it asks the fetcher for a refresh.  The key is made once (RSA key
// generation blocks this process, and with it the test issuer).
let strayKey;
let strayCount = 0;
export function unknownKidToken(idp) {
  strayKey ??= makeKey({ kid: 'stray' });
  return mint(idp, { key: strayKey, kid: `unknown-${process.pid}-${++strayCount}` });
}

function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => l.split(/:\s+/, 2)));
}

export function rssKiB(pid) {
  return Number(procStatus(pid).VmRSS.split(' ')[0]);
}

export function isAlive(pid) {
  try {
    return procStatus(pid).State[0] !== 'Z';
  } catch {
    return false;
  }
}

// A process's sockets ("socket:[inode]"), in the order of their fd numbers
// (readdir sorts them as text: "11" before "4").
function socketsOf(pid) {
  const out = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:')) out.push(target);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

// The AF_UNIX sockets of the machine, as "socket:[inode]": a worker's link to
// the supervisor is one, a client connection never is.
function unixSockets() {
  const lines = fs.readFileSync('/proc/net/unix', 'utf8').trim().split('\n').slice(1);
  return new Set(lines.map((l) => `socket:[${l.trim().split(/\s+/)[6]}]`));
}

// Client connections a worker holds now: its TCP sockets but the shared listener.
export function connectionsOf(pid, listener) {
  const local = unixSockets();
  return socketsOf(pid).filter((s) => s !== listener && !local.has(s)).length;
}

export function listenerOf(server) {
  const [listener] = socketsOf(server.pid);
  assert.ok(listener, 'the supervisor holds the listener');
  return listener;
}

export const pace = (at) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()))); // paced loop step

// Workers, the fetcher and the egress that exited other than by the SIGKILLs tests send, or cleanly.
export function crashes(server) {
  return server.logs.filter((l) => ['worker_exited', 'fetcher_exited', 'egress_exited'].includes(l.event) &&
    l.exit_code !== 0 && l.signal !== 9);
}

export const isAsan = (() => {
  try {
    return fs.readFileSync(mcpdBinary).includes('__asan_init');
  } catch {
    return false;
  }
})();
