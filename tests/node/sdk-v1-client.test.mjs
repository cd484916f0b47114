// The official MCP TypeScript SDK v1 client (@modelcontextprotocol/sdk, pinned
// in package.json) against the real mcpd binary over stateless Streamable HTTP.
//
// SDK v1 always offers its latest protocol version (2025-11-25) in
// `initialize`. To also exercise the older 2025 versions the client would
// accept, a fetch wrapper rewrites the offered version in the initialize body;
// everything else on the wire is the SDK's own. The wrapper also records every
// request so the tests can check what was really sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { startMcpd } from '../lib/mcpd.mjs';
import { ALL_TOOLS } from '../lib/tools.mjs';

// The test tools (tests/tools/) these tests call, and their required parameters.
const REQUIRED = { sum: ['a', 'b'], echo: ['text'] };

// Returns a fetch that records {method, headers, body} of every request and,
// if offerVersion is given, offers that version in `initialize`.
function recordingFetch(offerVersion) {
  const sent = [];
  const fetchFn = async (url, init = {}) => {
    let body = init.body;
    if (offerVersion && typeof body === 'string') {
      const msg = JSON.parse(body);
      if (msg.method === 'initialize') {
        msg.params.protocolVersion = offerVersion;
        body = JSON.stringify(msg);
      }
    }
    const headers = new Headers(init.headers);
    sent.push({ method: init.method ?? 'GET', headers, body: typeof body === 'string' ? JSON.parse(body) : undefined });
    return fetch(url, { ...init, body });
  };
  return { fetchFn, sent };
}

async function connectClient(url, offerVersion) {
  const rec = recordingFetch(offerVersion);
  const client = new Client({ name: 'mcpd-sdk-v1-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: rec.fetchFn });
  await client.connect(transport);
  return { client, transport, sent: rec.sent };
}

let server;
before(async () => {
  server = await startMcpd({ workers: 2 });
});
after(async () => {
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `mcpd exit code (signal ${signal}); stderr: ${server.stderr}`);
});

for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
  // 2025-03-26 predates structured tool output: no outputSchema, no structuredContent.
  const structured = version !== '2025-03-26';
  const offer = version === '2025-11-25' ? undefined : version; // 2025-11-25 is the SDK's own offer

  describe(`SDK v1 client, protocol ${version}`, () => {
    let client;
    let transport;
    let sent;
    before(async () => {
      ({ client, transport, sent } = await connectClient(server.url, offer));
    });
    after(async () => {
      await client?.close();
    });

    test('connects: initialize negotiates the offered version, stateless, tools capability', () => {
      const init = sent.find((r) => r.body?.method === 'initialize');
      assert.equal(init.body.params.protocolVersion, version);
      assert.equal(transport.protocolVersion, version);
      assert.equal(transport.sessionId, undefined, 'a stateless server issues no Mcp-Session-Id');
      assert.equal(client.getServerVersion()?.name, 'mcpd');
      assert.ok(client.getServerCapabilities()?.tools, 'server advertises tools');
      assert.ok(sent.some((r) => r.body?.method === 'notifications/initialized'), 'initialized notification sent');
    });

    test('listTools returns every tool, sum and echo with their input schemas', async () => {
      const { tools, nextCursor } = await client.listTools();
      assert.equal(nextCursor, undefined);
      assert.deepEqual(tools.map((t) => t.name).sort(), ALL_TOOLS);
      for (const tool of tools.filter((t) => t.name in REQUIRED)) {
        assert.equal(tool.inputSchema.type, 'object', tool.name);
        assert.deepEqual([...tool.inputSchema.required].sort(), REQUIRED[tool.name], tool.name);
        for (const prop of REQUIRED[tool.name]) {
          assert.equal(tool.inputSchema.properties[prop].type, tool.name === 'echo' ? 'string' : 'integer');
        }
        assert.equal(typeof tool.description, 'string');
        if (structured) assert.equal(tool.outputSchema?.type, 'object', `${tool.name} outputSchema`);
        else assert.equal(tool.outputSchema, undefined, `${tool.name}: no outputSchema at ${version}`);
      }
      const list = sent.findLast((r) => r.body?.method === 'tools/list');
      assert.equal(list.headers.get('mcp-protocol-version'), version, 'SDK sends the negotiated version header');
    });

    const calls = [
      ['sum', { a: 2, b: 3 }, '5', 5],
      ['sum', { a: -40, b: 2 }, '-38', -38],
      ['sum', { a: 40, b: 2 }, '42', 42],
      ['sum', { a: -3, b: 3 }, '0', 0],
      ['echo', { text: 'Ada' }, 'echo: Ada', 'echo: Ada'],
    ];
    for (const [name, args, text, value] of calls) {
      test(`callTool ${name}(${JSON.stringify(args)})`, async () => {
        const result = await client.callTool({ name, arguments: args });
        assert.notEqual(result.isError, true, JSON.stringify(result));
        assert.deepEqual(result.content, [{ type: 'text', text }]);
        if (structured) assert.deepEqual(result.structuredContent, { result: value });
        else assert.equal(result.structuredContent, undefined);
      });
    }

    test('a tool error is a result with isError: true (64-bit overflow)', async () => {
      const result = await client.callTool({ name: 'sum', arguments: { a: 9223372036854775807, b: 2 } });
      assert.equal(result.isError, true, JSON.stringify(result));
      assert.equal(result.content[0].type, 'text');
      assert.match(result.content[0].text, /64-bit|overflow|fit/i);
      // 2**62 is exact in a double, so this overflow is a genuine one.
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

    test('unknown tool is a JSON-RPC error -32602', async () => {
      await assert.rejects(
        client.callTool({ name: 'no_such_tool', arguments: {} }),
        (err) => {
          assert.ok(err instanceof McpError, `McpError expected, got ${err}`);
          assert.equal(err.code, ErrorCode.InvalidParams);
          return true;
        },
      );
    });

    test('ping', async () => {
      assert.deepEqual(await client.ping(), {});
    });
  });
}

test('two clients at once share nothing (stateless)', async () => {
  const a = await connectClient(server.url);
  const b = await connectClient(server.url, '2025-03-26');
  try {
    const [ra, rb] = await Promise.all([
      a.client.callTool({ name: 'sum', arguments: { a: 1, b: 1 } }),
      b.client.callTool({ name: 'sum', arguments: { a: 1, b: 1 } }),
    ]);
    assert.deepEqual(ra.structuredContent, { result: 2 });
    assert.equal(rb.structuredContent, undefined);
  } finally {
    await a.client.close();
    await b.client.close();
  }
});
