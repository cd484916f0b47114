// The benchmark of tools that fetch through the egress process, behind
// ops/bench (scenarios egress-ping, egress-call, peer-fetch, egress-inflight).
// The tool is the test tool http_get (tests/tools/http_get.c), which the
// operator's --egress-allow lets reach a local upstream:
//
//   egress-ping      one worker answering ping (wrk, one connection) with no
//                    call waiting, then while N calls (1,000) wait on an
//                    upstream that holds every request: p50, p99, max.
//   egress-call      tools/call of http_get, one GET to nginx on a kept-alive
//                    local connection: latency at one connection, against the
//                    same GET sent to nginx alone by the same wrk (the
//                    difference is what mcpd adds), and req/s at 64.
//   peer-fetch       the same tool on the SDK peer (peer-server.mjs
//                    --fetch-allow: the runtime's fetch), side by side.
//   egress-inflight  W workers (10) with P calls each (1,000) held by the
//                    upstream: the egress process's RSS and PSS from /proc.
//
// egress-report.mjs prints the results; held.mjs holds the calls, and
// upstreams.mjs has the holding upstream (HTTP/2 over TLS, in this process)
// and nginx.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, waitExit } from './procs.mjs';
import { createIssuer, mintToken } from './issuer.mjs';
import { postOnce } from './call.mjs';
import { CLK_TCK, cpuBusy, cpuList, cpuTicksSplit, mcpdWorkers, selfTicks, statusKb, treePids } from './procfs.mjs';
import { holdCalls } from './held.mjs';
import { UPSTREAM_BODY, nginxUpstream, startHolder } from './upstreams.mjs';
import { report } from './egress-report.mjs';
import { makeCerts } from '../lib/upstream.mjs';
import { waitUntil } from '../lib/wait.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
export const IDS = ['egress-ping', 'egress-call', 'peer-fetch', 'egress-inflight'];

let opt;
try {
  ({ values: opt } = parseArgs({
    options: {
      mcpd: { type: 'string', default: path.join(repo, 'build-bench/mcpd') },
      only: { type: 'string', default: IDS.join(',') },
      quick: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string', default: '64' },
      held: { type: 'string' },
      'inflight-workers': { type: 'string' },
      'inflight-per-worker': { type: 'string' },
      'server-cpu': { type: 'string', default: '0' },
      'load-cpu': { type: 'string', default: '1' },
      nice: { type: 'string', default: '0' },
      retries: { type: 'string' },
      'max-other': { type: 'string', default: '10' },
    },
    strict: true,
  }));
} catch (e) {
  console.error(`ops/bench: ${e.message}`);
  process.exit(2);
}

function int(name, value, min, max) {
  if (!/^-?\d+$/.test(String(value)) || Number(value) < min || Number(value) > max) {
    console.error(`ops/bench: --${name} '${value}' is not an integer in ${min}..${max}`);
    process.exit(2);
  }
  return Number(value);
}

// --quick is a smoke: every path runs, at a scale a CI machine holds in a few seconds,
// without the phases that only give a number (ping with nothing waiting, one connection, nginx alone).
const cfg = {
  mcpd: path.resolve(opt.mcpd),
  only: opt.only.split(','),
  runs: int('runs', opt.runs ?? (opt.quick ? 1 : 3), 1, 50),
  duration: int('duration', opt.duration ?? (opt.quick ? 1 : 10), 1, 600),
  warmup: int('warmup', opt.warmup ?? (opt.quick ? 0 : 2), 0, 600),
  connections: int('connections', opt.connections, 1, 10000),
  held: int('held', opt.held ?? (opt.quick ? 200 : 1000), 1, 1024),
  inflightWorkers: int('inflight-workers', opt['inflight-workers'] ?? (opt.quick ? 2 : 10), 1, 256),
  perWorker: int('inflight-per-worker', opt['inflight-per-worker'] ?? (opt.quick ? 250 : 1000), 1, 1024),
  nice: int('nice', opt.nice, -20, 19),
  // A smoke judges no speed: a disturbed run is not repeated.
  retries: int('retries', opt.retries ?? (opt.quick ? 0 : 2), 0, 20),
  maxOther: int('max-other', opt['max-other'], 0, 200),
  serverCpu: opt['server-cpu'],
  loadCpu: opt['load-cpu'],
  quick: opt.quick,
  baselines: !opt.quick,
};
for (const id of cfg.only) {
  if (!IDS.includes(id)) {
    console.error(`ops/bench: no egress scenario '${id}' (${IDS.join(', ')})`);
    process.exit(2);
  }
}
if (!fs.existsSync(cfg.mcpd)) {
  console.error(`ops/bench: no mcpd binary at ${cfg.mcpd}`);
  process.exit(2);
}

