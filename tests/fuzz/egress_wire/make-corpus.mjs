// Writes the seed corpus of fuzz_egress_wire: valid streams of each frame
// type, and a few just past the header limits, in the driver's input form
// (options byte, piece sizes, stream).
// The frames are written from the layout in common/egress_wire.h, not by
// the C encoder, so a seed the decoder refuses shows a disagreement.
//   node tests/fuzz/egress_wire/make-corpus.mjs
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELLO = 1, REQUEST = 2, CANCEL = 3, RESPONSE = 4, FAILURE = 5;
const WORKER = 1, EGRESS = 2;
const TAG = {
  version: 1, role: 2, maxPayload: 3, maxHeaders: 4, maxHeaderBytes: 5,
  toolIndex: 16, toolName: 17, method: 18, url: 19, header: 20, body: 21,
  deadlineMs: 22, responseCap: 23, headerCap: 24, awsService: 25, awsRegion: 26,
  status: 32, remoteAddress: 33, outcome: 34, message: 35,
};
// The driver's limits: options bit 1 chooses the tight ones.
const ROOMY = [4096, 16, 1024];
const TIGHT = [96, 2, 24];

const u16 = (v) => Buffer.from([v >> 8, v & 0xff]);
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const field = (tag, bytes) => Buffer.concat([u16(tag), u32(bytes.length), bytes]);
const number = (tag, v) => field(tag, u32(v));
const text = (tag, s) => field(tag, Buffer.from(s, 'utf8'));
const header = (name, value) => {
  const n = Buffer.from(name, 'utf8');
  return field(TAG.header, Buffer.concat([u16(n.length), n, Buffer.from(value, 'utf8')]));
};

function frame(type, flags, id, fields) {
  const payload = Buffer.concat(fields);
  return Buffer.concat([Buffer.from([0xe6, 1, type, flags]), u32(id), u32(payload.length), payload]);
}

const hello = (role, [maxPayload, maxHeaders, maxHeaderBytes]) => frame(HELLO, 0, 0, [
  number(TAG.version, 1), number(TAG.role, role), number(TAG.maxPayload, maxPayload),
  number(TAG.maxHeaders, maxHeaders), number(TAG.maxHeaderBytes, maxHeaderBytes),
]);

const request = (id, { flags = 0, headers = [], body = null, aws = null, url = 'https://api.example.com/v1' } = {}) =>
  frame(REQUEST, flags, id, [
    number(TAG.toolIndex, 3), text(TAG.toolName, 'fetch'), text(TAG.method, body ? 'POST' : 'GET'),
    text(TAG.url, url), ...headers.map(([n, v]) => header(n, v)), ...(body ? [field(TAG.body, body)] : []),
    number(TAG.deadlineMs, 5000), number(TAG.responseCap, 1 << 20), number(TAG.headerCap, 16384),
    ...(aws ? [text(TAG.awsService, aws[0]), text(TAG.awsRegion, aws[1])] : []),
  ]);

const response = (id, { flags = 0, headers = [], body = null, remote = null } = {}) =>
  frame(RESPONSE, flags, id, [
    number(TAG.status, 200), ...headers.map(([n, v]) => header(n, v)), ...(body ? [field(TAG.body, body)] : []),
    ...(remote ? [text(TAG.remoteAddress, remote)] : []),
  ]);

const failure = (id, outcome, message, { status = 0, remote = null } = {}) =>
  frame(FAILURE, 0, id, [
    number(TAG.outcome, outcome), text(TAG.message, message), ...(status ? [number(TAG.status, status)] : []),
    ...(remote ? [text(TAG.remoteAddress, remote)] : []),
  ]);

// options: bit 0 the egress's stream, bit 1 tight limits; pieces: sizes - 1.
const input = (options, pieces, frames) => Buffer.concat([Buffer.from([options, pieces.length, ...pieces]), ...frames]);

const json = Buffer.from('{"query":"caf\u00e9"}', 'utf8');
const seeds = {
  'worker-hello': input(0, [], [hello(WORKER, ROOMY)]),
  'worker-request-full': input(0, [], [hello(WORKER, ROOMY), request(1, {
    flags: 1, headers: [['content-type', 'application/json'], ['x-tab', 'a\tb'], ['x-empty', '']],
    body: json, aws: ['s3', 'eu-west-1'], url: 'https://bucket.s3.eu-west-1.amazonaws.com/k?x=\u20ac',
  })]),
  'worker-request-minimal': input(0, [], [hello(WORKER, ROOMY), request(0xffffffff)]),
  'worker-cancel': input(0, [], [hello(WORKER, ROOMY), request(5), frame(CANCEL, 0, 5, [])]),
  'worker-in-pieces': input(0, [0, 4, 11, 200], [hello(WORKER, ROOMY), request(1, { headers: [['a', 'b']] }),
    request(2, { body: Buffer.from([0, 255, 128]) }), frame(CANCEL, 0, 1, [])]),
  'worker-unknown-tags': input(0, [], [hello(WORKER, ROOMY), frame(CANCEL, 0, 9, [field(999, Buffer.from('later'))])]),
  'worker-tight': input(2, [2], [hello(WORKER, TIGHT), request(1, { url: 'https://a', headers: [['h', 'v']] })]),
  'egress-hello': input(1, [], [hello(EGRESS, ROOMY)]),
  'egress-response-full': input(1, [], [hello(EGRESS, ROOMY), response(1, {
    flags: 1, headers: [['content-type', 'text/plain'], ['set-cookie', 'a=1']], body: Buffer.from('partial\0'),
    remote: '[2001:db8::1]:443',
  })]),
  'egress-response-minimal': input(1, [], [hello(EGRESS, ROOMY), response(2)]),
  'egress-failure': input(1, [], [hello(EGRESS, ROOMY), failure(3, 7, 'the upstream answered 503',
    { status: 503, remote: '192.0.2.1:443' })]),
  'egress-failures': input(1, [0, 1, 2], [hello(EGRESS, ROOMY), ...Array.from({ length: 12 }, (_, i) =>
    failure(i + 1, i + 1, `outcome ${i + 1}`))]),
  'egress-tight': input(3, [], [hello(EGRESS, TIGHT), response(1, { headers: [['a', 'b'], ['c', 'd']] }),
    failure(2, 5, 'slow')]),
  // At the header limits, and one past each (refused: the count, then the bytes).
  'egress-tight-header-limits': input(3, [], [hello(EGRESS, TIGHT),
    response(1, { headers: [['name', 'value-of-7'], ['n', 'value-of-']] })]),
  'egress-tight-header-count': input(3, [], [hello(EGRESS, TIGHT), response(1, { headers: [['a', ''], ['b', ''], ['c', '']] })]),
  'worker-header-bytes': input(0, [], [hello(WORKER, ROOMY),
    request(1, { headers: [['x-a', 'v'.repeat(1000)], ['x-b', 'v'.repeat(20)]] })]),
};

const dir = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);
for (const [name, bytes] of Object.entries(seeds)) writeFileSync(join(dir, name), bytes);
console.log(`wrote ${Object.keys(seeds).length} seeds to ${dir}`);
