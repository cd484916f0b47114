// The tool engine against real validators and the official clients:
//  - every tool's inputSchema and outputSchema compiles as JSON Schema 2020-12
//    in ajv's strict mode, at each protocol version that has them;
//  - on arguments that break each rule of the test tools, ajv and the server
//    agree on what is valid, and every result validates against its tool's
//    outputSchema;
//  - the SDK v1 and v2 clients call a test tool of each kind at each
//    protocol version, and they really validate structuredContent against
//    the listed outputSchema (a tampered schema makes the call fail).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { startMcpd } from '../lib/mcpd.mjs';
import { post, rpc } from '../lib/http.mjs';
import { ALL_TOOLS } from '../lib/tools.mjs';

const V0728 = '2026-07-28';
const META = { 'io.modelcontextprotocol/protocolVersion': V0728, 'io.modelcontextprotocol/clientCapabilities': {} };

let server;
before(async () => {
  server = await startMcpd({ workers: 1 });
});
after(async () => {
  assert.equal((await server.stop()).code, 0);
});

// One JSON-RPC request at `version`, on the wire that version uses.
async function request(version, method, params = {}, name) {
  if (version === V0728) {
    const headers = { 'mcp-protocol-version': V0728, 'mcp-method': method };
    if (name) headers['mcp-name'] = name;
    return post(server.url, rpc(1, method, { ...params, _meta: META }), headers);
  }
  return post(server.url, rpc(1, method, params), { 'mcp-protocol-version': version });
}

async function listTools(version) {
  const res = await request(version, 'tools/list');
  assert.equal(res.status, 200, res.text);
  return res.json.result.tools;
}

function strictAjv() {
  return new Ajv2020({ strict: true, allErrors: true });
}

for (const version of ['2025-06-18', '2025-11-25', V0728]) {
  test(`${version}: every inputSchema and outputSchema compiles as strict JSON Schema 2020-12`, async () => {
    const tools = await listTools(version);
    assert.deepEqual(tools.map((t) => t.name).sort(), ALL_TOOLS);
    const ajv = strictAjv();
    for (const t of tools) {
      assert.doesNotThrow(() => ajv.compile(t.inputSchema), `${t.name} inputSchema`);
      assert.ok(t.outputSchema, `${t.name} has an outputSchema at ${version}`);
      assert.doesNotThrow(() => ajv.compile(t.outputSchema), `${t.name} outputSchema`);
    }
  });
}

// Arguments for each test tool: valid ones, and one per rule broken.
const CASES = {
  typed_echo: [
    {}, { count: 0 }, { count: 100 }, { count: -1 }, { count: 101 }, { count: 2.5 }, { count: '5' },
    { ratio: 0.25 }, { ratio: 'x' }, { flag: true }, { flag: 1 },
    { color: 'green' }, { color: 'purple' }, { note: '0123456789' }, { note: '01234567890' },
    { values: [1, -1000, 5] }, { values: [1, 2, 3, 4, 5, 6] }, { values: [-1001] }, { values: [1.5] }, { values: 3 },
    { weights: [0.5, 1e300] }, { weights: ['a'] }, { tags: ['a', 'bb'] }, { tags: ['a', 'b', 'c', 'd'] },
    { tags: ['toolong'] }, { switches: [true, false] }, { switches: [0] }, { unknown: 1 },
  ],
  number_stats: [{ numbers: [1, 2, 3.5] }, { numbers: ['1'] }, {}, { numbers: 1 }],
  is_even: [{ n: 4 }, { n: 9007199254740993 }, { n: 0.5 }, { n: true }, {}],
  halve: [{ x: 3 }, { x: -0.5 }, { x: '3' }, {}],
  echo: [{ text: 'Alice' }, { text: 5 }, {}],
};

test('ajv and the server agree on every argument rule; every result validates against its outputSchema', async () => {
  const tools = Object.fromEntries((await listTools('2025-11-25')).map((t) => [t.name, t]));
  const ajv = strictAjv();
  for (const [name, cases] of Object.entries(CASES)) {
    const validIn = ajv.compile(tools[name].inputSchema);
    const validOut = ajv.compile(tools[name].outputSchema);
    for (const args of cases) {
      const res = await request('2025-11-25', 'tools/call', { name, arguments: args });
      assert.equal(res.status, 200, res.text);
      const { result } = res.json;
      const what = `${name} ${JSON.stringify(args)}`;
      assert.equal(!result.isError, validIn(args),
        `${what}: server says ${result.isError ? `no (${result.content[0].text})` : 'yes'}, ajv ${JSON.stringify(validIn.errors)}`);
      if (result.isError) {
        assert.match(result.content[0].text, new RegExp(`^${name}: (argument '|missing required argument|unexpected argument)`), what);
      } else {
        assert.ok(validOut(result.structuredContent), `${what}: ${JSON.stringify(validOut.errors)}`);
      }
    }
  }
});

