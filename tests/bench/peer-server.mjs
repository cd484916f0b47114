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
//       [--allowed-clients a,b] [--tool NAME]
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
  },
});
if (!opt.port || (opt.auth !== 'none' && opt.auth !== 'jwt') || (opt.auth === 'jwt' && !opt['issuer-dir'])) {
  console.error('usage: node peer-server.mjs --port P [--host ADDR] (--issuer-dir DIR | --auth none) [--allowed-clients LIST] [--tool NAME]');
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
  return server;
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
