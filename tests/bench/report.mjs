// The benchmark's report: the table of medians, the targets, the ratios and
// what each layer costs, printed on stdout; sets the exit code when mcpd
// failed (and, with --strict, when a target was missed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '-');
const mib = (kb) => fmt(kb / 1024, 1);

export function summarize(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    sockErrors: runs.reduce((a, r) => a + r.sockErrors, 0),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    userUs: median(runs.map((r) => r.userUs)),
    sysUs: median(runs.map((r) => r.sysUs)),
    cpuPct: median(runs.map((r) => r.cpuPct)),
    otherPct: median(runs.map((r) => r.otherPct)),
    wrkPct: median(runs.map((r) => r.wrkPct)),
    retried: runs.reduce((a, r) => a + (r.attempts - 1), 0),
    serverCpuBusy: median(runs.map((r) => r.serverCpuBusy)),
    loadCpuBusy: median(runs.map((r) => r.loadCpuBusy)),
    startupMs: median(runs.map((r) => r.startupMs)),
    hwm: Math.max(...runs.map((r) => r.mem.hwm)),
    workerRss: Math.max(...runs.map((r) => r.mem.workerRss ?? NaN)),
    workerHwm: Math.max(...runs.map((r) => r.mem.workerHwm ?? NaN)),
    procs: Math.max(...runs.map((r) => r.mem.procs)),
    died: runs.some((r) => !r.alive),
    wrongAnswers: runs.some((r) => !r.answersOk),
    all: runs,
  };
}

function table(rows, columns) {
  const cells = rows.map((r) => columns.map((c) => c.get(r)));
  const width = columns.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i].length)));
  const line = (vals) => `| ${vals.map((v, i) => (columns[i].left ? v.padEnd(width[i]) : v.padStart(width[i]))).join(' | ')} |`;
  return [line(columns.map((c) => c.head)),
    `|${columns.map((c, i) => (c.left ? ':' : '-') + '-'.repeat(width[i]) + (c.left ? '-' : ':')).join('|')}|`,
    ...cells.map(line)].join('\n');
}

