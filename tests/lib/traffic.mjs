// A known mix of requests for the metrics tests, and the counts mcpd must
// report for it: each request's HTTP status, JSON-RPC method, tool and
// auth refusal is asserted as it is sent, so the expected totals are what
// really happened, not what was meant to.  The tools called are test tools
// (tests/tools/), so the tests that send it need a -DMCPD_TEST_TOOLS build.
import assert from 'node:assert/strict';
import { freshRequest, rpc } from './http.mjs';
import { mint, now } from './tokens.mjs';

const PROTOCOL = '2025-06-18';

// The mix for a server that verifies tokens from `idp`: rows of
// [how many, what, token, JSON-RPC body or {get: path}, what must happen].
export function trafficMix(idp) {
  const good = mint(idp);
  const expired = mint(idp, { claims: { iat: now() - 7200, exp: now() - 3600 } });
  const call = (name, args) => rpc(1, 'tools/call', { name, arguments: args });
  return [
    [20, 'sum', good, call('sum', { a: 2, b: 3 }), { status: 200, method: 'tools/call', tool: 'sum' }],
    [5, 'sum overflowing', good, call('sum', { a: 2 ** 62, b: 2 ** 62 }),
      { status: 200, method: 'tools/call', tool: 'sum', toolError: true }],
    [4, 'tools/list', good, rpc(2, 'tools/list'), { status: 200, method: 'tools/list' }],
    [3, 'a tool nobody has', good, call('no_such_tool', {}), { status: 200, method: 'tools/call', tool: '(unknown)' }],
    [6, 'no token', null, rpc(3, 'tools/list'), { status: 401, refusal: 'no_token' }],
    [2, 'an expired token', expired, rpc(4, 'tools/list'), { status: 401, refusal: 'expired' }],
    [3, 'a path that does not exist', null, { get: '/nope' }, { status: 404 }],
    [2, 'a public ping', null, rpc(5, 'ping'), { status: 200, method: 'ping' }],
  ];
}

export function emptyTotals() {
  return { requests: 0, status: {}, method: {}, tool: {}, toolErrors: {}, refusal: {} };
}

const bump = (map, key, n = 1) => { map[key] = (map[key] ?? 0) + n; };

// Sends the mix to `server` (sequentially: each answer is checked) and adds what it sent to `totals`.
export async function sendMix(server, idp, totals) {
  for (const [n, what, token, body, want] of trafficMix(idp)) {
    for (let i = 0; i < n; i++) {
      let status, json;
      // Each on a connection of its own: the tests kill a worker between two mixes (see freshRequest).
      if (body.get) {
        ({ status } = await freshRequest(`${server.origin}${body.get}`, { method: 'GET' }));
      } else {
        const headers = { 'mcp-protocol-version': PROTOCOL };
        if (token) headers.authorization = `Bearer ${token}`;
        ({ status, json } = await freshRequest(server.url, { body, headers }));
      }
      assert.equal(status, want.status, `${what}: HTTP ${status}`);
      if (want.toolError) assert.equal(json?.result?.isError, true, `${what}: ${JSON.stringify(json)}`);
      if (want.tool === '(unknown)') assert.ok(json?.error, `${what}: ${JSON.stringify(json)}`);
      totals.requests++;
      bump(totals.status, String(want.status));
      if (want.method) bump(totals.method, want.method);
      if (want.tool) bump(totals.tool, want.tool);
      if (want.toolError) bump(totals.toolErrors, want.tool);
      if (want.refusal) bump(totals.refusal, want.refusal);
    }
  }
  return totals;
}
