// The example tools of worker/tools/examples/ end to end: the real mcpd
// (a test build, which has them), its egress process, and the official MCP
// TypeScript SDK client.  fetch reads pages from an HTTPS server whose
// certificate comes from a test CA (--egress-ca-file), allowed by an
// unprefixed --egress-allow entry (fetch takes the operator's
// destinations).  s3_get_object reads from s3rver through
// AWS_ENDPOINT_URL_S3, behind a front that recomputes every SigV4 signature
// with @smithy/signature-v4 and refuses a mismatch as S3 does (403,
// SignatureDoesNotMatch); what it passes on reaches s3rver unsigned.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startMcpd } from '../lib/mcpd.mjs';
import { checkSigV4 } from '../lib/sigv4-check.mjs';
import { makeCerts, listen as listenOn } from '../lib/upstream.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The npm packages live with tests/node/package.json (ops/deps test installs them).
const fromNode = createRequire(path.resolve(here, '../node/package.json'));
const { Client } = fromNode('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = fromNode('@modelcontextprotocol/sdk/client/streamableHttp.js');
const S3rver = fromNode('s3rver');

const REGION = 'us-east-1';
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLETOOLS', AWS_SECRET_ACCESS_KEY: 'example/tools+Secret', AWS_SESSION_TOKEN: 'example-session-token' };

let dir;
const servers = [];
const mcpds = [];
const clients = [];

function listen(server) {
  servers.push(server);
  return listenOn(server);
}

// ------------------------------------------------------------ fetch's upstream

const ARTICLE = `<!doctype html>
<html>
<head><title>Example Domain</title><style>body { color: red }</style></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<main>
<h1>Example Domain</h1>
<p>This domain is for use in <a href="https://example.org/more">illustrative examples</a> in documents.</p>
<ul><li>First &amp; foremost</li><li>Second</li></ul>
<script>document.write('no')</script>
</main>
<footer>Footer text</footer>
</body>
</html>
`;
// What worker/html_text makes of it: only <main>, as Markdown.
const ARTICLE_TEXT = '# Example Domain\n\nThis domain is for use in [illustrative examples](https://example.org/more) ' +
  'in documents.\n\n- First & foremost\n- Second';
// 12,345 characters, some of two, three and four bytes: pages count characters, not bytes.
const LONG = Array.from({ length: 12345 }, (_, i) => ['a', 'é', '€', '😀', '\n'][i % 7 === 6 ? 4 : i % 4]).join('');

const pages = { requests: [] };
function startPages(certs) {
  const server = https.createServer({ key: fs.readFileSync(certs.key), cert: fs.readFileSync(certs.cert) }, (req, res) => {
    pages.requests.push({ url: req.url, userAgent: req.headers['user-agent'] });
    const url = new URL(req.url, 'https://x');
    if (url.pathname === '/article.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(ARTICLE);
    }
    if (url.pathname === '/long.txt') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(LONG);
    }
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') || '/article.html' });
      return res.end();
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not here');
  });
  return listen(server);
}

// An HTTPS server no tool may reach: it counts the connections it gets.
const elsewhere = { connections: 0 };
function startElsewhere(certs) {
  const server = https.createServer({ key: fs.readFileSync(certs.key), cert: fs.readFileSync(certs.cert) },
    (req, res) => res.end('reached'));
  server.on('connection', () => { elsewhere.connections++; });
  return listen(server);
}

// The reference server's pagination of `content`, in characters (code points).
function referencePage(content, start, max) {
  const chars = Array.from(content);
  if (start >= chars.length) return '<error>No more content available.</error>';
  const slice = chars.slice(start, start + max);
  const rest = chars.length - (start + slice.length);
  let text = slice.join('');
  if (slice.length === max && rest > 0) {
    text += `\n\n<error>Content truncated. Call the fetch tool with a start_index of ${start + slice.length} to get more content.</error>`;
  }
  return text;
}

// ------------------------------------------------------------ S3: s3rver behind a verifying front

const S3_OBJECTS = {
  'notes/hello world ü+~.txt': Buffer.from('Grüße aus S3\nzweite Zeile\n'),
  'bin/blob': Buffer.from([0x00, 0xff, 0x10, 0x80]),
};
let s3rver;
let s3Port;

