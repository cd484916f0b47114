// The official MCP TypeScript SDK v2 client (@modelcontextprotocol/client,
// pinned in package.json) against the real mcpd binary, in each of its
// version-negotiation modes:
//   'legacy' (the default)   initialize handshake, 2025-11-25 wire
//   'auto'                   server/discover probe, 2026-07-28 wire if the server clearly serves it
//   { pin: '2026-07-28' }    2026-07-28 wire only, no fallback
// (the SDK calls the 2026-07-28 wire its 'modern' era, and the 2025 one 'legacy').
// A fetch wrapper records every request (headers, body) and every JSON
// response, so the tests prove which wire was really used instead of trusting
// the client's own account of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startMcpd } from '../lib/mcpd.mjs';
import { ALL_TOOLS } from '../lib/tools.mjs';

const V0728 = '2026-07-28';
const V1125 = '2025-11-25'; // what the v2 client offers in initialize
const PV_META = 'io.modelcontextprotocol/protocolVersion';
const CAPS_META = 'io.modelcontextprotocol/clientCapabilities';
const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo';
// The test tools (tests/tools/) these tests call, and their required parameters.
const REQUIRED = { sum: ['a', 'b'], echo: ['text'] };

function recordingFetch() {
  const exchanges = [];
  const fetchFn = async (url, init = {}) => {
    const ex = {
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    exchanges.push(ex);
    const res = await fetch(url, init);
    ex.status = res.status;
    if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
      ex.response = await res.clone().json();
    }
    return res;
  };
  return { fetchFn, exchanges };
}

const MODES = [
  { label: "default ('legacy')", options: {}, modern: false },
  { label: "'auto'", options: { versionNegotiation: { mode: 'auto' } }, modern: true },
  { label: `{ pin: '${V0728}' }`, options: { versionNegotiation: { mode: { pin: V0728 } } }, modern: true },
];

let server;
before(async () => {
  server = await startMcpd({ workers: 2 });
});
after(async () => {
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `mcpd exit code (signal ${signal}); stderr: ${server.stderr}`);
});