// What each test tool answers, whatever the client: [args, structuredContent, text].
const CALLS = {
  typed_echo: [{ count: 3, values: [1, 2], tags: ['x', 'y'], switches: [true] },
    { count: 3, ratio: -1, flag: false, color: 'red', note: '', values_sum: 3, weights_sum: 0, tags: 'x+y',
      switches_on: 1, present: 'count,flag,color,values,tags,switches' }],
  number_stats: [{ numbers: [1, 2, 6] }, { count: 3, mean: 3, min: 1, max: 6 }, '3 numbers from 1 to 6, mean 3'],
  is_even: [{ n: 7 }, { result: false }, 'false'],
  halve: [{ x: 5 }, { result: 2.5 }, '2.5'],
  echo: [{ text: 'Zoë' }, { result: 'echo: Zoë' }, 'echo: Zoë'],
};

function assertCalled(result, name, structured) {
  const [, want, text] = CALLS[name];
  assert.equal(result.isError, false, `${name}: ${JSON.stringify(result)}`);
  if (structured) assert.deepEqual(result.structuredContent, want, name);
  else assert.equal(result.structuredContent, undefined, `${name}: no structuredContent before 2025-06-18`);
  assert.equal(result.content[0].text, text ?? JSON.stringify(want), name);
}

// SDK v1 offers 2025-11-25; older versions are offered by rewriting initialize.
function v1Fetch(offer, tamper) {
  return async (url, init = {}) => {
    let { body } = init;
    if (offer && typeof body === 'string' && JSON.parse(body).method === 'initialize') {
      const msg = JSON.parse(body);
      msg.params.protocolVersion = offer;
      body = JSON.stringify(msg);
    }
    const res = await fetch(url, { ...init, body });
    if (!tamper || typeof body !== 'string' || JSON.parse(body).method !== 'tools/list') return res;
    const doc = JSON.parse(await res.text());
    tamper(doc.result.tools);
    return new Response(JSON.stringify(doc), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}

for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
  describe(`SDK v1 client at ${version}`, () => {
    let client;
    before(async () => {
      client = new ClientV1({ name: 'mcpd-tool-test', version: '1' });
      await client.connect(new TransportV1(new URL(server.url), { fetch: v1Fetch(version === '2025-11-25' ? undefined : version) }));
      await client.listTools(); // the client learns the output schemas it validates against
    });
    after(async () => client?.close());

    test('calls a test tool of each kind', async () => {
      for (const name of Object.keys(CALLS)) {
        assertCalled(await client.callTool({ name, arguments: CALLS[name][0] }), name, version !== '2025-03-26');
      }
      const failed = await client.callTool({ name: 'always_fails', arguments: { reason: 'testing' } });
      assert.equal(failed.isError, true);
      assert.equal(failed.content[0].text, 'always_fails: failed as asked: testing');
    });
  });
}

test('SDK v1 validates structuredContent against the listed outputSchema (a tampered schema fails the call)', async () => {
  const client = new ClientV1({ name: 'mcpd-tool-test', version: '1' });
  const tamper = (tools) => {
    tools.find((t) => t.name === 'is_even').outputSchema.properties.result.type = 'string';
  };
  await client.connect(new TransportV1(new URL(server.url), { fetch: v1Fetch(undefined, tamper) }));
  try {
    await client.listTools();
    await assert.rejects(client.callTool({ name: 'is_even', arguments: { n: 2 } }), /structured content does not match|output schema/i);
    // Untampered tools still pass the same check.
    assertCalled(await client.callTool({ name: 'halve', arguments: { x: 5 } }), 'halve', true);
  } finally {
    await client.close();
  }
});

for (const [mode, negotiation] of [['legacy', { mode: 'legacy' }], ['pinned to 2026-07-28', { pin: V0728 }]]) {
  describe(`SDK v2 client, ${mode}`, () => {
    let client;
    before(async () => {
      client = new ClientV2({ name: 'mcpd-tool-test', version: '1' }, { versionNegotiation: negotiation });
      await client.connect(new TransportV2(new URL(server.url)));
      await client.listTools();
    });
    after(async () => client?.close());

    test('calls a test tool of each kind', async () => {
      for (const name of Object.keys(CALLS)) {
        assertCalled(await client.callTool({ name, arguments: CALLS[name][0] }), name, true);
      }
      const failed = await client.callTool({ name: 'always_fails', arguments: {} });
      assert.equal(failed.isError, true);
      assert.equal(failed.content[0].text, 'always_fails: failed as asked: no reason');
    });
  });
}
