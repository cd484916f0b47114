// The egress process alone (tests/helpers/egress_harness.c plays one
// worker) against real local upstreams: an HTTPS server with a test CA made
// at start, a slow one, a garbage one, one with an untrusted certificate.
// Requests and answers are JSON lines; see the harness for their shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../lib/wait.mjs';
import { makeCerts, startUpstream } from '../lib/upstream.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const HARNESS = process.env.TEST_EGRESS_HARNESS_BIN || path.resolve(here, '../../build/tests/egress-harness');

const servers = [];

function listen(server) {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// Counts connections and never speaks, or speaks garbage.
function rawServer(reply) {
  const s = { connections: 0 };
  s.server = net.createServer((sock) => {
    s.connections++;
    sock.on('error', () => {});
    if (reply) sock.end(reply);
  });
  return listen(s.server).then((port) => Object.assign(s, { port }));
}

// One harness process: send(obj) writes a line; answer(id) resolves with the answer to id.
function startHarness(args) {
  const child = spawn(HARNESS, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const answers = new Map();
  const wake = new Set();
  const h = { child, answers, stderr: '', exit: null, closed: false };
  child.stderr.on('data', (d) => { h.stderr += d; });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.type === 'exit') h.exit = msg.status;
    else if (msg.type === 'closed') h.closed = true;
    else answers.set(msg.id, msg);
    for (const w of wake) w();
  });
  h.send = (obj) => child.stdin.write(`${JSON.stringify(obj)}\n`);
  h.answer = (id, timeout = 10000) => waitUntil(() => answers.get(id), { timeout, wake, what: `the answer to ${id}` });
  h.exited = () => waitUntil(() => h.exit !== null && h, { wake, what: 'the harness to exit' }).then(() => h.exit);
  h.end = () => { child.stdin.end(); return h.exited(); };
  return h;
}

let certs, upstream, port, slowRaw, garbage, roguePort, egress;
const base = () => `https://127.0.0.1:${port}`;
let nextId = 1;
async function call(req, timeout) {
  const id = nextId++;
  egress.send({ id, tool: 'api', deadline: 5000, ...req });
  return egress.answer(id, timeout);
}

before(async () => {
  certs = makeCerts();
  upstream = await startUpstream(certs);
  port = upstream.port;
  slowRaw = await rawServer(null);
  garbage = await rawServer('this is not HTTP at all\r\n\r\n');
  const rogue = https.createServer({ key: readFileSync(certs.rogueKey), cert: readFileSync(certs.rogueCert) },
    (req, res) => res.end('rogue'));
  roguePort = await listen(rogue);
  egress = startHarness(['--sandbox', '--ca-file', certs.ca,
    '--tool', `api=127.0.0.1:${port},127.0.0.1:${garbage.port},127.0.0.1:${roguePort}`,
    '--egress-allow', `api=localhost:${roguePort}`]);
});

after(async () => {
  if (egress && egress.exit === null) egress.child.kill();
  for (const s of servers) s.close();
  upstream.close();
  rmSync(certs.dir, { recursive: true, force: true });
});

test('a GET comes back exact, with the upstream address', async () => {
  const a = await call({ url: `${base()}/get?x=1` });
  assert.equal(a.type, 'response', JSON.stringify(a));
  assert.equal(a.status, 201);
  assert.deepEqual(a.headers.find(([n]) => n.toLowerCase() === 'x-echo'), ['x-echo', 'yes']);
  const echo = JSON.parse(a.body);
  assert.equal(echo.method, 'GET');
  assert.equal(echo.url, '/get?x=1');
  assert.equal(echo.headers.accept, undefined, 'libcurl adds no Accept of its own');
  assert.equal(a.remote, `127.0.0.1:${port}`);
});

test('a POST sends its body and headers exact', async () => {
  const body = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
  const a = await call({ method: 'POST', url: `${base()}/post`, body,
    headers: [['Content-Type', 'application/json'], ['X-Custom', 'a\tb'], ['X-Empty', '']] });
  assert.equal(a.type, 'response', JSON.stringify(a));
  const echo = JSON.parse(a.body);
  assert.equal(echo.method, 'POST');
  assert.equal(echo.body, body);
  assert.equal(echo.headers['content-type'], 'application/json');
  assert.equal(echo.headers['x-custom'], 'a\tb');
  assert.equal(echo.headers['x-empty'], '');
  assert.equal(echo.headers['content-length'], String(body.length));
  assert.equal(echo.headers.expect, undefined);
});

test('two requests in a row reuse one TLS connection', async () => {
  const before = upstream.connections;
  assert.equal((await call({ url: `${base()}/one` })).status, 201);
  assert.equal((await call({ url: `${base()}/two` })).status, 201);
  assert.ok(upstream.connections - before <= 1, `${upstream.connections - before} new connections`);
});

test('a slow upstream fails with timeout at the deadline', async () => {
  const started = Date.now();
  const a = await call({ url: `${base()}/slow`, deadline: 400 });
  const took = Date.now() - started;
  assert.equal(a.outcome, 'timeout', JSON.stringify(a));
  assert.ok(took >= 350 && took < 3000, `took ${took} ms`);
});

test('a body over the cap fails with too_large', async () => {
  const a = await call({ url: `${base()}/huge`, cap: 100000 });
  assert.equal(a.outcome, 'too_large', JSON.stringify(a));
  assert.match(a.message, /over the 100000 bytes/);
});

