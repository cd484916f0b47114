// A load generator that runs in its own Node.js process, so that the test
// process (which follows mcpd's log) and the load do not share one event loop.
//
//   const load = startLoad({ port, connections: 16, requests: [{ method: 'POST', path: '/mcp', headers, body }] });
//   await load.waitFor((s) => s.responses >= 1000, 10000, '1000 responses');
//   const stats = await load.stop();        // stops sending, lets in-flight requests finish
//
//   startLoad({ ..., limit: 100000 }); await load.finished;   // exactly `limit` requests, then stops
//
// rampUp: open the connections one by one, each once the previous one has
// its first answer (all at once otherwise).
// A body is a string, a Buffer (sent as is) or an object (sent as JSON).
// Each connection is a raw keep-alive HTTP/1.1 socket with at most one
// request in flight: it writes a request, reads the whole response, writes the
// next one (requests are taken round-robin from `requests`).  A connection
// the server closes is reopened at once.
//
// stats: sent, responses, statuses {code: count}, failures (a request was in
// flight when its connection died, or no answer within hangMs), failureKinds
// {ECONNRESET: n, closed: n, hung: n, ...}, idleCloses (closed by the server
// with nothing in flight), connectErrors, reconnects, maxLatencyMs, failureTimes (ms since
// the epoch, first 10000).
//
// Every wait has a deadline.
import net from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.mjs';

const self = fileURLToPath(import.meta.url);

// ---- parent side --------------------------------------------------------

