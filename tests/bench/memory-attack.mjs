// The unfinished-bodies attack at scale, with numbers: a token-verifying
// mcpd (2 workers) is sent request bodies that are never finished, by 300,
// 1 000 and 3 000 connections, without a token and then with one; printed
// for each: the workers' RSS growth at the peak, a fresh client's latency
// while the attack holds, and the growth left 5 s after the clients close.
// Not part of CI (3 000 connections need the descriptors and a minute).
//
//   node tests/bench/memory-attack.mjs [connections...] [--args="--max-buffered 32MiB"]
//   TEST_MCPD_BIN=path/to/mcpd node tests/bench/memory-attack.mjs 300 1000
import { startMcpd } from '../lib/mcpd.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { CLIENT_ID, mint } from '../lib/tokens.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freshRequest } from '../lib/http.mjs';
import { MiB, descriptorLimit, probeWhile, settle, startAttack, totalRss } from '../lib/body-attack.mjs';

const argv = process.argv.slice(2);
const extra = (argv.find((a) => a.startsWith('--args=')) || '--args=').slice(7).split(' ').filter(Boolean);
const counts = argv.filter((a) => /^\d+$/.test(a)).map(Number);
const mib = (b) => (b / MiB).toFixed(1);
const elapsed = (t) => new Promise((resolve) => { setTimeout(resolve, t); });	// a measurement's delay, not a wait

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function timed(fn) {
  const started = process.hrtime.bigint();
  const res = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.status };
}

async function run(s, connections, headers) {
  const pids = s.workerPids();
  const baseline = totalRss(pids);
  let peak = baseline;
  const level = () => {
    const rss = totalRss(pids);
    peak = Math.max(peak, rss);
    return rss >> 20;
  };
  const attack = startAttack(s.port, { connections, headers });
  let settled = false;
  // The platform's health probe, sent again and again while the attack runs.
  const probing = probeWhile(() => settled, () => freshRequest(s.url, { body: { jsonrpc: '2.0', id: 1, method: 'ping' } }));
  await settle(attack, { level, timeout: 120000 });
  settled = true;
  const probes = await probing;
  const ping = await timed(() => freshRequest(`http://127.0.0.1:${s.port}/ping`, { method: 'GET' }));
  level();
  attack.destroy();
  await elapsed(5000);
  const after = totalRss(pids);
  console.log(`${String(connections).padStart(5)} conns ${headers.authorization ? 'token   ' : 'no token'}: ` +
    `growth ${mib(peak - baseline).padStart(7)} MiB, after close +5 s ${mib(after - baseline).padStart(6)} MiB, ` +
    `${probes.latencies.length} probes during it: median ${quantile(probes.latencies, 0.5).toFixed(1)} ms, ` +
    `max ${Math.max(...probes.latencies).toFixed(1)} ms, ` +
    `statuses ${[...new Set(probes.statuses)].join('/')}; after it GET /ping ${ping.status} in ${ping.ms.toFixed(1)} ms, ` +
    `answers ${JSON.stringify(attack.statuses())}, closed ${attack.closed()}`);
}

const idp = await startIssuer({ keys: 1 });
const s = await startMcpd({
  auth: false,
  args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID, ...extra],
});
try {
  await waitUntil(async () => (await freshRequest(`http://127.0.0.1:${s.port}/ping`, { method: 'GET' })).status === 200,
    { timeout: 20000, what: 'the first key set' });
  const token = mint(idp, { claims: { client_id: CLIENT_ID } });
  for (const n of counts.length ? counts : [300, 1000, 3000]) {
    if (n + 64 > descriptorLimit()) {
      console.log(`${n} conns: skipped, only ${descriptorLimit()} descriptors`);
      continue;
    }
    await run(s, n, {});
    await run(s, n, { authorization: `Bearer ${token}` });
  }
} finally {
  await s.stop();
  await idp.close();
}
