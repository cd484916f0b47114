// mcpd's SigV4 signer (egress/sigv4.c, through tests/helpers/sigv4_cli.c)
// against AWS's own JavaScript signer, @smithy/signature-v4, on random
// requests: methods, hosts, paths and query keys and values with unicode
// and reserved characters, repeated and empty query parameters, header
// names in mixed case with odd whitespace in their values, repeated
// headers, bodies given as bytes or as a hash, unsigned S3 payloads,
// session tokens or none, S3 and other services, regions and times.
// Authorization, X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-Sha256
// must be identical.
//
// smithy is configured as the AWS SDK configures it: for S3 the path is
// signed as sent (uriEscapePath: false) and X-Amz-Content-Sha256 is added
// (applyChecksum: true); for other services the path is normalised and
// encoded again and no such header is added, as botocore does (the JS SDK
// adds it for every service; for them it is optional).
//
// The generator is seeded: TEST_SIGV4_SEED=<n> replays a run and
// TEST_SIGV4_COUNT=<n> changes its size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SignatureV4, getCanonicalHeaders, getPayloadHash, hasHeader, prepareRequest,
} from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = process.env.TEST_SIGV4_CLI_BIN || path.resolve(here, '../../build/tests/sigv4-cli');
const SEED = Number(process.env.TEST_SIGV4_SEED ?? 20260728) >>> 0;
const COUNT = Number(process.env.TEST_SIGV4_COUNT ?? 10000);
const DEADLINE_MS = 60_000;
const S3_SERVICES = ['s3', 's3-object-lambda', 's3-outposts'];

// --- A seeded generator (mulberry32) ---

function generator(seed) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => next() < p;
  const exact = (pools, n) => Array.from({ length: n }, () => pick(pick(pools))).join('');
  const text = (pools, max) => exact(pools, int(max + 1));
  return { int, pick, chance, exact, text };
}

const ALNUM = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];
const UNRESERVED = [...ALNUM, '-', '.', '_', '~'];
const RESERVED = [...'!*\'();:@&=+$,[]'];
const UNICODE = ['é', 'ü', 'ß', 'ሴ', '日本', '😀', '€', '\u00a0', 'Ω'];
const ODD = [' ', '%', '%41', '%2F', '"', '<', '>', '\\', '^', '`', '{', '|', '}'];

// AWS's URI encoding: encodeURIComponent plus !'()*.
const awsEncode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function randomPath(g, s3) {
  const segments = Array.from({ length: 1 + g.int(5) }, () => {
    if (g.chance(0.1)) return g.pick(['.', '..', '']);
    const raw = g.text([UNRESERVED, UNRESERVED, RESERVED, UNICODE, ODD], 12);
    // S3 paths go out in AWS's encoding (as the S3 client sends them);
    // other services get whatever the tool wrote, encoded or not.
    return s3 ? awsEncode(raw) : raw;
  });
  return `/${segments.join('/')}${g.chance(0.3) ? '/' : ''}`;
}

// The query as sent: each name and value encoded in full, or only where
// the query's syntax needs it (lower-case hex, raw unicode and reserved
// characters left as they are); sometimes with empty parts.
function wireComponent(g, s, isName) {
  if (g.chance(0.5)) return awsEncode(s);
  const lowerHex = g.chance(0.5);
  return [...s].map((c) => {
    const must = c === '%' || c === '&' || c === '+' || c === '#' || (isName && c === '=');
    if (!must && (c.charCodeAt(0) < 0x80 || g.chance(0.5))) return c;
    const e = encodeURIComponent(c);
    return lowerHex ? e.toLowerCase() : e;
  }).join('');
}

function randomQuery(g) {
  const pairs = [];
  for (let i = g.int(7); i > 0; i--) {
    const name = pairs.length > 0 && g.chance(0.25) ? g.pick(pairs)[0]
      : g.text([UNRESERVED, UNRESERVED, RESERVED, UNICODE, ODD], 8);
    const value = g.chance(0.2) ? '' : g.text([UNRESERVED, RESERVED, UNICODE, ODD], 16);
    if (name === '__proto__' || name.toLowerCase() === 'x-amz-signature') continue;
    pairs.push([name, value]);
  }
  const parts = pairs.map(([name, value]) => {
    const n = wireComponent(g, name, true);
    // A part without '=' means an empty value (never for an empty name,
    // whose part would then be empty and skipped).
    return value === '' && name !== '' && g.chance(0.5) ? n : `${n}=${wireComponent(g, value, false)}`;
  });
  if (parts.length > 0 && g.chance(0.1)) parts.splice(g.int(parts.length), 0, '');
  const query = {};
  for (const [name, value] of pairs) {
    if (!(name in query)) query[name] = value;
    else query[name] = [].concat(query[name], value);
  }
  return { wire: parts.join('&'), query };
}

