// /metrics scraped by a real Prometheus server (the Debian package, started
// here on loopback with a 1 s scrape interval) while known traffic reaches 2
// workers, one of which is killed with SIGKILL half-way: Prometheus's own
// query API must then give exactly the traffic sent, by status, method, tool
// and refusal reason, with no counter reset. promtool lints the exposition.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { CLIENT_ID } from '../lib/tokens.mjs';
import { emptyTotals, sendMix } from '../lib/traffic.mjs';

const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => fs.existsSync(p));
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => fs.existsSync(p));

let idp, server, metricsPort, prom, promPort, dir;

async function startPrometheus() {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-prometheus-'));
  promPort = await freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', '  scrape_timeout: 900ms',
    'scrape_configs:', '  - job_name: mcpd', '    static_configs:', `      - targets: ['127.0.0.1:${metricsPort}']`, '',
  ].join('\n'));
  prom = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  prom.stderr.on('data', (d) => { stderr += d; });
  await waitUntil(async () => {
    if (prom.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    return (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => null))?.status === 200;
  }, { timeout: 30000, what: 'Prometheus to be ready' });
}

// An instant query: { 'label value' or '': number }.
async function query(expr, label) {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await res.json();
  assert.equal(body.status, 'success', JSON.stringify(body));
  return Object.fromEntries(body.data.result.map((r) => [label ? r.metric[label] : '', Number(r.value[1])]));
}

const nonZero = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0));

// What Prometheus holds now equals `totals` in every dimension.
async function prometheusAgrees(totals) {
  const got = {
    requests: (await query('sum(mcpd_http_requests_total)'))[''],
    status: nonZero(await query('sum by (code) (mcpd_http_requests_total)', 'code')),
    method: nonZero(await query('sum by (method) (mcpd_rpc_requests_total)', 'method')),
    tool: nonZero(await query('sum by (tool) (mcpd_tool_calls_total)', 'tool')),
    toolErrors: nonZero(await query('sum by (tool) (mcpd_tool_errors_total)', 'tool')),
    refusal: nonZero(await query('sum by (reason) (mcpd_auth_refusals_total)', 'reason')),
  };
  try {
    assert.deepEqual(got, totals);
    return true;
  } catch {
    prometheusAgrees.last = got;
    return false;
  }
}

before(async () => {
  assert.ok(PROMETHEUS && PROMTOOL, 'prometheus and promtool are missing: ops/deps test installs the Debian package prometheus');
  idp = await startIssuer({ keys: 1 });
  metricsPort = await freePort();
  server = await startMcpd({
    auth: false, workers: 2,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID,
      '--metrics-listen', `127.0.0.1:${metricsPort}`],
  });
  // Keys loaded, known from the log: an HTTP probe would be traffic too.
  await server.waitForLog((l) => l.event === 'jwks_published', 20000);
  await startPrometheus();
});

after(async () => {
  prom?.kill('SIGTERM');
  await server?.stop();
  await idp?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('promtool check metrics passes on the exposition', async () => {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: await res.text(), encoding: 'utf8' });
  assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
});

test('Prometheus sums exactly the traffic sent, across a SIGKILL of one worker', async () => {
  const totals = emptyTotals();
  await sendMix(server, idp, totals);
  await waitUntil(() => prometheusAgrees(totals), { timeout: 20000,
    what: () => `Prometheus to hold the first half's totals (last seen ${JSON.stringify(prometheusAgrees.last)})` });

  const victim = server.workerPids()[0];
  const ready = server.logs.filter((l) => l.event === 'worker_ready').length;
  process.kill(victim, 'SIGKILL');
  await server.waitForLog(() => server.logs.filter((l) => l.event === 'worker_ready').length > ready, 20000);
  // A scrape after the kill: its crash is counted, and nothing went down.
  await waitUntil(async () => (await query('sum(mcpd_child_exits_total{role="worker",cause="crash"})'))[''] === 1,
    { timeout: 20000, what: 'Prometheus to see the killed worker' });
  assert.ok(await prometheusAgrees(totals), `after the kill: ${JSON.stringify(prometheusAgrees.last)}`);

  await sendMix(server, idp, totals);
  await waitUntil(() => prometheusAgrees(totals), { timeout: 20000,
    what: () => `Prometheus to hold the totals of both halves (last seen ${JSON.stringify(prometheusAgrees.last)})` });
  assert.equal(totals.requests, 90);
  // No series went down at any scrape of the run.
  const resets = await query('sum(resets(mcpd_http_requests_total[10m])) + sum(resets(mcpd_tool_calls_total[10m]))');
  assert.equal(resets[''], 0);
  assert.equal((await query('sum(mcpd_child_starts_total{role="worker"})'))[''], 3);
});

// The outbound request families are there before any tool reaches out: the
// counter's HELP and TYPE with no row (a tool gets its rows with its first
// request), the histogram at zero. The traffic above called tools that make
// no outbound request, so nothing may have been counted. Counts of real
// requests are checked end to end where workers reach the egress process.
test('the outbound request families are present, with nothing counted', async () => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const lines = text.split('\n');
  assert.ok(lines.includes('# TYPE mcpd_egress_requests_total counter'), text);
  assert.ok(lines.some((l) => l.startsWith('# HELP mcpd_egress_requests_total ')), text);
  assert.deepEqual(lines.filter((l) => l.startsWith('mcpd_egress_requests_total')), []);
  assert.ok(lines.includes('# TYPE mcpd_egress_request_duration_seconds histogram'), text);
  const buckets = lines.filter((l) => l.startsWith('mcpd_egress_request_duration_seconds_bucket{'));
  assert.equal(buckets.length, 16);
  assert.ok(buckets[0].startsWith('mcpd_egress_request_duration_seconds_bucket{le="0.001"} '), buckets[0]);
  assert.ok(buckets.every((l) => l.endsWith(' 0')), buckets.join('\n'));
  assert.ok(lines.includes('mcpd_egress_request_duration_seconds_count 0'), text);
  // Prometheus ingests the family: one series of each kind, at zero.
  await waitUntil(async () => Object.keys(await query('mcpd_egress_request_duration_seconds_count')).length === 1,
    { timeout: 20000, what: 'Prometheus to scrape the outbound histogram' });
  assert.deepEqual(await query('sum(mcpd_egress_request_duration_seconds_count)'), { '': 0 });
  assert.deepEqual(await query('count(mcpd_egress_requests_total)'), {});
});