async function startS3rver() {
  s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3'),
    configureBuckets: [{ name: 'docs' }] });
  s3Port = (await s3rver.run()).port;
  for (const [key, body] of Object.entries(S3_OBJECTS)) {
    const encoded = key.split('/').map(encodeURIComponent).join('/');
    const res = await fetch(`http://127.0.0.1:${s3Port}/docs/${encoded}`, { method: 'PUT', body });
    assert.equal(res.status, 200, `PUT ${key}: ${await res.text()}`);
  }
}

// The front: the keys it knows, by access key id; what it saw.
const front = { keys: new Map(), seen: [], port: 0 };

// Recomputes the signature with smithy, as the AWS SDKs configure it for S3,
// from the request as received; the S3 error Code when it does not hold.
async function verify(req) {
  const v = await checkSigV4(req, null, front.keys, { region: REGION, service: 's3' });
  return v.ok ? null : v.code;
}

function startFront() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      const refused = await verify(req).catch((e) => `the front failed: ${e}`);
      front.seen.push({ method: req.method, url: req.url, host: req.headers.host, refused });
      if (refused) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        return res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refused}</Code><Message>refused by the test front</Message></Error>`);
      }
      // Signed correctly: on to s3rver, without the signature (s3rver's own
      // SigV4 check is incomplete; smithy's above is the one that counts).
      const headers = { ...req.headers, host: `127.0.0.1:${s3Port}` };
      for (const h of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) delete headers[h];
      const upstream = http.request({ host: '127.0.0.1', port: s3Port, method: req.method, path: req.url, headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      upstream.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      upstream.end();
    });
  });
  return listen(server).then((port) => { front.port = port; });
}

// ------------------------------------------------------------ mcpd and the client

let certs, pagesPort, elsewherePort, server, client;

async function connect(url) {
  const c = new Client({ name: 'mcpd-example-tools-test', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(c);
  return c;
}

// mcpd with the example tools' destinations, and these AWS_* variables (and
// none of the test runner's own: `env -u` removes them).
async function startWithAws(awsEnv) {
  const unset = Object.keys(process.env).filter((k) => k.startsWith('AWS_') && !(k in awsEnv)).flatMap((k) => ['-u', k]);
  const s = await startMcpd({
    workers: 1,
    wrapper: ['env', ...unset],
    args: ['--egress-allow', `127.0.0.1:${pagesPort},s3_get_object=127.0.0.1:${front.port}`, '--egress-ca-file', certs.ca],
    env: awsEnv,
  });
  mcpds.push(s);
  return s;
}

const s3Env = (keys) => ({ ...keys, AWS_REGION: REGION, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${front.port}`,
  AWS_EC2_METADATA_DISABLED: 'true' });

before(async () => {
  certs = makeCerts();
  dir = certs.dir;
  pagesPort = await startPages(certs);
  elsewherePort = await startElsewhere(certs);
  await startS3rver();
  await startFront();
  front.keys.set(KEYS.AWS_ACCESS_KEY_ID, { secret: KEYS.AWS_SECRET_ACCESS_KEY, token: KEYS.AWS_SESSION_TOKEN });
  server = await startWithAws(s3Env(KEYS));
  client = await connect(server.url);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  const stopped = [];
  for (const s of mcpds) stopped.push(await s.stop());
  for (const s of servers) { s.closeAllConnections?.(); s.close(); }
  if (s3rver) await s3rver.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  for (const { code, signal } of stopped) assert.equal(code, 0, `mcpd exit code (signal ${signal})`);
});

const call = (name, args, c = client) => c.callTool({ name, arguments: args });
const textOf = (result) => result.content.map((c) => c.text).join('');
const page = (p) => `https://127.0.0.1:${pagesPort}${p}`;

// ------------------------------------------------------------ fetch

test('tools/list: fetch with the reference server\'s parameters, s3_get_object, both read-only', async () => {
  const { tools } = await client.listTools();
  const fetchTool = tools.find((t) => t.name === 'fetch');
  assert.ok(fetchTool, 'fetch is listed in a test build');
  const p = fetchTool.inputSchema.properties;
  assert.deepEqual(fetchTool.inputSchema.required, ['url']);
  assert.equal(p.url.type, 'string');
  assert.deepEqual([p.max_length.type, p.max_length.default, p.max_length.minimum, p.max_length.maximum], ['integer', 5000, 1, 999999]);
  assert.deepEqual([p.start_index.type, p.start_index.default, p.start_index.minimum], ['integer', 0, 0]);
  assert.deepEqual([p.raw.type, p.raw.default], ['boolean', false]);
  assert.equal(fetchTool.annotations.readOnlyHint, true);
  assert.equal(fetchTool.annotations.openWorldHint, true);
  const s3 = tools.find((t) => t.name === 's3_get_object');
  assert.ok(s3, 's3_get_object is listed in a test build');
  assert.deepEqual([...s3.inputSchema.required].sort(), ['bucket', 'key']);
  assert.equal(s3.annotations.readOnlyHint, true);
});