test('response headers over the header cap fail with too_large', async () => {
  const a = await call({ url: `${base()}/get`, header_cap: 20 });
  assert.equal(a.outcome, 'too_large', JSON.stringify(a));
  assert.match(a.message, /headers are over the 20 bytes/);
});

test('an upstream that does not speak HTTP fails clearly', async () => {
  const a = await call({ url: `http://127.0.0.1:${garbage.port}/` });
  assert.equal(a.type, 'failure');
  assert.equal(a.outcome, 'connect_failed', JSON.stringify(a));
  assert.match(a.message, new RegExp(`127\\.0\\.0\\.1:${garbage.port}`));
});

test('a certificate the CA did not sign fails with tls_failed', async () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    const a = await call({ url: `https://${host}:${roguePort}/` });
    assert.equal(a.outcome, 'tls_failed', JSON.stringify(a));
  }
});

test('the metadata address in every spelling is refused before any connection', async () => {
  for (const host of ['169.254.169.254', '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', '169.254.43518',
    '[::ffff:169.254.169.254]', '[::ffff:a9fe:a9fe]', '169.254.169.254.']) {
    const a = await call({ url: `http://${host}/latest/meta-data/` });
    assert.equal(a.outcome, 'refused_destination', `${host}: ${JSON.stringify(a)}`);
  }
});

test('a loopback name, a wrong port and an undeclared tool are refused; the upstream sees nothing', async () => {
  const seen = upstream.requests.length;
  const refused = [
    { url: `https://localhost:${port}/` },
    { url: `https://127.0.0.1:${slowRaw.port}/` },
    { url: `https://127.0.0.1:${port}/`, tool: 'other' },
    { url: `file:///etc/passwd` },
  ];
  for (const req of refused) {
    const a = await call(req);
    assert.ok(['refused_destination', 'bad_request'].includes(a.outcome), `${req.url}: ${JSON.stringify(a)}`);
  }
  assert.equal((await call(refused[0])).outcome, 'refused_destination');
  assert.equal(upstream.requests.length, seen);
  assert.equal(slowRaw.connections, 0);
});

test('an operator entry TOOL=localhost:PORT admits that tool there', async () => {
  const a = await call({ url: `https://localhost:${roguePort}/` });
  assert.equal(a.outcome, 'tls_failed', 'admitted, then refused by TLS (the rogue certificate)');
});

test('a redirect is returned unless followed; followed, each hop is checked', async () => {
  const to = encodeURIComponent(`${base()}/landed`);
  const plain = await call({ url: `${base()}/redirect?to=${to}` });
  assert.equal(plain.status, 302);
  const followed = await call({ url: `${base()}/redirect?to=${to}`, follow: true });
  assert.equal(followed.status, 201);
  assert.equal(JSON.parse(followed.body).url, '/landed');
  const meta = encodeURIComponent('http://169.254.169.254/latest/meta-data/');
  const a = await call({ url: `${base()}/redirect?to=${meta}`, follow: true });
  assert.equal(a.outcome, 'refused_destination', JSON.stringify(a));
  assert.match(a.message, /^redirect to 169\.254\.169\.254:80 refused/);
});

test('a cancel ends a transfer mid-way and closes its stream', async () => {
  const id = nextId++;
  const seen = upstream.requests.length;
  egress.send({ id, tool: 'api', url: `${base()}/slow`, deadline: 10000 });
  await waitUntil(() => upstream.requests.length > seen, { what: 'the upstream to see the request' });
  egress.send({ cancel: id });
  const a = await egress.answer(id);
  assert.equal(a.outcome, 'cancelled');
  assert.match(egress.stderr, /"outcome":"cancelled"/);
});

test('log lines never carry a query or a header value', async () => {
  await call({ url: `${base()}/get?key=SECRETQUERY`, headers: [['Authorization', 'Bearer SECRETHEADER']] });
  await waitUntil(() => egress.stderr.includes('"status":201'), { what: 'a log line' });
  assert.doesNotMatch(egress.stderr, /SECRETQUERY|SECRETHEADER/);
});

test('a closed connection cancels its transfers; the egress serves the next one', async () => {
  const id = nextId++;
  const seen = upstream.requests.length;
  egress.send({ id, tool: 'api', url: `${base()}/slow`, deadline: 10000 });
  await waitUntil(() => upstream.requests.length > seen, { what: 'the upstream to see the request' });
  const open = upstream.open.size;
  egress.send({ reconnect: true });
  await waitUntil(() => upstream.open.size < open, { what: 'the upstream connection of the cancelled transfer to close' });
  const a = await call({ url: `${base()}/after` });
  assert.equal(a.status, 201);
  assert.equal(egress.answers.get(id), undefined, 'no answer on the closed connection');
});

test('stopping fails what is in flight with egress_restarted and exits 0', async () => {
  const h = startHarness(['--sandbox', '--ca-file', certs.ca, '--tool', `api=127.0.0.1:${port}`]);
  const seen = upstream.requests.length;
  h.send({ id: 1, tool: 'api', url: `${base()}/slow`, deadline: 10000 });
  await waitUntil(() => upstream.requests.length > seen, { what: 'the upstream to see the request' });
  h.send({ stop: true });
  const a = await h.answer(1);
  assert.equal(a.outcome, 'egress_restarted');
  assert.equal(await h.end(), 0);
});

test('the end of stdin stops the egress cleanly', async () => {
  const h = startHarness(['--tool', `api=127.0.0.1:${port}`]);
  h.send({ id: 1, tool: 'api', url: `${base()}/slow`, deadline: 10000 });
  assert.equal(await h.end(), 0);
});
