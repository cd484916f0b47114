// The egress's AWS credential chain and endpoints, against real local
// parts: an IMDSv2 server on loopback written to the documented protocol
// (token PUT with its TTL header, the token required on every GET, role
// listing, credentials with an Expiration), reached through
// AWS_EC2_METADATA_SERVICE_ENDPOINT, and an upstream front that recomputes
// every request's SigV4 signature with @smithy/signature-v4 from what it
// received and the keys it knows, and answers 403 on a mismatch.  The
// egress runs sandboxed in tests/helpers/egress_harness.c, one harness per
// set of AWS_* variables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../lib/wait.mjs';
import { checkSigV4 } from '../lib/sigv4-check.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The npm packages live with tests/node/package.json (ops/deps test installs them).
const HARNESS = process.env.TEST_EGRESS_HARNESS_BIN || path.resolve(here, '../../build/tests/egress-harness');
const REGION = 'us-east-1';

const servers = [];
const harnesses = [];
function listen(server) {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// The front: the keys it knows, by access key id; what it saw.
const front = { keys: new Map(), seen: [], port: 0 };

// Recomputes the signature with smithy from the request as received.
async function verify(req, body) {
  const v = await checkSigV4(req, body, front.keys);
  return v.ok ? v : { ok: false, why: v.code };
}

async function startFront() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const v = await verify(req, body).catch((e) => ({ ok: false, why: String(e) }));
      front.seen.push({ url: req.url, host: req.headers.host, ...v });
      res.writeHead(v.ok ? 200 : 403, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    });
  });
  front.port = await listen(server);
}

// IMDSv2: tokens it issued, what it was asked, and how it issues credentials.
const imds = { tokens: new Set(), log: [], lifetimeS: 6 * 3600, generation: 0, role: 'mcpd-test-role', port: 0 };
function issueCredentials() {
  imds.generation++;
  const cred = { keyId: `ASIAIMDS${imds.generation}`, secret: randomBytes(20).toString('base64'),
    token: randomBytes(40).toString('base64') };
  front.keys.set(cred.keyId, { secret: cred.secret, token: cred.token });
  const expiration = new Date(Math.ceil(Date.now() / 1000 + imds.lifetimeS) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return { cred, doc: { Code: 'Success', LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    Type: 'AWS-HMAC', AccessKeyId: cred.keyId, SecretAccessKey: cred.secret, Token: cred.token,
    Expiration: expiration } };
}

async function startImds() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const entry = { method: req.method, url: req.url, ttl: req.headers['x-aws-ec2-metadata-token-ttl-seconds'] };
      imds.log.push(entry);
      if (req.method === 'PUT' && req.url === '/latest/api/token') {
        const ttl = Number(entry.ttl);
        if (!(ttl >= 1 && ttl <= 21600)) { res.writeHead(400); return res.end(); }
        const token = randomBytes(32).toString('base64');
        imds.tokens.add(token);
        res.writeHead(200, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
        return res.end(token);
      }
      if (req.method !== 'GET') { res.writeHead(405); return res.end(); }
      if (!imds.tokens.has(req.headers['x-aws-ec2-metadata-token'])) { res.writeHead(401); return res.end(); }
      if (req.url === '/latest/meta-data/iam/security-credentials/') {
        res.writeHead(200);
        return res.end(`${imds.role}\n`);
      }
      if (req.url === `/latest/meta-data/iam/security-credentials/${imds.role}`) {
        const { cred, doc } = issueCredentials();
        imds.issued = [...(imds.issued || []), cred];
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end(JSON.stringify(doc));
      }
      res.writeHead(404);
      res.end();
    });
  });
  imds.port = await listen(server);
}

// One harness with these AWS_* variables (and none of the test's own environment's).
function startHarness(awsEnv, extraArgs = []) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const child = spawn(HARNESS, ['--sandbox', '--egress-allow', `s3tool=127.0.0.1:${front.port}`, ...extraArgs],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...env, ...awsEnv } });
  const answers = new Map();
  const wake = new Set();
  const h = { child, answers, stderr: '', exit: null, nextId: 1 };
  child.stderr.on('data', (d) => { h.stderr += d; for (const w of wake) w(); });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.type === 'exit') h.exit = msg.status;
    else if (msg.id !== undefined) answers.set(msg.id, msg);
    for (const w of wake) w();
  });
  h.call = (req) => {
    const id = h.nextId++;
    child.stdin.write(`${JSON.stringify({ id, tool: 's3tool', method: 'GET', deadline: 8000,
      aws: { service: 's3', region: REGION }, ...req })}\n`);
    return waitUntil(() => answers.get(id), { timeout: 15000, wake, what: `the answer to ${id}` });
  };
  h.logged = (pattern) => waitUntil(() => pattern.test(h.stderr), { wake, what: `a log line ${pattern}` });
  h.end = () => { child.stdin.end(); return waitUntil(() => h.exit !== null, { wake, what: 'the harness to exit' }).then(() => h.exit); };
  harnesses.push(h);
  return h;
}