test('fetch: an HTML page becomes its readable text, through the egress and the test CA', async () => {
  const seen = pages.requests.length;
  const result = await call('fetch', { url: page('/article.html') });
  assert.equal(result.isError, false, textOf(result));
  assert.equal(textOf(result), `Contents of ${page('/article.html')}:\n${ARTICLE_TEXT}`);
  assert.deepEqual(result.structuredContent, { result: textOf(result) });
  const [req] = pages.requests.slice(seen);
  assert.equal(req.url, '/article.html');
  assert.match(req.userAgent, /^mcpd\/\S+ \(fetch tool\)$/);
});

test('fetch: pages of max_length characters from start_index, in the reference server\'s words', async () => {
  const prefix = `Content type text/plain; charset=utf-8 cannot be simplified to markdown, but here is the raw content:\nContents of ${page('/long.txt')}:\n`;
  for (const [start, max] of [[0, 5000], [5000, 5000], [10000, 5000], [12344, 5000], [12345, 5000], [20000, 10], [3, 1], [0, 999999]]) {
    const args = { url: page('/long.txt'), max_length: max, start_index: start };
    const result = await call('fetch', args);
    assert.equal(result.isError, false, textOf(result));
    assert.equal(textOf(result), prefix + referencePage(LONG, start, max), JSON.stringify(args));
  }
  // Following the note from page to page gives back the whole text.
  let start = 0;
  let whole = '';
  for (let n = 0; n < 10; n++) {
    const text = textOf(await call('fetch', { url: page('/long.txt'), max_length: 4000, start_index: start })).slice(prefix.length);
    const note = /\n\n<error>Content truncated\. Call the fetch tool with a start_index of (\d+) to get more content\.<\/error>$/.exec(text);
    whole += note ? text.slice(0, note.index) : text;
    if (!note) break;
    start = Number(note[1]);
  }
  assert.equal(whole, LONG);
  const defaults = await call('fetch', { url: page('/long.txt') });
  assert.equal(textOf(defaults), prefix + referencePage(LONG, 0, 5000), 'max_length 5000 and start_index 0 by default');
});

test('fetch: raw gives the page itself, with the reference server\'s note', async () => {
  const result = await call('fetch', { url: page('/article.html'), raw: true });
  assert.equal(result.isError, false, textOf(result));
  assert.equal(textOf(result), 'Content type text/html; charset=utf-8 cannot be simplified to markdown, but here is ' +
    `the raw content:\nContents of ${page('/article.html')}:\n${ARTICLE}`);
});

test('fetch: arguments out of the reference server\'s bounds are refused before any request', async () => {
  const seen = pages.requests.length;
  for (const [args, message] of [
    [{ url: page('/article.html'), max_length: 0 }, "argument 'max_length' must be at least 1"],
    [{ url: page('/article.html'), max_length: 1000000 }, "argument 'max_length' must be at most 999999"],
    [{ url: page('/article.html'), start_index: -1 }, "argument 'start_index' must be at least 0"],
  ]) {
    const result = await call('fetch', args);
    assert.equal(result.isError, true, JSON.stringify(args));
    assert.equal(textOf(result), `fetch: ${message}`);
  }
  assert.equal(pages.requests.length, seen);
});

test('fetch: a redirect to an allowed page is followed', async () => {
  const result = await call('fetch', { url: page('/redirect') });
  assert.equal(result.isError, false, textOf(result));
  assert.equal(textOf(result), `Contents of ${page('/redirect')}:\n${ARTICLE_TEXT}`);
});

test('fetch: an error status is a tool error that names it', async () => {
  const result = await call('fetch', { url: page('/missing') });
  assert.equal(result.isError, true);
  assert.equal(textOf(result), `fetch: Failed to fetch ${page('/missing')} - status code 404`);
});

