// --metrics-emf: the EMF lines mcpd writes to stdout follow the Embedded
// Metric Format's structure, and their deltas, summed over the run (a kill -9
// of a worker in the middle, the last interval written at SIGTERM), equal
// the traffic sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMcpd } from '../lib/mcpd.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { CLIENT_ID } from '../lib/tokens.mjs';
import { emptyTotals, sendMix } from '../lib/traffic.mjs';

// CloudWatch's units (the MetricDatum Unit enumeration).
const UNITS = new Set(['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes',
  'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second',
  'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second',
  'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None']);

// The EMF specification's rules for one document; returns the directive.
function assertEmf(doc, raw) {
  const where = raw.slice(0, 300);
  assert.ok(raw.length <= 4096, `longer than PIPE_BUF: ${where}`);
  const aws = doc._aws;
  assert.equal(typeof aws, 'object', where);
  assert.ok(Number.isInteger(aws.Timestamp) && Math.abs(aws.Timestamp - Date.now()) < 600000, `Timestamp: ${where}`);
  assert.ok(Array.isArray(aws.CloudWatchMetrics) && aws.CloudWatchMetrics.length >= 1, where);
  for (const d of aws.CloudWatchMetrics) {
    assert.deepEqual(Object.keys(d).sort(), ['Dimensions', 'Metrics', 'Namespace'], where);
    assert.ok(typeof d.Namespace === 'string' && d.Namespace.length >= 1 && d.Namespace.length <= 255, where);
    assert.ok(Array.isArray(d.Dimensions), where);
    for (const set of d.Dimensions) {
      assert.ok(Array.isArray(set) && set.length <= 30, where);
      for (const key of set) assert.ok(typeof doc[key] === 'string' && doc[key].length >= 1 && doc[key].length <= 1024, `dimension ${key}: ${where}`);
    }
    assert.ok(Array.isArray(d.Metrics) && d.Metrics.length >= 1 && d.Metrics.length <= 100, where);
    for (const m of d.Metrics) {
      assert.ok(typeof m.Name === 'string' && m.Name.length >= 1 && m.Name.length <= 1024, where);
      assert.ok(m.Unit === undefined || UNITS.has(m.Unit), `unit ${m.Unit}: ${where}`);
      const v = doc[m.Name];
      const numbers = Array.isArray(v) ? v : [v];
      assert.ok(numbers.length >= 1 && numbers.length <= 100, `${m.Name}: ${where}`);
      for (const x of numbers) assert.ok(typeof x === 'number' && Number.isFinite(x), `${m.Name}: ${where}`);
    }
  }
  return aws.CloudWatchMetrics[0];
}

// Sums the EMF lines' deltas the way CloudWatch would (Sum of each metric, per dimension value).
function sumEmf(lines) {
  const got = { requests: 0, status: {}, tool: {}, toolErrors: {}, refusals: 0, latencySamples: 0, documents: 0 };
  for (const { doc, raw } of lines) {
    const d = assertEmf(doc, raw);
    assert.equal(d.Namespace, 'mcpd/test');
    got.documents++;
    const dims = d.Dimensions.flat();
    if (dims.length === 0) {
      got.requests += doc.Requests;
      got.refusals += doc.AuthRefusals;
      got.latencySamples += doc.Latency?.length ?? 0;
    } else if (dims[0] === 'StatusClass') {
      got.status[doc.StatusClass] = (got.status[doc.StatusClass] ?? 0) + doc.Requests;
    } else if (dims[0] === 'Tool') {
      got.tool[doc.Tool] = (got.tool[doc.Tool] ?? 0) + doc.ToolCalls;
      if (doc.ToolErrors) got.toolErrors[doc.Tool] = (got.toolErrors[doc.Tool] ?? 0) + doc.ToolErrors;
    } else {
      assert.fail(`unexpected dimensions ${JSON.stringify(d.Dimensions)}`);
    }
  }
  return got;
}

test('EMF lines follow the format and their deltas add up to the traffic, across a worker kill', async () => {
  const idp = await startIssuer({ keys: 1 });
  const server = await startMcpd({
    auth: false, workers: 2,
    args: ['--discovery-url', idp.discoveryUrl, '--allow-insecure-issuer', '--allowed-clients', CLIENT_ID,
      '--metrics-emf', '1', '--metrics-namespace', 'mcpd/test'],
  });
  try {
    await server.waitForLog((l) => l.event === 'jwks_published', 20000);
    const totals = emptyTotals();
    await sendMix(server, idp, totals);
    // An interval that carried the first half went out before the kill.
    await server.waitForLog((l) => l._aws && l.Requests > 0, 10000);
    const victim = server.workerPids()[0];
    const ready = server.logs.filter((l) => l.event === 'worker_ready').length;
    process.kill(victim, 'SIGKILL');
    await server.waitForLog(() => server.logs.filter((l) => l.event === 'worker_ready').length > ready, 20000);
    await sendMix(server, idp, totals);
    assert.equal((await server.stop()).code, 0);

    const lines = server.logs.map((doc, i) => ({ doc, raw: server.lines[i] })).filter(({ doc }) => doc._aws);
    assert.ok(lines.length >= 3, `only ${lines.length} EMF lines`);
    const got = sumEmf(lines);
    assert.equal(got.requests, totals.requests);
    assert.equal(got.latencySamples, totals.requests, 'fewer than 100 requests an interval: one latency value each');
    assert.deepEqual(got.status, { '2xx': totals.status['200'], '4xx': totals.status['401'] + totals.status['404'] });
    assert.deepEqual(got.tool, totals.tool);
    assert.deepEqual(got.toolErrors, totals.toolErrors);
    assert.equal(got.refusals, Object.values(totals.refusal).reduce((a, n) => a + n, 0));
    // These tools make no outbound request: each service document counts
    // none, with no latency to give, and no tool document has the metrics.
    for (const { doc } of lines) {
      if (doc._aws.CloudWatchMetrics[0].Dimensions.flat().length === 0) {
        assert.deepEqual([doc.EgressRequests, doc.EgressFailures, doc.EgressLatency], [0, 0, undefined]);
      } else {
        assert.equal(doc.EgressRequests, undefined);
      }
    }
    // More than one interval carried requests: these are deltas, not one total at exit.
    assert.ok(lines.filter(({ doc }) => doc._aws.CloudWatchMetrics[0].Dimensions.flat().length === 0 && doc.Requests > 0).length >= 2);
  } finally {
    await server.stopQuietly('SIGKILL', 5000);
    await idp.close();
  }
});

test('--metrics-emf 0 (the default) writes no EMF line', async () => {
  const server = await startMcpd({ workers: 1 });
  await fetch(`${server.origin}/nope`);
  assert.equal((await server.stop()).code, 0);
  assert.equal(server.logs.filter((l) => l._aws).length, 0);
});