const frontUrl = (p) => `http://127.0.0.1:${front.port}${p}`;
const ENV_KEYS = { AWS_ACCESS_KEY_ID: 'AKIAENVEXAMPLE', AWS_SECRET_ACCESS_KEY: 'env-secret/Example+Key',
  AWS_SESSION_TOKEN: 'env-session-token', AWS_REGION: REGION };

before(async () => {
  await startFront();
  await startImds();
  front.keys.set(ENV_KEYS.AWS_ACCESS_KEY_ID, { secret: ENV_KEYS.AWS_SECRET_ACCESS_KEY, token: ENV_KEYS.AWS_SESSION_TOKEN });
});

after(async () => {
  for (const h of harnesses) if (h.exit === null) h.child.kill();
  for (const s of servers) { s.closeAllConnections?.(); s.close(); }
});

test('environment credentials sign correctly, a GET and a POST to another service', async () => {
  const h = startHarness(ENV_KEYS);
  const a = await h.call({ url: frontUrl('/bucket/some/key.txt?versionId=3') });
  assert.equal(a.status, 200, JSON.stringify(a));
  assert.equal(JSON.parse(a.body).keyId, ENV_KEYS.AWS_ACCESS_KEY_ID);
  const b = await h.call({ method: 'POST', url: frontUrl('/'), body: 'Action=ListQueues&Version=2012-11-05',
    headers: [['Content-Type', 'application/x-www-form-urlencoded']], aws: { service: 'sqs' } });
  assert.equal(b.status, 200, JSON.stringify(b));
  assert.equal(JSON.parse(b.body).service, 'sqs');
  await h.logged(/aws_credentials.*environment/);
  assert.equal(imds.log.length, 0, 'environment keys: IMDS is never asked');
  assert.equal(await h.end(), 0, h.stderr);
  assert.ok(!h.stderr.includes(ENV_KEYS.AWS_SECRET_ACCESS_KEY) && !h.stderr.includes(ENV_KEYS.AWS_SESSION_TOKEN));
});

