// The report of the egress benchmark (tests/bench/egress.mjs), on stdout:
// the numbers, the targets (PASS or MISS) and the functional checks.
// Returns the exit code: 1 when a call was answered wrongly, lost, or a
// server died (whatever the speed), and with --strict when a target was missed.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fmt, median } from './report.mjs';
import { UPSTREAM_BODY } from './upstreams.mjs';

const ms = (us) => fmt(us / 1000, 3);
const mib = (kb) => fmt(kb / 1024, 1);
const PING_P99_US = 2000, ADDED_P50_US = 100, PEER_RATIO = 20, INFLIGHT = 10000, INFLIGHT_MIB = 64;

export function report({ started, results, cfg, strict, sides }) {
  const p = [], checks = [];
  const check = (name, ok, value, { functional = false, judged = true } = {}) => checks.push({ name, ok, value, functional, judged });
  const cpuModel = (spawnSync('lscpu', [], { encoding: 'utf8' }).stdout?.match(/^Model name:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model;
  p.push(`mcpd egress benchmark (tools that fetch), ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`);
  p.push(`machine: ${os.cpus().length} CPUs (${cpuModel}), Linux ${os.release()}; servers (mcpd with its egress, the peer, `
    + `the nginx upstream) on CPU ${cfg.serverCpu}, wrk and this runner (the holding upstream, the held calls) on CPU ${cfg.loadCpu}; `
    + `medians of ${cfg.runs} run(s) of ${cfg.duration} s`);
  const ping = results.runs.ping;
  if (ping.length) pingPart(p, check, ping, cfg);
  if (sides.length) fetchPart(p, check, results.runs, cfg, sides);
  if (results.inflight) inflightPart(p, check, results.inflight, cfg);
  p.push('', 'targets:');
  for (const c of checks) p.push(`  ${c.judged ? (c.ok ? 'PASS' : 'MISS') : 'n/a '}  ${c.name}: ${c.value}`);
  console.log(p.join('\n'));
  if (checks.some((c) => c.functional && !c.ok)) {
    console.error('ops/bench: the egress benchmark saw calls answered wrongly, lost, or a server died (see the report)');
    return 1;
  }
  return strict && checks.some((c) => c.judged && !c.ok) ? 1 : 0;
}

function pingPart(p, check, runs, cfg) {
  const m = (phase, k) => median(runs.map((r) => r[phase]?.[k]));
  const held = Math.min(...runs.map((r) => r.held));
  p.push('', `egress-ping: mcpd --workers 1, wrk -t1 -c1 POSTing ping for ${cfg.duration} s, ${cfg.baselines ? 'first with no call waiting, then ' : ''}while `
    + `${fmt(held)} tools/call of http_get (one HTTP/1.1 connection each) wait on an HTTP/2 upstream that holds every request:`);
  p.push('| condition | pings/s | p50 ms | p99 ms | max ms | mcpd CPU | other work |', '|:--|--:|--:|--:|--:|--:|--:|');
  for (const [phase, label] of [['idle', 'no call waiting'], ['busy', `${fmt(held)} calls waiting`]]) {
    if (!runs.some((r) => r[phase])) continue;
    p.push(`| ${label} | ${fmt(m(phase, 'rps'))} | ${ms(m(phase, 'p50_us'))} | ${ms(m(phase, 'p99_us'))} | ${ms(m(phase, 'max_us'))} `
      + `| ${fmt(median(runs.map((r) => r[phase]?.cpu.server.pct)))}% | ${fmt(m(phase, 'otherPct'))}% |`);
  }
  const p99 = m('busy', 'p99_us');
  check(`ping p99 <= 2 ms on one worker while 1,000 calls wait`, p99 <= PING_P99_US && held >= 1000,
    `${ms(p99)} ms with ${fmt(held)} waiting (max ${ms(m('busy', 'max_us'))} ms)`, { judged: held >= 1000 && !cfg.quick });
  const bad = runs.filter((r) => !r.stillWaiting || r.answers.right !== cfg.held || r.busy.errors || r.idle?.errors);
  check('every held call waited through the measurement and was answered right once released', bad.length === 0,
    bad.length ? describeAnswers(bad[0]) : `${runs.length} run(s), ${fmt(cfg.held)} calls each`, { functional: true });
}

function describeAnswers(r) {
  const a = r.answers;
  return `held ${r.held}, still waiting at the end: ${r.stillWaiting}, right ${a.right}, failed ${a.failedCount} `
    + `${[...a.wrong, ...a.failed].join('; ')}`;
}

function fetchPart(p, check, runs, cfg, sides) {
  const up = runs.upstream;
  const m = (xs, f) => median(xs.map(f));
  p.push('', `egress-call / peer-fetch: tools/call of http_get, one GET to nginx (1 worker, a fixed ${UPSTREAM_BODY.length}-byte JSON body, `
    + 'on the servers\' CPU) over a kept-alive local connection; verified bearer token; wrk -t1, '
    + `after a ${cfg.warmup} s warm-up at ${cfg.connections} connections:`);
  p.push(`| server | 1 conn: req/s | p50 ms | p99 ms | ${cfg.connections} conn: req/s | p50 ms | p99 ms | CPU µs/req server | upstream | errors |`,
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  if (up.length) {
    p.push(`| upstream alone (nginx, GET) | ${fmt(m(up, (r) => r.rps))} | ${ms(m(up, (r) => r.p50_us))} | ${ms(m(up, (r) => r.p99_us))} `
      + `| | | | | ${fmt(m(up, (r) => r.cpu.upstream.usPerReq), 1)} | ${up.reduce((a, r) => a + r.errors, 0)} |`);
  }
  const label = { 'egress-call': 'mcpd http_get via the egress', 'peer-fetch': 'SDK peer http_get, fetch' };
  for (const id of sides) {
    const xs = runs[id];
    p.push(`| ${label[id]} | ${fmt(m(xs, (r) => r.one?.rps))} | ${ms(m(xs, (r) => r.one?.p50_us))} | ${ms(m(xs, (r) => r.one?.p99_us))} `
      + `| ${fmt(m(xs, (r) => r.many.rps))} | ${ms(m(xs, (r) => r.many.p50_us))} | ${ms(m(xs, (r) => r.many.p99_us))} `
      + `| ${fmt(m(xs, (r) => r.many.cpu.server.usPerReq), 1)} | ${fmt(m(xs, (r) => r.many.cpu.upstream.usPerReq), 1)} `
      + `| ${xs.reduce((a, r) => a + (r.one?.errors ?? 0) + r.many.errors, 0)} |`);
  }
  p.push('CPU µs/req: at the higher concurrency; server = the whole process tree (mcpd: supervisor, fetcher, worker, egress).');
  // Added latency: per run, the server's p50 at one connection minus the upstream's alone.
  const added = (id) => median(runs[id].map((r, i) => r.one.p50_us - up[i].p50_us));
  if (runs['egress-call'].length && up.length) {
    p.push(`added latency at p50 over the upstream's own (one connection, median of the per-run differences): `
      + `mcpd ${fmt(added('egress-call'))} µs${runs['peer-fetch'].length ? `, SDK peer ${fmt(added('peer-fetch'))} µs` : ''}`);
    check('a call with one upstream request adds <= 100 µs at p50', added('egress-call') <= ADDED_P50_US, `${fmt(added('egress-call'))} µs`,
      { judged: !cfg.quick });
  }
  if (runs['egress-call'].length && runs['peer-fetch'].length) {
    const ratio = m(runs['egress-call'], (r) => r.many.rps) / m(runs['peer-fetch'], (r) => r.many.rps);
    check(`http_get req/s >= 20x the SDK peer's (fetch) at ${cfg.connections} connections`, ratio >= PEER_RATIO, `${fmt(ratio, 1)}x`,
      { judged: !cfg.quick && cfg.connections === 64 });
  }
  for (const id of sides) {
    const bad = runs[id].filter((r) => !r.right || !r.alive || r.one?.errors || r.many.errors);
    check(`${id}: no errors, every answer right and of the right size`, bad.length === 0,
      bad.length ? `${bad.length} run(s) with errors, wrong answers or a dead server` : `${runs[id].length} run(s)`, { functional: true });
  }
}

function inflightPart(p, check, r, cfg) {
  p.push('');
  if (r.skipped) {
    p.push(`egress-inflight: not measured: ${r.skipped}`);
    check(`egress holds ${fmt(INFLIGHT)} requests in flight in under 64 MiB`, false, 'not measured', { judged: false });
    return;
  }
  const grew = r.full.rss - r.idle.rss;
  p.push(`egress-inflight: mcpd --workers ${r.workers}, ${fmt(r.n)} tools/call of http_get (${fmt(cfg.perWorker)} a worker, one `
    + `HTTP/1.1 connection each) held by an HTTP/2 upstream; held after ${fmt(r.heldMs)} ms over ${r.upstreamConnections} upstream `
    + 'connections; the egress process from /proc:');
  p.push('| | in flight | VmRSS MiB | VmHWM MiB | PSS MiB | descriptors |', '|:--|--:|--:|--:|--:|--:|');
  p.push(`| idle, after one call | 0 | ${mib(r.idle.rss)} | ${mib(r.idle.hwm)} | ${mib(r.idle.pss)} | ${r.idle.fds} |`);
  p.push(`| calls held | ${fmt(r.held)} | ${mib(r.full.rss)} | ${mib(r.full.hwm)} | ${mib(r.full.pss)} | ${r.full.fds} |`);
  p.push(`per request in flight: ${fmt((grew * 1024) / Math.max(1, r.held))} bytes of RSS; largest worker VmRSS ${mib(r.workerRss)} MiB`);
  if (r.earlyCount) {
    p.push(`answered at once, not held: ${fmt(r.earlyCount)} (${Object.entries(r.outcomes).map(([o, n]) => `${o} ${fmt(n)}`).join(', ')})`);
  }
  const full = r.n >= INFLIGHT;
  const refused = r.earlyCount ? `; ${fmt(r.earlyCount)} answered at once instead, e.g. ${r.early[0].slice(0, 220)}` : '';
  check(`egress holds ${fmt(INFLIGHT)} requests in flight in under 64 MiB`, r.held >= INFLIGHT && r.full.rss < INFLIGHT_MIB * 1024,
    `${mib(r.full.rss)} MiB RSS (PSS ${mib(r.full.pss)}) with ${fmt(r.held)} of ${fmt(r.n)} in flight${refused}`, { judged: full && !cfg.quick });
  // Answered at once (an in-flight cap, no descriptor left) is the target's business; a call
  // left without an answer, or answered wrongly once released, is a bug.
  const a = r.answers;
  const ok = a.right === r.held && a.failedCount === 0 && a.wrongCount === r.earlyCount;
  check('every call was answered, and each held one right once released', ok,
    ok ? `${fmt(a.right)} right of ${fmt(r.held)} held` : describeAnswers({ ...r, stillWaiting: true }), { functional: true });
}