const HEADER_NAMES = [
  'X-Custom', 'x-amz-meta-Owner', 'Content-Type', 'Content-MD5', 'Range', 'If-None-Match',
  'X-Amz-Target', 'Content-Length', 'Accept', 'User-Agent', 'Connection', 'Proxy-Thing',
  'Sec-Fetch-Mode', 'X-Amzn-Trace-Id', 'Cache-Control', 'Expect', 'TE', 'Referer',
];
const WS = [' ', ' ', '\t', '  ', ' \t '];

function randomCase(g, name) {
  return [...name].map((c) => (g.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
}

function randomHeaderValue(g) {
  if (g.chance(0.1)) return g.chance(0.5) ? '' : g.pick(WS);
  const words = Array.from({ length: 1 + g.int(4) },
    () => g.text([ALNUM, ALNUM, RESERVED, ['"', '/', ',', '?', '#', '%'], UNICODE], 10));
  const pad = () => (g.chance(0.3) ? g.pick(WS) : '');
  return pad() + words.join(g.chance(0.5) ? ' ' : g.pick(WS)) + pad();
}

function randomHeaders(g) {
  const headers = [];
  for (let i = g.int(7); i > 0; i--) {
    const name = headers.length > 0 && g.chance(0.2) ? headers[g.int(headers.length)][0]
      : g.chance(0.8) ? g.pick(HEADER_NAMES) : `x-${g.text([ALNUM, ['-', '_', '.', '!', '~']], 10)}z`;
    headers.push([randomCase(g, name), randomHeaderValue(g)]);
  }
  return headers;
}

function randomRequest(g) {
  const service = g.pick(['s3', 's3', 's3', 'service', 'execute-api', 'dynamodb', 'sts', 'sqs',
    's3-object-lambda', `svc-${g.text([ALNUM], 6)}`]);
  const s3 = S3_SERVICES.includes(service);
  const body = Uint8Array.from({ length: g.chance(0.3) ? 0 : g.int(600) }, () => g.int(256));
  const payload = s3 && g.chance(0.2) ? 'unsigned' : g.chance(0.3) ? 'hash' : 'bytes';
  // 40 characters as AWS issues them, or any length: "AWS4" + a secret
  // of more than 60 bytes is an HMAC key longer than a SHA-256 block.
  const secretLength = g.pick([40, 40, 1 + g.int(120)]);
  return {
    method: g.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'X-Custom']),
    host: g.pick(['example.amazonaws.com', 'bucket.s3.us-west-2.amazonaws.com', 'localhost:4566',
      '127.0.0.1:9000', 'Sts.AmazonAWS.com', 'xn--bcher-kva.example', `h${g.int(1000)}.example`]),
    service,
    s3,
    path: randomPath(g, s3),
    ...(({ wire, query }) => ({ queryWire: wire, query }))(randomQuery(g)),
    headers: randomHeaders(g),
    body,
    payload,
    region: g.pick(['us-east-1', 'eu-west-3', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1', `r-${g.int(99)}`]),
    time: g.chance(0.02) ? g.pick([0, 253402300799]) : g.int(4102444800),
    accessKeyId: `AKIA${g.text([[...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567']], 16)}`,
    secret: g.exact([ALNUM, ALNUM, ['/', '+', '='], g.chance(0.05) ? UNICODE : ALNUM], secretLength),
    token: g.chance(0.5) ? undefined : g.text([ALNUM, ['/', '+', '=']], 16 + g.int(400)) || 't',
  };
}

// --- The two signers ---

const sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');

// One line of sigv4-cli's input.
function cliLine(r, secret = r.secret) {
  const line = {
    method: r.method, host: r.host, path: r.path, query: r.queryWire, headers: r.headers,
    service: r.service, region: r.region, time: r.time,
    access_key_id: r.accessKeyId, secret, session_token: r.token,
  };
  if (r.payload === 'unsigned') line.unsigned_payload = true;
  else if (r.payload === 'hash') line.payload_sha256 = sha256Hex(r.body);
  else line.body_hex = Buffer.from(r.body).toString('hex');
  return JSON.stringify(line);
}

// smithy's request: its headers are an object, so a repeated name is given
// once with its values trimmed and joined with ',' as SigV4 defines; a name
// given once keeps its raw value, which smithy trims itself.
function smithyRequest(r) {
  const groups = new Map();
  for (const [name, value] of r.headers) {
    const key = name.toLowerCase();
    if (!groups.has(key)) groups.set(key, { name, values: [] });
    groups.get(key).values.push(value);
  }
  const headers = { host: r.host };
  for (const { name, values } of groups.values()) {
    headers[name] = values.length === 1 ? values[0]
      : values.map((v) => v.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')).join(',');
  }
  if (r.payload === 'unsigned') headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  return {
    method: r.method, protocol: 'https:', hostname: r.host, path: r.path, query: r.query, headers,
    body: r.body.length > 0 ? r.body : undefined,
  };
}

function smithySigner(r, secret = r.secret) {
  return new SignatureV4({
    service: r.service, region: r.region, sha256: Sha256,
    credentials: { accessKeyId: r.accessKeyId, secretAccessKey: secret, sessionToken: r.token },
    uriEscapePath: !r.s3, applyChecksum: r.s3,
  });
}

async function smithySign(r, secret) {
  const signed = await smithySigner(r, secret).sign(smithyRequest(r), { signingDate: new Date(r.time * 1000) });
  const h = signed.headers;
  return {
    authorization: h.authorization,
    x_amz_date: h['x-amz-date'],
    x_amz_security_token: h['x-amz-security-token'],
    x_amz_content_sha256: h['x-amz-content-sha256'],
  };
}

// smithy's canonical request, rebuilt from its exported steps, for reports.
async function smithyCanonical(r) {
  const request = prepareRequest(smithyRequest(r));
  const signer = smithySigner(r);
  const { longDate } = signer.formatDate(new Date(r.time * 1000));
  request.headers['x-amz-date'] = longDate;
  if (r.token) request.headers['x-amz-security-token'] = r.token;
  const payloadHash = await getPayloadHash(request, Sha256);
  if (r.s3 && !hasHeader('x-amz-content-sha256', request.headers)) request.headers['x-amz-content-sha256'] = payloadHash;
  return signer.createCanonicalRequest(request, getCanonicalHeaders(request), payloadHash);
}

// Runs sigv4-cli once over all lines; resolves to its output objects.
function runCli(lines) {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sigv4-cli did not finish within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    child.stdout.on('data', (c) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`sigv4-cli exited with ${code}`));
      resolve(Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)));
    });
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

