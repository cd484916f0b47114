// The peer: the official MCP TypeScript SDK (v1, @modelcontextprotocol/sdk)
// serving the benchmark's tool statelessly over Streamable HTTP, verifying the
// same RS256 access tokens with jose.  The tool is the one mcpd answers in the
// benchmark: integers a and b, their sum (named sum, or --tool NAME). It follows the SDK's own stateless
// example (a fresh McpServer and transport per request, createMcpExpressApp,
// requireBearerAuth), with JSON responses instead of SSE so that both servers
// answer the benchmark's request with the same application/json body, and
// one shared JSON Schema validator: the peer at its best, not a strawman.
//
//   node peer-server.mjs --port P [--host 127.0.0.1] [--issuer-dir DIR | --auth none]
//       [--allowed-clients a,b] [--tool NAME] [--fetch-allow HOST:PORT]
//
// With --fetch-allow HOST:PORT it also serves http_get, the egress
// benchmark's tool (tests/tools/http_get.c in mcpd): fetch a URL on that one
// host and port with the runtime's fetch (undici, keep-alive connections) and
// answer {status, content_type, length, body}.
//
// The issuer directory is the one mcpd reads through --discovery-url
// file://DIR/openid-configuration.json: the discovery document names the
// issuer and jwks_uri (file://.../jwks.json).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod/v4';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

const { values: opt } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'issuer-dir': { type: 'string' },
    auth: { type: 'string', default: 'jwt' },
    'allowed-clients': { type: 'string', default: 'bench-client' },
    tool: { type: 'string', default: 'sum' },
    'fetch-allow': { type: 'string' },
  },
});
if (!opt.port || (opt.auth !== 'none' && opt.auth !== 'jwt') || (opt.auth === 'jwt' && !opt['issuer-dir'])) {
  console.error('usage: node peer-server.mjs --port P [--host ADDR] (--issuer-dir DIR | --auth none) [--allowed-clients LIST] [--tool NAME] [--fetch-allow HOST:PORT]');
  process.exit(2);
}

const MAX = 2n ** 63n - 1n, MIN = -(2n ** 63n);
const int64 = z.number().int();

function numberResult(value) {
  // Same contract as mcpd: exact 64-bit integer arithmetic, overflow is a tool error.
  if (value > MAX || value < MIN) return { content: [{ type: 'text', text: 'result overflows a 64-bit integer' }], isError: true };
  const n = Number(value);
  return { content: [{ type: 'text', text: String(value) }], structuredContent: { result: n } };
}

// The SDK's documented option: one JSON Schema validator for every per-request
// server, instead of a new Ajv instance each time (a fifth of the peer's CPU).
const jsonSchemaValidator = new AjvJsonSchemaValidator();

function buildServer() {
  const server = new McpServer({ name: 'sdk-peer', version: '1.0.0' }, { jsonSchemaValidator });
  server.registerTool(opt.tool, {
    title: 'Sum',
    description: 'The sum of two integers',
    inputSchema: { a: int64, b: int64 },
    outputSchema: { result: z.number() },
  }, async ({ a, b }) => numberResult(BigInt(a) + BigInt(b)));
  if (opt['fetch-allow']) registerHttpGet(server, opt['fetch-allow']);
  return server;
}

const toolError = (text) => ({ content: [{ type: 'text', text: `http_get: ${text}` }], isError: true });

// mcpd's http_get: the same parameters, limits and answer. Like mcpd's
// egress it reaches only the host and port the operator allows, follows no
// redirect unless asked, and refuses a body over the cap rather than cut it.
function registerHttpGet(server, allowed) {
  server.registerTool('http_get', {
    description: 'Fetch a URL the operator allows, and say what came back',
    inputSchema: {
      url: z.string(),
      method: z.string().default('GET'),
      body: z.string().default(''),
      header: z.string().default(''),
      timeout_ms: z.number().int().min(0).max(600000).default(0),
      max_response: z.number().int().min(0).max(2 ** 30).default(0),
      follow: z.boolean().default(false),
    },
    outputSchema: { status: z.number().int(), content_type: z.string(), length: z.number().int(), body: z.string() },
    annotations: { readOnlyHint: true, openWorldHint: true },
  }, async (a) => {
    let url;
    try {
      url = new URL(a.url);
    } catch {
      return toolError(`bad_request: not a URL: ${a.url}`);
    }
    if (!/^https?:$/.test(url.protocol) || url.host !== allowed) return toolError(`refused_destination: ${url.host} is not allowed`);
    const cap = a.max_response || 1 << 20;
    let res, bytes;
    try {
      res = await fetch(url, {
        method: a.method,
        headers: a.header ? { 'x-test': a.header } : {},
        body: a.body === '' ? undefined : a.body,
        redirect: a.follow ? 'follow' : 'manual',
        signal: AbortSignal.timeout(a.timeout_ms || 10000),
      });
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      return toolError(`${e.name === 'TimeoutError' ? 'timeout' : 'connect_failed'}: ${e.message}`);
    }
    if (bytes.length > cap) return toolError(`too_large: the body is over ${cap} bytes`);
    const text = bytes.toString('utf8');
    const nul = text.indexOf('\0');
    const result = { status: res.status, content_type: res.headers.get('content-type') ?? '', length: bytes.length,
      body: nul < 0 ? text : text.slice(0, nul) };
    return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
  });
}

// Token checks as mcpd makes them: RS256 with a key from the JWKS, iss, exp,
// iat, token_use "access" and an allowed client_id.
function jwtVerifier(dir, allowedClients) {
  const discovery = JSON.parse(fs.readFileSync(`${dir}/openid-configuration.json`, 'utf8'));
  const jwks = createLocalJWKSet(JSON.parse(fs.readFileSync(fileURLToPath(discovery.jwks_uri), 'utf8')));
  return {
    async verifyAccessToken(token) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, jwks, { issuer: discovery.issuer, algorithms: ['RS256'], clockTolerance: 60 }));
      } catch (e) {
        throw new InvalidTokenError(`invalid token: ${e.code || e.message}`);
      }
      if (payload.token_use !== 'access') throw new InvalidTokenError('token_use is not access');
      if (!allowedClients.includes(payload.client_id)) throw new InvalidTokenError('client not allowed');
      return {
        token,
        clientId: payload.client_id,
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
        expiresAt: payload.exp,
      };
    },
  };
}

const app = createMcpExpressApp({ host: opt.host });
app.disable('x-powered-by');
const handlers = [];
if (opt.auth === 'jwt') {
  handlers.push(requireBearerAuth({ verifier: jwtVerifier(opt['issuer-dir'], opt['allowed-clients'].split(',')) }));
}

app.post('/mcp', ...handlers, async (req, res) => {
  const server = buildServer();
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (error) {
    console.error('error handling an MCP request:', error);
    if (!res.headersSent) {
      res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
    }
  }
});
const notAllowed = (req, res) => res.status(405).set('Allow', 'POST')
  .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
app.get('/mcp', notAllowed);
app.delete('/mcp', notAllowed);
app.get('/ping', (req, res) => res.json({ status: 'Healthy' }));

const listener = app.listen(Number(opt.port), opt.host, (error) => {
  if (error) {
    console.error(`cannot listen on ${opt.host}:${opt.port}: ${error.message}`);
    process.exit(1);
  }
});
// Like mcpd: keep-alive connections stay open while idle (wrk reuses them).
listener.keepAliveTimeout = 10000;
const stop = () => listener.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