const log = (...a) => console.error('ops/bench:', ...a);
const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
const callBody = (url, extra = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'http_get', arguments: { url, ...extra } } });

// Children alive now: stopped if ops/bench is interrupted.
const live = new Set();
function track(proc) {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    for (const p of live) try { p.kill('SIGTERM'); } catch { /* gone */ }
    console.error(`ops/bench: interrupted (${sig})`);
    process.exit(130);
  });
}

function pinned(cpus, argv) {
  const nice = cfg.nice !== 0 ? ['nice', '-n', String(cfg.nice)] : [];
  return ['taskset', ['-c', cpus, ...nice, ...argv]];
}

// The soft limit on this process's descriptors (each held call is one).
function openFilesLimit() {
  const m = fs.readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\d+|unlimited)/m);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

// ---------------------------------------------------------------- servers

async function stop(server) {
  const { proc } = server;
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  if (!(await waitExit(proc, 15000))) {
    log(`${server.id}: no exit 15 s after SIGTERM; killing`);
    for (const p of treePids(proc.pid).reverse()) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    await waitExit(proc, 5000);
  }
  const stderr = fs.readFileSync(server.errFile, 'utf8');
  if (/AddressSanitizer|runtime error:|Segmentation/.test(stderr)) log(`${server.id} stderr:\n${stderr}`);
}