const FIELDS = ['authorization', 'x_amz_date', 'x_amz_security_token', 'x_amz_content_sha256'];

function differences(ours, theirs) {
  if (ours.error !== undefined) return [`ours refused: ${ours.error}`];
  return FIELDS.filter((f) => ours[f] !== theirs[f])
    .map((f) => `${f}:\n    ours:   ${ours[f]}\n    smithy: ${theirs[f]}`);
}

async function report(r, ours, theirs, problems) {
  return [
    `request: ${cliLine(r)}`,
    `smithy query object: ${JSON.stringify(r.query)}`,
    ...problems,
    `our canonical request:\n${ours.canonical_request}`,
    `smithy's canonical request:\n${await smithyCanonical(r)}`,
  ].join('\n');
}

test(`mcpd's signer and @smithy/signature-v4 agree on ${COUNT} random requests`, async () => {
  console.log(`seed ${SEED} (TEST_SIGV4_SEED), ${COUNT} requests (TEST_SIGV4_COUNT)`);
  const g = generator(SEED);
  const requests = Array.from({ length: COUNT }, () => randomRequest(g));
  // The self-check: the first request again, with a secret one byte off.
  const wrongSecret = `${requests[0].secret}x`;
  const ours = await runCli([...requests.map((r) => cliLine(r)), cliLine(requests[0], wrongSecret)]);
  assert.equal(ours.length, COUNT + 1, 'sigv4-cli answered every line');

  const failures = [];
  const seen = { s3: 0, unsigned: 0, hash: 0, token: 0, repeatedHeaders: 0, repeatedQuery: 0, longSecret: 0 };
  for (let i = 0; i < COUNT; i++) {
    const r = requests[i];
    const theirs = await smithySign(r);
    const problems = differences(ours[i], theirs);
    if (problems.length > 0 && failures.length < 5) failures.push(`#${i}\n${await report(r, ours[i], theirs, problems)}`);
    else if (problems.length > 0) failures.push(`#${i}`);
    seen.s3 += r.s3;
    seen[r.payload] = (seen[r.payload] ?? 0) + 1;
    seen.token += r.token !== undefined;
    seen.longSecret += Buffer.byteLength(r.secret) + 4 > 64;
    seen.repeatedHeaders += new Set(r.headers.map(([n]) => n.toLowerCase())).size < r.headers.length;
    seen.repeatedQuery += Object.values(r.query).some(Array.isArray);
  }
  console.log(`compared ${COUNT}: ${JSON.stringify(seen)}`);
  assert.deepEqual(failures, [], `${failures.length} of ${COUNT} requests differ:\n${failures.join('\n\n')}`);

  // The comparison can fail: a wrong secret gives another signature, and
  // smithy signing with it agrees with us again.
  const off = ours[COUNT];
  assert.notEqual(off.authorization, ours[0].authorization);
  assert.notEqual(differences(off, await smithySign(requests[0])).length, 0);
  assert.deepEqual(differences(off, await smithySign(requests[0], wrongSecret)), []);
  // Every kind of request was drawn.
  for (const [kind, n] of Object.entries(seen)) assert.ok(n > COUNT / 50, `too few ${kind} requests: ${n}`);
});