test('fetch: a destination the operator did not allow is refused, and never reached', async () => {
  const url = `https://127.0.0.1:${elsewherePort}/`;
  const direct = await call('fetch', { url });
  assert.equal(direct.isError, true);
  assert.match(textOf(direct), new RegExp(`^fetch: Failed to fetch ${url.replace(/\./g, '\\.')}: refused_destination: 127\\.0\\.0\\.1:${elsewherePort}`));
  const redirected = await call('fetch', { url: page(`/redirect?to=${encodeURIComponent(url)}`) });
  assert.equal(redirected.isError, true);
  assert.match(textOf(redirected), new RegExp(`refused_destination: redirect to 127\\.0\\.0\\.1:${elsewherePort} refused`));
  assert.equal(elsewhere.connections, 0, 'a refused destination sees no connection');
});

// ------------------------------------------------------------ s3_get_object

test('s3_get_object: an object\'s text, signed as smithy signs S3, the key in S3\'s encoding', async () => {
  const seen = front.seen.length;
  const result = await call('s3_get_object', { bucket: 'docs', key: 'notes/hello world ü+~.txt' });
  assert.equal(result.isError, false, textOf(result));
  assert.equal(textOf(result), S3_OBJECTS['notes/hello world ü+~.txt'].toString());
  assert.deepEqual(front.seen.slice(seen), [{ method: 'GET', url: '/docs/notes/hello%20world%20%C3%BC%2B~.txt',
    host: `127.0.0.1:${front.port}`, refused: null }]);
});

test('s3_get_object: a missing key, a missing bucket, a binary object: clear tool errors', async () => {
  const missing = await call('s3_get_object', { bucket: 'docs', key: 'notes/absent.txt' });
  assert.equal(missing.isError, true);
  assert.equal(textOf(missing), 's3_get_object: no such key: s3://docs/notes/absent.txt');
  const noBucket = await call('s3_get_object', { bucket: 'other-bucket', key: 'a.txt' });
  assert.equal(noBucket.isError, true);
  assert.equal(textOf(noBucket), 's3_get_object: no such bucket: other-bucket');
  const binary = await call('s3_get_object', { bucket: 'docs', key: 'bin/blob' });
  assert.equal(binary.isError, true);
  assert.match(textOf(binary), /^s3_get_object: s3:\/\/docs\/bin\/blob is not UTF-8 text \(4 bytes, Content-Type [^)]+\): this tool returns text only$/);
});

test('s3_get_object: a bucket name S3 would refuse is refused before any request', async () => {
  const seen = front.seen.length;
  for (const [bucket, why] of [['ab', 'must be 3 to 63 characters long'], ['Docs', "may hold only lower-case letters, digits, '.' and '-'"],
    ['-docs', 'must begin and end with a letter or a digit'], ['do..cs', 'may not hold two periods in a row']]) {
    const result = await call('s3_get_object', { bucket, key: 'a.txt' });
    assert.equal(result.isError, true, bucket);
    assert.equal(textOf(result), `s3_get_object: bucket "${bucket}" ${why}`);
  }
  assert.equal(front.seen.length, seen);
});

test('s3_get_object: a wrong secret is refused by the signature check: access denied, 403', async () => {
  const wrong = await startWithAws(s3Env({ ...KEYS, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }));
  const c = await connect(wrong.url);
  const seen = front.seen.length;
  const result = await call('s3_get_object', { bucket: 'docs', key: 'notes/hello world ü+~.txt' }, c);
  assert.equal(result.isError, true);
  assert.equal(textOf(result), 's3_get_object: access denied (HTTP 403 SignatureDoesNotMatch): S3 refused the server\'s AWS credentials');
  assert.deepEqual(front.seen.slice(seen).map((s) => s.refused), ['SignatureDoesNotMatch']);
});

test('s3_get_object: without AWS_REGION the tool says so, and sends nothing', async () => {
  const bare = await startWithAws({});
  const c = await connect(bare.url);
  const seen = front.seen.length;
  const result = await call('s3_get_object', { bucket: 'docs', key: 'a.txt' }, c);
  assert.equal(result.isError, true);
  assert.equal(textOf(result), 's3_get_object: AWS_REGION is not set');
  assert.equal(front.seen.length, seen);
});

test('no secret or session token appears in mcpd\'s logs', () => {
  for (const s of mcpds) {
    const logs = s.lines.join('\n') + s.stderr;
    for (const secret of [KEYS.AWS_SECRET_ACCESS_KEY, KEYS.AWS_SESSION_TOKEN, 'not-the-secret']) {
      assert.ok(!logs.includes(secret), 'a secret reached the logs');
    }
  }
});