// mcpd or the peer on the server CPU, once it answers ping. stdout: a file
// (for the egress's pid) or /dev/null (request lines under load).
async function startServer(ctx, { id, kind, workers = 1, allow, ca, stdoutFile }) {
  const port = await freePort();
  const errFile = path.join(ctx.dir, `${id}.stderr`);
  let argv;
  if (kind === 'mcpd') {
    argv = [cfg.mcpd, '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers), '--log-level', 'info',
      '--discovery-url', ctx.issuer.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', ctx.issuer.clientId,
      '--egress-allow', allow, ...(ca ? ['--egress-ca-file', ca] : [])];
  } else {
    argv = [process.execPath, path.join(here, 'peer-server.mjs'), '--host', '127.0.0.1', '--port', String(port),
      '--issuer-dir', ctx.issuer.dir, '--fetch-allow', allow];
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MCPD_')));
  const out = fs.openSync(stdoutFile ?? '/dev/null', 'w');
  const err = fs.openSync(errFile, 'w');
  const proc = track(spawn(...pinned(cfg.serverCpu, argv), { env, stdio: ['ignore', out, err] }));
  fs.closeSync(out);
  fs.closeSync(err);
  const server = { id, proc, port, errFile, stdoutFile };
  try {
    await waitUntil(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${id} exited before answering`);
      return (await postOnce(port, ctx.token, PING).catch(() => null))?.status === 200;
    }, { timeout: 20000, every: 5, what: `${id} to answer ping` });
  } catch (e) {
    await stop(server);
    throw new Error(`${e.message}\n${fs.readFileSync(errFile, 'utf8').slice(-2000)}`);
  }
  return server;
}

// Is this a right answer to http_get of a URL answering UPSTREAM_BODY?
export function fetchedRight(r) {
  try {
    const m = JSON.parse(r.body);
    const s = m.result?.structuredContent;
    return r.status === 200 && !m.result.isError && s.status === 200 && s.body === UPSTREAM_BODY
      && s.length === UPSTREAM_BODY.length && JSON.parse(m.result.content[0].text).body === UPSTREAM_BODY;
  } catch {
    return false;
  }
}

// The outcome a tool error names ("http_get: connect_failed: ..."), or the HTTP status.
function outcomeOf(a) {
  try {
    const text = JSON.parse(a.body).result.content[0].text;
    return text.match(/^http_get: ([a-z_]+):/)?.[1] ?? text.slice(0, 40);
  } catch {
    return `HTTP ${a.status}`;
  }
}

async function callRight(server, ctx, url) {
  const r = await postOnce(server.port, ctx.token, callBody(url), { timeoutMs: 10000 });
  if (!fetchedRight(r)) throw new Error(`${server.id}: wrong answer to http_get ${url}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return r;
}

// ---------------------------------------------------------------- load

let tokenFile = '';

function runWrk(port, { seconds, connections, body, get = false }) {
  return new Promise((resolve, reject) => {
    const argv = ['wrk', '-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s',
      '-s', path.join(here, 'wrk/mcp-call.lua'), `http://127.0.0.1:${port}`];
    const env = { ...process.env, BENCH_TOKENS: get ? '' : tokenFile, BENCH_BODY: body ?? '', BENCH_PATH: get ? '/' : '/mcp',
      BENCH_METHOD: get ? 'GET' : 'POST' };
    const p = track(spawn(...pinned(cfg.loadCpu, argv), { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      const m = out.match(/^BENCH_RESULT (.*)$/m);
      if (code !== 0 || !m) return reject(new Error(`wrk failed (exit ${code}): ${err}${out}`));
      resolve(JSON.parse(m[1]));
    });
  });
}

// One measured load: wrk's result, the CPU of each group of processes, and
// the other work on the machine meanwhile (a share of one CPU). Repeated when
// other work passed --max-other, --retries times at most; the least
// disturbed attempt counts.
async function measured(ctx, what, groups, load) {
  let best;
  for (let attempt = 1; attempt <= 1 + cfg.retries; attempt++) {
    const pids = Object.fromEntries(Object.entries(groups).map(([k, f]) => [k, f()]));
    const before = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuTicksSplit(p)]));
    const self0 = selfTicks(), all0 = cpuBusy(ctx.allCpus);
    const w = await load();
    const self1 = selfTicks(), all1 = cpuBusy(ctx.allCpus);
    const seconds = w.duration_us / 1e6;
    const cpu = {};
    let ours = (self1.children - self0.children) + (self1.own - self0.own);
    for (const [k, p] of Object.entries(pids)) {
      const a = cpuTicksSplit(p), b = before[k];
      const ticks = a.user + a.sys - b.user - b.sys;
      ours += ticks;
      cpu[k] = { pct: (100 * ticks) / CLK_TCK / seconds, usPerReq: w.requests ? (ticks / CLK_TCK * 1e6) / w.requests : NaN };
    }
    const otherPct = (100 * Math.max(0, all1.busy - all0.busy - ours)) / CLK_TCK / seconds;
    const r = { ...w, rps: w.requests / seconds, cpu, otherPct, attempts: attempt,
      errors: w.errors_connect + w.errors_read + w.errors_write + w.errors_timeout + w.errors_status };
    log(`${what}: ${Math.round(r.rps)} req/s  p50 ${w.p50_us} µs  p99 ${w.p99_us} µs  max ${w.max_us} µs  errors ${r.errors}  `
      + `other work ${Math.round(otherPct)}%`);
    if (!best || r.otherPct < best.otherPct) best = r;
    if (otherPct <= cfg.maxOther) break;
    if (attempt <= cfg.retries) log(`  other work took ${Math.round(otherPct)}% of a CPU (> ${cfg.maxOther}%): repeating`);
  }
  return best;
}

// ---------------------------------------------------------------- egress-ping

async function pingWhileWaiting(ctx, run) {
  const server = await startServer(ctx, { id: 'egress-ping', kind: 'mcpd', allow: `127.0.0.1:${ctx.holder.port}`, ca: ctx.certs.ca });
  const out = { held: 0, wrong: [] };
  let calls;
  try {
    await callRight(server, ctx, `${ctx.holderUrl}/now`);
    const groups = { server: () => treePids(server.proc.pid) };
    const ping = () => runWrk(server.port, { seconds: cfg.duration, connections: 1, body: PING });
    if (cfg.baselines) out.idle = await measured(ctx, `run ${run} egress-ping, no call waiting`, groups, ping);
    calls = await holdCalls(server.port, ctx.token, callBody(`${ctx.holderUrl}/hold`, { timeout_ms: 300000 }), cfg.held);
    await waitUntil(() => ctx.holder.held.length + calls.answered().length + calls.failed().length >= cfg.held,
      { timeout: 60000, what: () => `${cfg.held} calls held by the upstream (${ctx.holder.held.length} so far)` });
    out.held = ctx.holder.held.length;
    out.busy = await measured(ctx, `run ${run} egress-ping, ${out.held} calls waiting`, groups, ping);
    // The calls waited through the whole measurement.
    out.stillWaiting = ctx.holder.held.length === cfg.held && calls.answered().length === 0 && calls.failed().length === 0;
    out.answers = await release(ctx, calls, cfg.held);
  } finally {
    calls?.close();
    await stop(server);
  }
  return out;
}

// Lets the upstream answer every held request; resolves with how the calls
// were answered ({right, wrong: first few, failed}).
async function release(ctx, calls, n) {
  ctx.holder.release();
  await waitUntil(() => calls.answered().length + calls.failed().length >= n,
    { timeout: 60000, what: () => `the ${n} calls' answers after the release (${calls.answered().length} so far)` });
  const answers = calls.answered();
  const right = answers.filter(fetchedRight).length;
  return { right, wrongCount: answers.length - right, wrong: answers.filter((a) => !fetchedRight(a)).slice(0, 3).map((a) => `HTTP ${a.status} ${a.body.slice(0, 200)}`),
    failed: calls.failed().slice(0, 3), failedCount: calls.failed().length };
}

// ---------------------------------------------------------------- egress-call, peer-fetch

async function fetchSide(ctx, id, run) {
  const kind = id === 'peer-fetch' ? 'peer' : 'mcpd';
  const server = await startServer(ctx, { id, kind, allow: `127.0.0.1:${ctx.upstream.port}` });
  try {
    const check0 = await callRight(server, ctx, ctx.upstream.url);
    const body = callBody(ctx.upstream.url);
    const groups = { server: () => treePids(server.proc.pid), upstream: () => treePids(ctx.upstream.proc.pid) };
    if (cfg.warmup > 0) await runWrk(server.port, { seconds: cfg.warmup, connections: cfg.connections, body });
    const one = cfg.baselines ? await measured(ctx, `run ${run} ${id}, 1 connection`, groups,
      () => runWrk(server.port, { seconds: cfg.duration, connections: 1, body })) : null;
    const many = await measured(ctx, `run ${run} ${id}, ${cfg.connections} connections`, groups,
      () => runWrk(server.port, { seconds: cfg.duration, connections: cfg.connections, body }));
    const check = await postOnce(server.port, ctx.token, body, { timeoutMs: 10000 }).catch((e) => ({ status: 0, body: e.message, bytes: 0 }));
    // Every response wrk got had the right answer's size (one partial per connection at the end).
    const sameSize = [[one, 1], [many, cfg.connections]].every(([w, c]) => !w || Math.abs(w.bytes - check0.bytes * w.requests) <= check0.bytes * c);
    return { one, many, right: fetchedRight(check) && sameSize, alive: server.proc.exitCode === null && server.proc.signalCode === null };
  } finally {
    await stop(server);
  }
}

async function upstreamAlone(ctx, run) {
  const groups = { upstream: () => treePids(ctx.upstream.proc.pid) };
  return measured(ctx, `run ${run} upstream alone (nginx, GET), 1 connection`, groups,
    () => runWrk(ctx.upstream.port, { seconds: cfg.duration, connections: 1, get: true }));
}

// ---------------------------------------------------------------- egress-inflight

function egressMemory(pid) {
  const kb = (field) => statusKb(pid, field);
  let pss = NaN;
  try {
    pss = Number(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m)[1]);
  } catch { /* not readable: left out */ }
  let fds = NaN;
  try { fds = fs.readdirSync(`/proc/${pid}/fd`).length; } catch { /* not readable */ }
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), pss, fds };
}