export function startLoad({ port, host = '127.0.0.1', connections = 16, requests, limit = 0, hangMs = 10000, progressMs = 100, rampUp = false }) {
  if (!requests?.length) throw new Error('startLoad needs at least one request');
  const child = fork(self, ['--load-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const load = {
    pid: child.pid,
    stats: emptyStats(),
    waiters: new Set(),
  };
  const notify = () => { for (const w of [...load.waiters]) w(); };
  let finalStats;
  let resolveFinal;
  const final = new Promise((resolve) => { resolveFinal = resolve; });
  load.exited = new Promise((resolve) => child.on('exit', (code, signal) => { resolve({ code, signal }); notify(); }));
  child.on('message', (m) => {
    if (m.type === 'progress' || m.type === 'final') load.stats = m.stats;
    if (m.type === 'final') {
      finalStats = m.stats;
      resolveFinal(m.stats);
    }
    notify();
  });
  child.send({ type: 'start', config: { port, host, connections, requests: requests.map(encodeRequest), limit, hangMs, progressMs, rampUp } });

  // Resolves with the stats once pred(stats) holds (checked on every report).
  load.waitFor = (pred, timeoutMs, what = pred.toString()) => waitUntil(() => {
    if (pred(load.stats)) return load.stats;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`load generator exited while waiting for ${what}`);
    return undefined;
  }, { timeout: timeoutMs, what: () => `${what}; load stats ${summary(load.stats)}`, wake: load.waiters });

  // With `limit`: resolves with the final stats once every request was answered (or failed).
  load.finished = final;

  // Stops sending; in-flight requests get up to drainMs to finish.  Resolves with the final stats.
  load.stop = async (timeoutMs = 15000) => {
    if (finalStats) return finalStats;
    if (child.connected) child.send({ type: 'stop' });
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`load generator did not stop within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([final, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  // Ends the child whatever state it is in (for finally blocks).
  load.kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await load.exited;
    }
  };
  return load;
}

export function summary(s) {
  return `sent ${s.sent}, responses ${s.responses}, statuses ${JSON.stringify(s.statuses)}, ` +
    `failures ${s.failures} ${JSON.stringify(s.failureKinds)}, idle closes ${s.idleCloses}, ` +
    `connect errors ${s.connectErrors}, reconnects ${s.reconnects}, max latency ${s.maxLatencyMs} ms`;
}

function encodeRequest({ method = 'POST', path = '/mcp', headers = {}, body = '' }) {
  if (Buffer.isBuffer(body)) return { method, path, headers, bodyBase64: body.toString('base64') };
  return { method, path, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

function emptyStats() {
  return {
    sent: 0, responses: 0, statuses: {}, failures: 0, failureKinds: {}, failureTimes: [],
    idleCloses: 0, connectErrors: 0, reconnects: 0, maxLatencyMs: 0, startedAt: Date.now(), endedAt: 0,
  };
}

// ---- child side ---------------------------------------------------------

function runChild() {
  let cfg;
  let wire; // pre-built request bytes
  let next = 0;
  let stopping = false;
  let finished = false;
  const stats = emptyStats();
  const conns = new Set();
  let progressTimer;

  const report = (type) => process.send({ type, stats });

  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(progressTimer);
    stats.endedAt = Date.now();
    for (const c of conns) c.sock.destroy();
    process.send({ type: 'final', stats }, () => process.disconnect());
  };

  const maybeFinish = () => {
    if (!stopping) return;
    for (const c of conns) if (c.inflight) return;
    finish();
  };

  const takeRequest = () => {
    if (stopping) return null;
    if (cfg.limit && stats.sent >= cfg.limit) {
      stopping = true;
      return null;
    }
    stats.sent++;
    const r = wire[next];
    next = (next + 1) % wire.length;
    return r;
  };

  const fail = (c, kind) => {
    stats.failures++;
    stats.failureKinds[kind] = (stats.failureKinds[kind] || 0) + 1;
    if (stats.failureTimes.length < 10000) stats.failureTimes.push(Date.now());
    c.inflight = false;
  };

  const open = (onFirstAnswer) => {
    if (stopping) return maybeFinish();
    const c = { sock: null, buf: Buffer.alloc(0), inflight: false, sentAt: 0, closeAfter: false, dead: false, onFirstAnswer };
    conns.add(c);
    const sock = net.connect(cfg.port, cfg.host);
    c.sock = sock;
    sock.setNoDelay(true);
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      send(c);
    });
    sock.on('data', (d) => onData(c, d));
    sock.on('error', (err) => {
      c.error = err.code || err.message;
    });
    sock.on('close', () => {
      if (c.dead) return;
      c.dead = true;
      conns.delete(c);
      if (!connected) {
        stats.connectErrors++;
        // A refused connect means nobody listens: back off a little before retrying.
        setTimeout(open, 20);
        return;
      }
      if (c.inflight && c.closeAfter) answered(c, c.buf.subarray(0, c.buf.indexOf('\r\n\r\n')).toString('latin1'));
      else if (c.inflight) fail(c, c.error || 'closed');
      else if (!stopping) stats.idleCloses++;
      if (!stopping) stats.reconnects++;
      open(c.onFirstAnswer);
    });
  };

  const send = (c) => {
    const r = takeRequest();
    if (r === null) {
      c.sock.end();
      return maybeFinish();
    }
    c.inflight = true;
    c.sentAt = Date.now();
    c.sock.write(r);
  };

  const answered = (c, headText) => {
    const status = Number(headText.slice(9, 12));
    c.inflight = false;
    stats.responses++;
    stats.statuses[status] = (stats.statuses[status] || 0) + 1;
    const latency = Date.now() - c.sentAt;
    if (latency > stats.maxLatencyMs) stats.maxLatencyMs = latency;
    if (c.onFirstAnswer) {
      const next = c.onFirstAnswer;
      c.onFirstAnswer = null;
      next();
    }
  };

  const onData = (c, d) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
    for (;;) {
      if (!c.inflight) {
        // Bytes nobody asked for: the server is confused; drop the connection.
        if (c.buf.length) c.sock.destroy();
        return;
      }
      const head = c.buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const headText = c.buf.subarray(0, head).toString('latin1');
      const m = /\r\ncontent-length: *(\d+)/i.exec(headText);
      if (!m) {
        // No length: the body ends when the connection does; count it then.
        c.closeAfter = true;
        return;
      }
      const total = head + 4 + Number(m[1]);
      if (c.buf.length < total) return;
      c.buf = c.buf.subarray(total);
      answered(c, headText);
      if (/\r\nconnection: *close/i.test(headText)) {
        c.sock.end();
        return maybeFinish();
      }
      send(c);
    }
  };

  // Requests that get no answer for hangMs count as failures (and the connection is dropped).
  const watchHangs = () => {
    const now = Date.now();
    for (const c of conns) {
      if (c.inflight && now - c.sentAt > cfg.hangMs) {
        fail(c, 'hung');
        c.sock.destroy();
      }
    }
  };

  process.on('message', (m) => {
    if (m.type === 'start') {
      cfg = m.config;
      wire = cfg.requests.map((r) => {
        const body = r.bodyBase64 !== undefined ? Buffer.from(r.bodyBase64, 'base64') : Buffer.from(r.body);
        const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: ${cfg.host}:${cfg.port}`];
        for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`);
        if (r.method !== 'GET' || body.length) lines.push(`Content-Length: ${body.length}`);
        return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
      });
      progressTimer = setInterval(() => {
        watchHangs();
        report('progress');
      }, cfg.progressMs);
      if (cfg.rampUp) {
        // One connection at a time, each once the previous one has its first answer.
        let opened = 0;
        const more = () => {
          if (++opened < cfg.connections) open(more);
        };
        open(more);
      } else {
        for (let i = 0; i < cfg.connections; i++) open();
      }
    } else if (m.type === 'stop') {
      stopping = true;
      for (const c of conns) if (!c.inflight) c.sock.end();
      maybeFinish();
      // In-flight requests get hangMs to finish; then whatever is left is reported.
      setTimeout(() => {
        for (const c of conns) if (c.inflight) fail(c, 'unfinished');
        finish();
      }, cfg.hangMs).unref();
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === self && process.argv[2] === '--load-child') runChild();