export function report({ started, results, syscalls, batch, ctx, cfg, scenarios, BATCH, strict }) {
  const S = new Map([...results].map(([id, runs]) => [id, summarize(runs)]));
  const cpuModel = (sh('lscpu', []).match(/^Model name:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model || '?';
  const nginxVersion = (spawnSync(ctx.nginx, ['-v'], { encoding: 'utf8' }).stderr || '').trim().replace(/^nginx version: /, '');
  const wrkVersion = (sh('wrk', ['-v']) || spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stderr || '').split('\n')[0].split(' [')[0];
  const mcpdVersion = cfg.mcpd && fs.existsSync(cfg.mcpd) ? sh(cfg.mcpd, ['--version']) : '-';
  const p = [];
  p.push(`mcpd benchmark, ${started.toISOString().replace(/\.\d+Z$/, 'Z')}`);
  p.push(`machine: ${os.cpus().length} CPUs (${cpuModel}), ${fmt(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}`);
  p.push(`versions: ${mcpdVersion} (${path.relative(repo, cfg.mcpd) || cfg.mcpd}), node ${process.version}, `
    + `@modelcontextprotocol/sdk ${pkgVersion('@modelcontextprotocol/sdk')}, jose ${pkgVersion('jose')}, ${nginxVersion}, ${wrkVersion}`);
  p.push(`load: wrk -t${cfg.threads} -c${cfg.connections} -d${cfg.duration}s on CPU ${cfg.loadCpu}, after a ${cfg.warmup} s warm-up; `
    + `every server on CPU ${cfg.serverCpu} (mcpd --workers ${cfg.workers}, one node process, nginx worker_processes 1)`
    + `${cfg.nice ? `; servers and wrk at nice ${cfg.nice}` : ''}`);
  p.push(`request: POST /mcp tools/call ${cfg.tool} {a:5,b:3}, MCP-Protocol-Version 2025-06-18, Bearer RS256 token; `
    + `fresh = ${fmt(cfg.tokens)} distinct tokens cycled, each back only after ${fmt(cfg.tokens - 1)} others`);
  p.push(`medians of ${cfg.runs} run(s) per scenario, scenarios interleaved; non-2xx and errors are totals over all runs; `
    + `other work kept the CPUs ${fmt(ctx.busyBefore)}% busy just before the run`);
  p.push('');
  const cols = [
    { head: 'scenario', left: true, get: (r) => r.label },
    { head: 'req/s', get: (r) => fmt(r.s.rps) },
    { head: 'p50 ms', get: (r) => fmt(r.s.p50, 2) },
    { head: 'p99 ms', get: (r) => fmt(r.s.p99, 2) },
    { head: 'non-2xx', get: (r) => String(r.s.non2xx) },
    { head: 'errors', get: (r) => String(r.s.sockErrors) },
    { head: 'server CPU', get: (r) => `${fmt(r.s.cpuPct)}%` },
    { head: 'wrk CPU', get: (r) => `${fmt(r.s.wrkPct)}%` },
    { head: 'other work', get: (r) => `${fmt(r.s.otherPct)}%` },
    { head: 'CPU µs/req (user+sys)', get: (r) => `${fmt(r.s.cpuUs, 1)} (${fmt(r.s.userUs, 1)}+${fmt(r.s.sysUs, 1)})` },
    { head: 'peak RSS MiB (procs)', get: (r) => `${mib(r.s.hwm)} (${r.s.procs})` },
    { head: 'start-up ms', get: (r) => fmt(r.s.startupMs, 1) },
  ];
  p.push(table(scenarios.map((s) => ({ label: s.label, s: S.get(s.id) })), cols));
  p.push('');
  p.push('peak RSS: sum of VmHWM over the server\'s process tree after the load (mcpd: supervisor, fetcher, workers; nginx: master, worker).');
  p.push(`server CPU, wrk CPU: share of one CPU (near 100%: that side was the bottleneck). other work: CPU time of everything else`);
  p.push(`  on the machine during the run, as a share of one CPU;`);
  p.push(`  a run with more than ${cfg.maxOther}% was repeated (up to ${cfg.retries} times, the least disturbed attempt counts; ${totalRetries(S)} repeats in all).`);
  p.push('CPU µs/req: CPU time of that tree during the measured run divided by the requests served (user space + kernel).');
  p.push('start-up: from spawning the server to its first 200 on tools/call with the right result.');

  const m = S.get('mcpd'), peer = S.get('peer'), ceil = S.get('ceiling');
  const checks = [];
  // A functional check (errors, wrong answers) fails the run always; speed targets only with --strict.
  const check = (name, ok, value, { functional = false } = {}) => checks.push({ name, ok, value, functional });
  if (m) {
    if (peer) check('mcpd req/s >= 10x the peer\'s (verified token)', m.rps >= 10 * peer.rps, `${fmt(m.rps / peer.rps, 1)}x`);
    if (ceil) check('mcpd req/s >= 70% of the ceiling\'s', m.rps >= 0.7 * ceil.rps, `${fmt((100 * m.rps) / ceil.rps, 1)}%`);
    if (cfg.connections === 64) check('mcpd p99 < 2 ms at 64 connections', m.p99 < 2, `${fmt(m.p99, 2)} ms`);
    else check(`mcpd p99 < 2 ms (measured at ${cfg.connections} connections, target is at 64)`, m.p99 < 2, `${fmt(m.p99, 2)} ms`);
    check('mcpd RSS per worker after the load < 8 MiB', m.workerRss < 8 * 1024, `${mib(m.workerRss)} MiB (peak ${mib(m.workerHwm)})`);
    check('mcpd start-up to first served call < 50 ms', m.startupMs < 50, `${fmt(m.startupMs, 1)} ms`);
  }
  if (batch) {
    check(`mcpd answers ${fmt(BATCH.large)} pings in a batch within ${BATCH.limit}x the time of ${fmt(BATCH.small)}`,
      !batch.error && batch.ratio <= BATCH.limit, batch.error ?? `${fmt(batch.ratio, 1)}x`, { functional: true });
  }
  const mcpdIds = scenarios.filter((s) => s.kind === 'mcpd').map((s) => s.id);
  if (mcpdIds.length) {
    const bad = mcpdIds.reduce((a, id) => a + S.get(id).non2xx + S.get(id).sockErrors, 0);
    const died = mcpdIds.some((id) => S.get(id).died);
    const wrong = mcpdIds.some((id) => S.get(id).wrongAnswers);
    check('no non-2xx, no errors, only right answers from mcpd under load', bad === 0 && !died && !wrong,
      `${bad} non-2xx or errors${died ? ', a server died' : ''}${wrong ? ', wrong or odd-sized answers' : ', every response the right size'}`,
      { functional: true });
  }
  if (checks.length) {
    p.push('');
    p.push('targets (mcpd, verified token, default --log-level info):');
    for (const c of checks) p.push(`  ${c.ok ? 'PASS' : 'MISS'}  ${c.name}: ${c.value}`);
  }
  if (m && (peer || ceil)) {
    p.push('');
    p.push('ratios (req/s):');
    if (peer) p.push(`  mcpd / peer:    ${fmt(m.rps / peer.rps, 1)}x   (start-up ${fmt(peer.startupMs / m.startupMs, 1)}x faster, peak RSS ${fmt(peer.hwm / m.hwm, 1)}x smaller)`);
    if (ceil) p.push(`  mcpd / ceiling: ${fmt((100 * m.rps) / ceil.rps, 1)}%   (CPU per request: ${fmt(m.cpuUs / ceil.cpuUs, 2)}x nginx's)`);
    for (const [id, what] of [['mcpd-fresh', 'fresh tokens'], ['mcpd-noauth', 'auth none']]) {
      const x = S.get(id), pp = S.get(id.replace('mcpd', 'peer'));
      if (x && pp) p.push(`  mcpd / peer, ${what}: ${fmt(x.rps / pp.rps, 1)}x`);
    }
  }
  // What each layer costs, in server CPU time per request.
  // Paired within each run (the two scenarios ran minutes apart at most), then the median.
  const layer = (a, b) => {
    const ra = results.get(a), rb = results.get(b);
    return ra && rb ? median(ra.map((r, i) => r.cpuUs - rb[i].cpuUs)) : NaN;
  };
  const lines = [];
  if (ceil) lines.push(`  HTTP/1.1 keep-alive, fixed answer (nginx):       ${fmt(ceil.cpuUs, 1)} µs`);
  if (S.get('mcpd-noauth')) lines.push(`  mcpd, whole request without auth:               ${fmt(S.get('mcpd-noauth').cpuUs, 1)} µs`);
  if (S.get('mcpd-noauth') && m) lines.push(`  + bearer token, verified and cached:            ${fmt(layer('mcpd', 'mcpd-noauth'), 1)} µs`);
  if (S.get('mcpd-fresh') && m) lines.push(`  + full RS256 verification (fresh token):        ${fmt(layer('mcpd-fresh', 'mcpd'), 1)} µs`);
  if (S.get('mcpd-quiet') && m) lines.push(`  of which the request log line (info vs warn):   ${fmt(layer('mcpd', 'mcpd-quiet'), 1)} µs`);
  if (S.get('mcpd-limits') && m) lines.push(`  + per-client limits (rate and in-flight cap):   ${fmt(layer('mcpd-limits', 'mcpd'), 2)} µs`);
  if (S.get('mcpd-compare') && m) lines.push(`  this build vs --compare ${path.relative(repo, cfg.compare) || cfg.compare}: ${fmt(layer('mcpd', 'mcpd-compare'), 2)} µs (${fmt(m.cpuUs, 2)} vs ${fmt(S.get('mcpd-compare').cpuUs, 2)})`);
  if (S.get('peer-noauth')) lines.push(`  SDK peer, whole request without auth:           ${fmt(S.get('peer-noauth').cpuUs, 1)} µs`);
  if (S.get('peer-noauth') && peer) lines.push(`  + bearer token verified with jose:              ${fmt(layer('peer', 'peer-noauth'), 1)} µs`);
  if (lines.length) {
    p.push('');
    p.push('cost of each layer (server CPU time per request; a difference is the median of the per-run differences):');
    p.push(...lines);
  }
  if (batch) {
    p.push('');
    p.push(`batch scaling (one 2025-03-26 JSON-RPC batch of pings POSTed on a fresh connection; best of ${batch.rounds} `
      + 'round(s) after a warm-up; worker CPU from schedstat, wall time to the whole answer):');
    for (const i of [0, 1]) {
      p.push(`  ${fmt(i ? BATCH.large : BATCH.small).padStart(6)} pings (${fmt(batch.bytes[i] / 1024, 1).padStart(5)} KiB): `
        + `worker CPU ${fmt(batch.cpu[i], 2).padStart(6)} ms, wall ${fmt(batch.wall[i], 2).padStart(6)} ms`);
    }
    p.push(`  ratio of worker CPU ${fmt(batch.ratio, 1)} (limit ${BATCH.limit}: linear is about 10, quadratic about 100)`
      + `${batch.error ? `; ${batch.error}` : ''}`);
  }
  for (const sc of syscalls) {
    p.push('');
    p.push(`system calls per request, ${sc.scenario.label} (strace -c -f on the worker, ${fmt(sc.requests)} requests at 16 connections): `
      + `${fmt(sc.total / sc.requests, 2)}`);
    p.push(`  ${sc.rows.slice(0, 8).map((r) => `${r.name} ${fmt(r.calls / sc.requests, 2)}`).join(', ')}`);
  }
  console.log(p.join('\n'));
  const missed = checks.filter((c) => !c.ok).length;
  if (missed && strict) process.exitCode = 1;
  if (checks.some((c) => c.functional && !c.ok)) {
    console.error('ops/bench: mcpd failed requests, answered wrongly or a batch cost more than linear time (see the report)');
    process.exitCode = 1;
  }
}

function totalRetries(S) {
  return [...S.values()].reduce((a, s) => a + s.retried, 0);
}

function pkgVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}