for (const mode of MODES) {
  describe(`SDK v2 client, versionNegotiation ${mode.label}`, () => {
    let client;
    let exchanges;
    let logsBefore;
    const posts = (method) => exchanges.filter((e) => e.method === 'POST' && e.body?.method === method);

    before(async () => {
      logsBefore = server.logs.length;
      const rec = recordingFetch();
      exchanges = rec.exchanges;
      client = new Client({ name: 'mcpd-sdk-v2-test', version: '1.0.0' }, mode.options);
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { fetch: rec.fetchFn }));
    });
    after(async () => {
      await client?.close();
    });

    test('connects on the expected era', async () => {
      assert.equal(client.getServerVersion()?.name, 'mcpd');
      assert.ok(client.getServerCapabilities()?.tools, 'server advertises tools');
      if (mode.modern) {
        assert.equal(client.getProtocolEra(), 'modern');
        assert.equal(client.getNegotiatedProtocolVersion(), V0728);
        assert.equal(posts('initialize').length, 0, 'no initialize on the 2026-07-28 wire');
        const [discover] = posts('server/discover');
        assert.ok(discover, 'server/discover was sent');
        assert.equal(discover.status, 200);
        assert.equal(discover.headers.get('mcp-protocol-version'), V0728);
        assert.equal(discover.body.params._meta[PV_META], V0728);
        const result = discover.response.result;
        assert.ok(result.supportedVersions.includes(V0728), JSON.stringify(result));
        assert.equal(result.resultType, 'complete');
        assert.equal(typeof result.ttlMs, 'number');
        assert.equal(typeof result.cacheScope, 'string');
        assert.equal(result._meta?.[SERVER_INFO_META]?.name, 'mcpd');
        // mcpd's own request log agrees that it served server/discover.
        await server.waitForLog(
          (l) => l.event === 'request' && l.rpc_method === 'server/discover' && server.logs.indexOf(l) >= logsBefore,
          5000,
          'mcpd request log line for this client\'s server/discover',
        );
      } else {
        assert.equal(client.getProtocolEra?.() ?? 'legacy', 'legacy');
        assert.equal(client.getNegotiatedProtocolVersion(), V1125);
        assert.equal(posts('server/discover').length, 0, 'legacy mode sends no probe');
        const [init] = posts('initialize');
        assert.equal(init?.status, 200);
        assert.equal(init.response.result.protocolVersion, V1125);
        assert.equal(init.response.result.serverInfo.name, 'mcpd');
        assert.equal(posts('notifications/initialized')[0]?.status, 202);
      }
    });

    test('listTools returns every tool, sum and echo with their input schemas', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ALL_TOOLS);
      for (const tool of tools.filter((t) => t.name in REQUIRED)) {
        assert.equal(tool.inputSchema.type, 'object', tool.name);
        assert.deepEqual([...tool.inputSchema.required].sort(), REQUIRED[tool.name], tool.name);
        assert.equal(tool.outputSchema?.type, 'object', `${tool.name} outputSchema`);
      }
      const [list] = posts('tools/list');
      assert.ok(list, 'tools/list went over the wire');
      assert.equal(list.status, 200);
      if (mode.modern) {
        assert.equal(list.headers.get('mcp-protocol-version'), V0728);
        assert.equal(list.headers.get('mcp-method'), 'tools/list');
        assert.equal(list.body.params._meta[PV_META], V0728);
        assert.ok(list.body.params._meta[CAPS_META], 'clientCapabilities in _meta');
        const result = list.response.result;
        assert.equal(result.resultType, 'complete');
        assert.equal(typeof result.ttlMs, 'number', '2026-07-28 list results carry ttlMs');
        assert.equal(typeof result.cacheScope, 'string', '2026-07-28 list results carry cacheScope');
      } else {
        assert.equal(list.headers.get('mcp-protocol-version'), V1125);
        assert.equal(list.body.params?._meta?.[PV_META], undefined, 'no 2026-07-28 _meta on the 2025 wire');
        assert.equal(list.response.result.resultType, undefined);
      }
    });

    const calls = [
      ['sum', { a: 2, b: 3 }, '5', 5],
      ['sum', { a: -40, b: 2 }, '-38', -38],
      ['sum', { a: 40, b: 2 }, '42', 42],
      ['echo', { text: 'Ada' }, 'echo: Ada', 'echo: Ada'],
    ];
    for (const [name, args, text, value] of calls) {
      test(`callTool ${name}(${JSON.stringify(args)})`, async () => {
        const before = exchanges.length;
        const result = await client.callTool({ name, arguments: args });
        assert.notEqual(result.isError, true, JSON.stringify(result));
        assert.deepEqual(result.content, [{ type: 'text', text }]);
        assert.deepEqual(result.structuredContent, { result: value });
        const call = exchanges.slice(before).find((e) => e.body?.method === 'tools/call');
        assert.equal(call.status, 200);
        if (mode.modern) {
          assert.equal(call.headers.get('mcp-protocol-version'), V0728);
          assert.equal(call.headers.get('mcp-method'), 'tools/call');
          assert.equal(call.headers.get('mcp-name'), name);
          assert.equal(call.body.params._meta[PV_META], V0728);
          assert.equal(call.response.result.resultType, 'complete');
        } else {
          assert.equal(call.headers.get('mcp-protocol-version'), V1125);
          assert.equal(call.headers.get('mcp-method'), null);
          assert.equal(call.response.result.resultType, undefined);
        }
      });
    }

    test('a tool error is a result with isError: true (64-bit overflow)', async () => {
      const result = await client.callTool({ name: 'sum', arguments: { a: 9223372036854775807, b: 2 } });
      assert.equal(result.isError, true, JSON.stringify(result));
      assert.equal(result.content[0].type, 'text');
      assert.match(result.content[0].text, /64-bit|overflow|fit/i);
      const sum = await client.callTool({ name: 'sum', arguments: { a: 2 ** 62, b: 2 ** 62 } });
      assert.equal(sum.isError, true, JSON.stringify(sum));
    });

    test('invalid arguments are a tool error (isError: true), not a protocol error', async () => {
      for (const args of [{ a: 1 }, { a: 1.5, b: 2 }, { a: 'x', b: 2 }]) {
        const result = await client.callTool({ name: 'sum', arguments: args });
        assert.equal(result.isError, true, `${JSON.stringify(args)} -> ${JSON.stringify(result)}`);
        assert.equal(result.content[0].type, 'text');
      }
      const echo = await client.callTool({ name: 'echo', arguments: {} });
      assert.equal(echo.isError, true, JSON.stringify(echo));
    });

    test('unknown tool is a JSON-RPC error -32602 at HTTP 200', async () => {
      const before = exchanges.length;
      await assert.rejects(
        client.callTool({ name: 'no_such_tool', arguments: {} }),
        (err) => {
          assert.ok(err instanceof ProtocolError, `ProtocolError expected, got ${err?.stack ?? err}`);
          assert.equal(err.code, -32602);
          return true;
        },
      );
      const call = exchanges.slice(before).find((e) => e.body?.method === 'tools/call');
      assert.equal(call.status, 200);
      assert.equal(call.response.error.code, -32602);
      assert.equal(call.response.id, call.body.id);
    });

    test('every POST got a 2xx answer', () => {
      const bad = exchanges.filter((e) => e.method === 'POST' && !(e.status >= 200 && e.status < 300) && e.body?.params?.name !== 'no_such_tool');
      assert.deepEqual(bad.map((e) => `${e.body?.method} -> ${e.status} ${JSON.stringify(e.response)}`), []);
    });
  });
}