test('a wrong secret fails the front\'s check: 403', async () => {
  const h = startHarness({ ...ENV_KEYS, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
  const a = await h.call({ url: frontUrl('/bucket/key') });
  assert.equal(a.status, 403, JSON.stringify(a));
  assert.equal(JSON.parse(a.body).why, 'SignatureDoesNotMatch');
  assert.equal(await h.end(), 0, h.stderr);
});

test('IMDSv2 credentials are fetched once, by the documented steps, and used', async () => {
  imds.log.length = 0;
  imds.lifetimeS = 6 * 3600;
  const h = startHarness({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${imds.port}`, AWS_REGION: REGION });
  // Two requests at once: both wait for the one fetch.
  const [a, b] = await Promise.all([h.call({ url: frontUrl('/bucket/a') }), h.call({ url: frontUrl('/bucket/b') })]);
  const issued = imds.issued.at(-1);
  for (const x of [a, b]) {
    assert.equal(x.status, 200, JSON.stringify(x));
    assert.equal(JSON.parse(x.body).keyId, issued.keyId);
  }
  assert.deepEqual(imds.log.map((e) => `${e.method} ${e.url}`), [
    'PUT /latest/api/token',
    'GET /latest/meta-data/iam/security-credentials/',
    `GET /latest/meta-data/iam/security-credentials/${imds.role}`,
  ]);
  assert.equal(imds.log[0].ttl, '21600');
  const c = await h.call({ url: frontUrl('/bucket/c') });
  assert.equal(JSON.parse(c.body).keyId, issued.keyId);
  assert.equal(imds.log.length, 3, 'long-lived credentials are not fetched again');
  await h.logged(new RegExp(`aws_credentials.*imds.*${imds.role}`));
  assert.equal(await h.end(), 0, h.stderr);
  for (const secret of [issued.secret, issued.token]) assert.ok(!h.stderr.includes(secret), 'no secret in the logs');
});

test('short-lived credentials are refreshed, through a new token after a 401, and the new ones used', async () => {
  imds.log.length = 0;
  imds.lifetimeS = 4;	// refreshed at half-life
  const h = startHarness({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${imds.port}/`, AWS_REGION: REGION });
  const first = await h.call({ url: frontUrl('/bucket/first') });
  assert.equal(first.status, 200, JSON.stringify(first));
  const firstKey = JSON.parse(first.body).keyId;
  imds.tokens.clear();	// the service forgets its tokens: the refresh's GET gets a 401
  const puts = imds.log.filter((e) => e.method === 'PUT').length;
  const last = await waitUntil(async () => {
    const a = await h.call({ url: frontUrl('/bucket/again') });
    assert.equal(a.status, 200, JSON.stringify(a));
    const keyId = JSON.parse(a.body).keyId;
    return keyId !== firstKey && keyId;
  }, { timeout: 15000, what: 'a request signed with refreshed credentials' });
  assert.equal(last, imds.issued.at(-1).keyId);
  assert.ok(imds.log.filter((e) => e.method === 'PUT').length > puts, 'a new token was fetched');
  assert.equal(await h.end(), 0, h.stderr);
});

test('IMDS unreachable: a clear failure', async () => {
  const closed = net.createServer();
  const port = await new Promise((resolve) => closed.listen(0, '127.0.0.1', () => resolve(closed.address().port)));
  await new Promise((resolve) => closed.close(resolve));
  const h = startHarness({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}`, AWS_REGION: REGION });
  const a = await h.call({ url: frontUrl('/bucket/key') });
  assert.equal(a.type, 'failure', JSON.stringify(a));
  assert.match(a.message, /^no AWS credentials: .*instance metadata service at http:\/\/127\.0\.0\.1:\d+: the token PUT failed/);
  await h.logged(/aws_credentials_failed/);
  assert.equal(await h.end(), 0, h.stderr);
});

test('AWS_EC2_METADATA_DISABLED=true: IMDS is not asked, a clear failure', async () => {
  imds.log.length = 0;
  const h = startHarness({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${imds.port}`,
    AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: REGION });
  const a = await h.call({ url: frontUrl('/bucket/key') });
  assert.equal(a.type, 'failure', JSON.stringify(a));
  assert.match(a.message, /^no AWS credentials: .*AWS_EC2_METADATA_DISABLED is true/);
  assert.equal(imds.log.length, 0);
  assert.equal(await h.end(), 0, h.stderr);
});

test('AWS_ENDPOINT_URL_S3 routes an S3 request to the local front, still under the destination policy', async () => {
  const h = startHarness({ ...ENV_KEYS, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${front.port}`,
    AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
  const seen = front.seen.length;
  const a = await h.call({ url: `https://s3.${REGION}.amazonaws.com/bucket/routed?list-type=2` });
  assert.equal(a.status, 200, JSON.stringify(a));
  assert.deepEqual(front.seen.slice(seen).map((s) => [s.url, s.host, s.ok]),
    [['/bucket/routed?list-type=2', `127.0.0.1:${front.port}`, true]]);
  // A tool the operator did not allow there is refused, overridden endpoint or not.
  const refused = await h.call({ tool: 'other', url: `https://s3.${REGION}.amazonaws.com/bucket/routed` });
  assert.equal(refused.outcome, 'refused_destination', JSON.stringify(refused));
  assert.equal(await h.end(), 0, h.stderr);
});

test('a request waiting for credentials fails at its own deadline when IMDS hangs', async () => {
  const hanging = net.createServer((sock) => sock.on('error', () => {}));	// accepts, never answers
  const port = await listen(hanging);
  const h = startHarness({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${port}`, AWS_REGION: REGION });
  const started = Date.now();
  const a = await h.call({ url: frontUrl('/bucket/key'), deadline: 300 });
  const took = Date.now() - started;
  assert.equal(a.outcome, 'timeout', JSON.stringify(a));
  assert.match(a.message, /deadline passed while the AWS credentials were being fetched/);
  assert.ok(took < 1500, `answered after ${took} ms, not at its 300 ms deadline`);
  // The fetch itself still ends (2 s per step) and says why.
  await h.logged(/aws_credentials_failed/);
  assert.equal(await h.end(), 0, h.stderr);
});