async function inFlight(ctx) {
  const workers = cfg.inflightWorkers, n = workers * cfg.perWorker;
  const limit = openFilesLimit();
  if (limit < n + 256) {
    return { n, skipped: `this process may open ${limit} files and needs ${n + 256} (one per held call): raise ulimit -n` };
  }
  const stdoutFile = path.join(ctx.dir, 'egress-inflight.stdout');
  const server = await startServer(ctx, { id: 'egress-inflight', kind: 'mcpd', workers, stdoutFile,
    allow: `127.0.0.1:${ctx.holder.port}`, ca: ctx.certs.ca });
  let calls;
  try {
    const lines = () => fs.readFileSync(stdoutFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const ready = await waitUntil(() => {
      const ls = lines();
      const egress = ls.find((l) => l.event === 'egress_ready');
      return egress && ls.filter((l) => l.event === 'egress_worker_connected').length >= workers && egress;
    }, { timeout: 20000, what: `the egress and its ${workers} worker connections` });
    await callRight(server, ctx, `${ctx.holderUrl}/now`);
    const pid = ready.child_pid;
    const idle = egressMemory(pid);
    const t0 = Date.now();
    calls = await holdCalls(server.port, ctx.token, callBody(`${ctx.holderUrl}/hold`, { timeout_ms: 300000 }), n);
    await waitUntil(() => ctx.holder.held.length + calls.answered().length + calls.failed().length >= n,
      { timeout: 120000, what: () => `${n} calls held by the upstream (${ctx.holder.held.length} so far)` });
    const heldMs = Date.now() - t0;
    const held = ctx.holder.held.length;
    // Calls answered before the release: refused at once (an in-flight cap) or failed.
    const early = [...calls.answered().map((a) => `HTTP ${a.status} ${a.body.slice(0, 300)}`), ...calls.failed()];
    const outcomes = {};
    for (const a of calls.answered()) {
      const o = outcomeOf(a);
      outcomes[o] = (outcomes[o] ?? 0) + 1;
    }
    const full = egressMemory(pid);
    const upstreamConnections = ctx.holder.sessions.size;
    const workerRss = Math.max(...mcpdWorkers(server.proc.pid).map((p) => statusKb(p, 'VmRSS')));
    const answers = await release(ctx, calls, n);
    return { n, workers, held, heldMs, earlyCount: early.length, early: early.slice(0, 3), outcomes,
      idle, full, upstreamConnections, workerRss, answers, limit };
  } finally {
    calls?.close();
    await stop(server);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const ctx = { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-bench-egress-')) };
  fs.chmodSync(ctx.dir, 0o755);
  ctx.allCpus = cpuList(`0-${os.cpus().length - 1}`);
  ctx.nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p)) || 'nginx';
  const started = new Date();
  const results = { runs: { upstream: [], 'egress-call': [], 'peer-fetch': [], ping: [] } };
  try {
    ctx.issuer = createIssuer(path.join(ctx.dir, 'issuer'));
    ctx.token = mintToken(ctx.issuer.privateKey, { n: -1 });
    tokenFile = path.join(ctx.dir, 'token.txt');
    fs.writeFileSync(tokenFile, `${ctx.token}\n`);
    // This process holds the calls and the upstream; it shares the load generator's CPU.
    spawnSync('taskset', ['-a', '-p', '-c', cfg.loadCpu, String(process.pid)], { stdio: 'ignore' });
    const wants = (id) => cfg.only.includes(id);
    if (wants('egress-ping') || wants('egress-inflight')) {
      ctx.certs = makeCerts();
      ctx.holder = await startHolder(ctx.certs);
      ctx.holderUrl = `https://127.0.0.1:${ctx.holder.port}`;
    }
    const sides = ['egress-call', 'peer-fetch'].filter(wants);
    if (sides.length) {
      ctx.upstream = await nginxUpstream(ctx.nginx, ctx.dir, (argv) => pinned(cfg.serverCpu, argv));
      track(ctx.upstream.proc);
    }
    for (let run = 1; run <= cfg.runs; run++) {
      if (wants('egress-ping')) results.runs.ping.push(await pingWhileWaiting(ctx, run));
      if (sides.length) {
        if (cfg.baselines) results.runs.upstream.push(await upstreamAlone(ctx, run));
        for (const id of sides) results.runs[id].push(await fetchSide(ctx, id, run));
      }
    }
    if (wants('egress-inflight')) results.inflight = await inFlight(ctx);
    process.exitCode = report({ started, results, cfg, strict: opt.strict, sides });
  } finally {
    if (ctx.upstream) {
      ctx.upstream.proc.kill('SIGTERM');
      await waitExit(ctx.upstream.proc, 5000);
    }
    ctx.holder?.close();
    if (ctx.certs) fs.rmSync(ctx.certs.dir, { recursive: true, force: true });
    if (opt.keep) log(`kept ${ctx.dir}`);
    else fs.rmSync(ctx.dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`ops/bench: ${e.stack || e.message}`);
  process.exit(1);
});
