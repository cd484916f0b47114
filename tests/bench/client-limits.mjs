// How exactly --client-rate-limit holds across workers: one client's pings
// sent as fast as mcpd answers them, over several connections that land on
// different workers, and the rate mcpd allowed, from its own counters
// between two scrapes once the client's bucket is empty.  Prints one row
// per run and the worst error; exits 1 when a run is off by more than
// --tolerance percent (5 unless given).
//
//   node tests/bench/client-limits.mjs [--mcpd PATH] [--workers 4] [--rates 100,500,2000]
//        [--burst N (default RATE/10)] [--seconds 5] [--runs 3] [--connections 8] [--tolerance 5]
import { parseArgs } from 'node:util';
import os from 'node:os';
import { startMcpd } from '../lib/mcpd.mjs';
import { freePort } from '../lib/ports.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { CLIENT_ID, mint } from '../lib/tokens.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { measureAllowedRate } from '../lib/limits.mjs';

const { values: opt } = parseArgs({
  options: {
    mcpd: { type: 'string' }, workers: { type: 'string', default: '4' },
    rates: { type: 'string', default: '100,500,2000' }, burst: { type: 'string' },
    seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' },
    connections: { type: 'string', default: '8' }, tolerance: { type: 'string', default: '5' },
  },
});
if (opt.mcpd) process.env.TEST_MCPD_BIN = opt.mcpd;

// A tenth of a second of requests unless --burst says: a client whose connections all stall
// longer than the burst lasts (the scheduler on a busy machine) loses what it did not ask for.
const burstOf = (rate) => (opt.burst ? Number(opt.burst) : Math.max(10, Math.round(rate / 10)));

async function measureAt(idp, rate) {
  const metricsPort = await freePort();
  const server = await startMcpd({
    workers: Number(opt.workers),
    auth: false,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID,
      '--client-rate-limit', `${rate}:${burstOf(rate)}`, '--client-limit-key', 'sub', '--log-level', 'warn',
      '--metrics-listen', `127.0.0.1:${metricsPort}`],
  });
  try {
    await waitUntil(async () => (await fetch(`${server.origin}/ping`)).status === 200, { timeout: 20000, what: 'the first key set' });
    const rows = [];
    for (let run = 0; run < Number(opt.runs); run++) {
      // A client (sub) of its own each run, so that each starts with a full bucket.
      const token = mint(idp, { claims: { sub: `bench-${rate}-${run}` } });
      const m = await measureAllowedRate({ url: server.url, metricsPort, token,
        connections: Number(opt.connections), requests: Math.round(rate * Number(opt.seconds)),
        timeoutMs: 1000 * (Number(opt.seconds) * 4 + 10) });
      rows.push({ limit: rate, run: run + 1, measured: m.rate, allowed: m.allowed, seconds: m.seconds, refused: m.refused });
    }
    return rows;
  } finally {
    await server.stop();
  }
}

const idp = await startIssuer({ keys: 1 });
const rows = [];
try {
  for (const rate of opt.rates.split(',').map(Number)) rows.push(...(await measureAt(idp, rate)));
} finally {
  await idp.close();
}

console.log(`mcpd --workers ${opt.workers}, --client-rate-limit RATE:${opt.burst ?? 'RATE/10'}, ${opt.connections} connections of one client, `
  + `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('limit/s  run  window s  allowed  measured/s   error  refused');
let worst = 0;
for (const r of rows) {
  const error = (100 * (r.measured - r.limit)) / r.limit;
  worst = Math.max(worst, Math.abs(error));
  console.log(`${String(r.limit).padStart(7)}  ${String(r.run).padStart(3)}  ${r.seconds.toFixed(3).padStart(8)}  `
    + `${String(r.allowed).padStart(7)}  ${r.measured.toFixed(1).padStart(10)}  ${error.toFixed(2).padStart(6)}%  ${r.refused}`);
}
console.log(`worst error: ${worst.toFixed(2)}% (tolerance ${opt.tolerance}%)`);
process.exitCode = worst <= Number(opt.tolerance) ? 0 : 1;
