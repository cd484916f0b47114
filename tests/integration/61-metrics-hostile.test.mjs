// The metrics port (--metrics-listen) under hostile clients: it holds at
// most 64 connections and makes room for a fresh scrape by ending the
// longest-idle one, also when out of descriptors; a scraper that never
// reads is cut after --idle-timeout; a request body is refused before it is
// read; and it speaks HTTP/1.1 only (no HTTP/2 by prior knowledge or h2c).
//
// Where a fresh scrape must be answered, its deadline is 8 s: h2o's own
// 10 s request timeout would otherwise free connections (and answer it)
// without any of the handling tested here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMcpd } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { connect, readResponse, readUntilClose } from '../lib/http.mjs';

const MAX_CONNECTIONS = 64;	// metrics/admission.h
const SCRAPE = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
const FRESH_SCRAPE_MS = 8000;

async function startWithMetrics(args = [], options = {}) {
  const metricsPort = await freePort();
  const server = await startMcpd({ workers: 1, ...options, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`, ...args] });
  await server.waitForLog((l) => l.event === 'metrics_ready', 10000, 'the metrics process');
  return { server, metricsPort };
}

// A scrape on a connection of its own; resolves with its response.
async function freshScrape(port) {
  const sock = await connect(port);
  sock.on('error', () => {});
  try {
    sock.write(SCRAPE);
    return await readResponse(sock, FRESH_SCRAPE_MS);
  } finally {
    sock.destroy();
  }
}

// n connections that send nothing; counts the ones the server closes.
async function openIdle(port, n) {
  const state = { socks: [], closedByServer: 0 };
  await Promise.all(Array.from({ length: n }, async () => {
    const sock = await connect(port);
    sock.on('data', () => {});
    sock.on('error', () => {});
    sock.on('close', () => { if (!sock.closedHere) state.closedByServer++; });
    state.socks.push(sock);
  }));
  state.destroy = () => state.socks.forEach((s) => { s.closedHere = true; s.destroy(); });
  return state;
}

let shared;
before(async () => { shared = await startWithMetrics(['--idle-timeout', '60']); });
after(async () => { assert.equal((await shared?.server.stop())?.code, 0); });

test('300 idle connections: a fresh scrape is answered, the longest-idle ones make room', async () => {
  const idle = await openIdle(shared.metricsPort, 300);
  try {
    const res = await freshScrape(shared.metricsPort);
    assert.equal(res.status, 200);
    assert.match(res.body, /^mcpd_build_info\{/m);
    // The scrape was accepted after every idle connection, and at most 64 are held.
    await waitUntil(() => idle.closedByServer >= 300 + 1 - MAX_CONNECTIONS,
      { what: () => `the server to end the oldest idle connections (ended ${idle.closedByServer})` });
    assert.ok(idle.closedByServer < 300, 'the newest idle connections are kept (--idle-timeout is 60 s)');
    await shared.server.waitForLog((l) => l.event === 'metrics_connections_full');
  } finally {
    idle.destroy();
  }
});

test('a request body is refused with 413 before it is read', async () => {
  for (const head of [
    'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 15000000\r\n\r\n',
    // A chunk of 15 MiB declared, three bytes of it sent.
    'POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nf00000\r\nabc',
  ]) {
    const sock = await connect(shared.metricsPort);
    const closed = readUntilClose(sock, FRESH_SCRAPE_MS);
    sock.write(head);
    const raw = await closed;
    assert.match(raw, /^HTTP\/1\.1 413 /, JSON.stringify(head));
  }
  // Without a body, a method other than GET or HEAD is 405, as before.
  const sock = await connect(shared.metricsPort);
  sock.write('POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  const res = await readResponse(sock);
  sock.destroy();
  assert.equal(res.status, 405);
  assert.match(res.head, /\r\nallow: GET, HEAD/i);
});

function h2Frame(type, flags, stream, payload = Buffer.alloc(0)) {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(stream, 5);
  payload.copy(b, 9);
  return b;
}

test('HTTP/2 by prior knowledge is answered as HTTP/1.1 and closed: no stream is ever opened', async () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  // :method GET, :scheme http, :path /metrics, from HPACK's static table.
  const block = Buffer.concat([Buffer.from([0x82, 0x86, 0x04, 8]), Buffer.from('/metrics')]);
  const streams = [];
  for (let id = 1; id < 200; id += 2) streams.push(h2Frame(1, 0x5, id, block), h2Frame(3, 0, id, Buffer.from([0, 0, 0, 8])));
  const sock = await connect(shared.metricsPort);
  const closed = readUntilClose(sock, FRESH_SCRAPE_MS);
  sock.write(Buffer.concat([preface, h2Frame(4, 0, 0), ...streams]));
  const raw = await closed;
  // An HTTP/2 server's first bytes are its SETTINGS frame (type 4 at offset 3).
  assert.match(raw, /^HTTP\/1\.1 400 /, `answered ${JSON.stringify(raw.slice(0, 40))}`);
  assert.equal((await freshScrape(shared.metricsPort)).status, 200);
});

test('an h2c Upgrade is answered over HTTP/1.1, without switching', async () => {
  const sock = await connect(shared.metricsPort);
  const closed = readUntilClose(sock, FRESH_SCRAPE_MS);
  // Connection names no keep-alive: the answer closes the connection.
  sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
    'HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
  const raw = await closed;
  assert.match(raw, /^HTTP\/1\.1 200 /, `answered ${JSON.stringify(raw.slice(0, 40))}`);
  // One HTTP/1.1 answer and nothing after it (an upgraded connection would go on in HTTP/2 frames).
  const head = raw.indexOf('\r\n\r\n');
  assert.doesNotMatch(raw.slice(0, head), /\r\nupgrade:/i);
  assert.equal(raw.length, head + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, head))[1]));
});

test('a scraper that pipelines requests and never reads is cut after --idle-timeout', async () => {
  const { server, metricsPort } = await startWithMetrics(['--idle-timeout', '2']);
  const sock = await connect(metricsPort);
  sock.on('error', () => {});	// the cut may reach us as a reset
  try {
    // ~45 MB of answers: far more than the socket buffers of both ends hold.
    const requests = 5000;
    sock.pause();
    sock.write(SCRAPE.repeat(requests));
    await server.waitForLog((l) => l.event === 'metrics_answer_stalled', 20000, 'the stalled answer to be cut');
    // Reading now: the answers that were buffered, then the end.
    sock.resume();
    let raw = '';
    sock.on('data', (d) => { raw += d; });
    await waitUntil(() => sock.destroyed || sock.readableEnded, { what: 'the connection to end' });
    const answered = raw.split('HTTP/1.1 200 OK').length - 1;
    assert.ok(answered < requests, `all ${requests} answers arrived: the connection was not cut`);
    assert.equal((await freshScrape(metricsPort)).status, 200);
  } finally {
    sock.destroy();
    assert.equal((await server.stop()).code, 0);
  }
});

test('out of descriptors: the longest-idle connection makes room, and it is logged', async () => {
  // The sandbox only ever lowers the open-file limit: the metrics process gets 40, fewer than 64 connections.
  const { server, metricsPort } = await startWithMetrics([], { wrapper: ['prlimit', '--nofile=40:40'] });
  const idle = await openIdle(metricsPort, 60);
  try {
    await server.waitForLog((l) => l.event === 'metrics_accept_no_descriptors', 10000, 'the no-descriptors line');
    const line = server.logs.find((l) => l.event === 'metrics_accept_no_descriptors');
    assert.match(line.msg, /Too many open files .*ulimit -n/);
    assert.equal((await freshScrape(metricsPort)).status, 200);
    // The scrape was queued behind all 60: some had to end to let it in.
    await waitUntil(() => idle.closedByServer > 0, { what: 'the server to end idle connections' });
  } finally {
    idle.destroy();
    assert.equal((await server.stop()).code, 0);
  }
});
