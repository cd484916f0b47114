// The metrics port under four attacks, measured (not a test, not in CI):
//
//   node tests/bench/metrics-hostile.mjs [--mcpd PATH] [--only idle,unread,bodies,h2]
//
// Each attack runs against a fresh `mcpd --workers 1 --metrics-listen ...`
// and prints, for the metrics process: its CPU (share of one core over the
// attack), its memory (VmRSS at the end, VmHWM = peak), how many fresh
// scrapes (one a 200 ms, 2 s deadline each) were answered 200, and the
// main port's GET /ping rate under wrk against the same rate before the
// attack (when wrk is installed). The fresh scrapes are curl's, so that
// this process's own event loop, busy attacking, does not make them late.
//
//   idle    300 connections that never send a byte, held 6 s
//   unread  260 scrapers that pipeline 2000 GET /metrics and never read, held 15 s
//   bodies  100 POST /metrics of 15 MB each, sent as fast as they are taken
//   h2      HTTP/2 prior knowledge, an h2c Upgrade, then a rapid-reset loop for 8 s
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { freePort } from '../lib/ports.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { runMs, statusKb, treePids } from './procfs.mjs';

const { values: opts } = parseArgs({ options: {
  mcpd: { type: 'string' }, only: { type: 'string', default: 'idle,unread,bodies,h2' },
} });
// Read by tests/lib/mcpd.mjs when it is first imported, so set before that.
if (opts.mcpd) process.env.TEST_MCPD_BIN = opts.mcpd;
const { startMcpd } = await import('../lib/mcpd.mjs');
const HAVE_WRK = spawnSync('wrk', ['--version']).error === undefined;

// A scrape by curl, a process of its own: this one's event loop is busy
// attacking, and would make its own scrapes late.  Resolves with the status (0: none in 2 s).
function curlScrape(port) {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `http://127.0.0.1:${port}/metrics`],
      (_err, out) => resolve(Number(out) || 0));
  });
}

// Fresh scrapes every 200 ms until stop() is called; resolves with {ok, tried}.
function scrapeEvery(port) {
  let stopped = false;
  const counts = { ok: 0, tried: 0 };
  const done = (async () => {
    while (!stopped) {
      const started = Date.now();
      counts.tried++;
      if ((await curlScrape(port)) === 200) counts.ok++;
      await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - started))));
    }
    return counts;
  })();
  return { stop: () => { stopped = true; return done; } };
}

// GET /ping/s on the main port under wrk (asynchronous: this process keeps attacking meanwhile).
function pingRate(port, seconds) {
  if (!HAVE_WRK) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile('wrk', ['-t1', '-c8', `-d${seconds}s`, `http://127.0.0.1:${port}/ping`], (err, out) => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out || '');
      resolve(m ? Number(m[1]) : null);
    });
  });
}

// At --log-level warn (wrk's requests would flood the log pipe otherwise)
// there is no metrics_ready line: the metrics process is the child of mcpd
// that holds the metrics listener.
function metricsPid(rootPid, port) {
  const inode = spawnSync('ss', ['-Hltne', `sport = :${port}`], { encoding: 'utf8' }).stdout.match(/ino:(\d+)/)?.[1];
  for (const p of treePids(rootPid).filter((x) => x !== rootPid)) {
    const fds = fs.readdirSync(`/proc/${p}/fd`).map((fd) => { try { return fs.readlinkSync(`/proc/${p}/fd/${fd}`); } catch { return ''; } });
    if (inode && fds.includes(`socket:[${inode}]`)) return p;
  }
  return null;
}

async function withServer(fn) {
  const metricsPort = await freePort();
  const s = await startMcpd({ workers: 1, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`, '--log-level', 'warn'] });
  try {
    await waitUntil(async () => (await curlScrape(metricsPort)) === 200, { what: 'a first scrape' });
    const pid = await waitUntil(() => metricsPid(s.pid, metricsPort), { what: 'the metrics process' });
    return await fn({ s, metricsPort, pid });
  } finally {
    await s.stopQuietly('SIGTERM', 20000);
  }
}

// Runs `attack` for `seconds` while measuring the metrics process.
async function measure(name, { s, metricsPort, pid }, seconds, attack) {
  const basePing = await pingRate(s.port, 3);
  const cpu0 = runMs(pid), t0 = Date.now();
  const rss0 = statusKb(pid, 'VmRSS');
  const scrapes = scrapeEvery(metricsPort);
  // wrk runs during the attack's last 3 s (or after it, for one that has no fixed length).
  const ping = hold(Math.max(0, seconds - 3.5) * 1000).then(() => pingRate(s.port, 3));
  let fdPeak = fdCount(pid);
  const fdTimer = setInterval(() => { fdPeak = Math.max(fdPeak, fdCount(pid)); }, 50);
  const extra = await attack(seconds, () => statusKb(pid, 'VmRSS'));
  clearInterval(fdTimer);
  const fdsAtEnd = fdCount(pid);
  const attackPing = await ping;
  const wallMs = Date.now() - t0;
  const cpu = (100 * (runMs(pid) - cpu0)) / wallMs;
  const { ok, tried } = await scrapes.stop();
  const alive = spawnSync('kill', ['-0', String(pid)]).status === 0;
  console.log(JSON.stringify({
    attack: name, cpu_pct_of_core: Number(cpu.toFixed(1)), rss_kb_before: rss0, rss_kb_after: statusKb(pid, 'VmRSS'),
    hwm_kb: statusKb(pid, 'VmHWM'), fresh_scrapes_ok: ok, fresh_scrapes_tried: tried,
    ping_rps_before: basePing, ping_rps_during: attackPing, metrics_process_alive: alive,
    descriptors_peak: fdPeak, descriptors_at_end: fdsAtEnd, ...extra,
  }));
}

function fdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

const hold = (ms) => new Promise((r) => setTimeout(r, ms));

function openSockets(port, n, onConnect = () => {}) {
  const socks = [];
  let closedByServer = 0;
  for (let i = 0; i < n; i++) {
    const c = net.connect(port, '127.0.0.1', () => onConnect(c));
    c.on('error', () => {});
    c.on('close', () => { if (!c.destroyedByUs) closedByServer++; });
    socks.push(c);
  }
  return { socks, closed: () => closedByServer, end: () => socks.forEach((c) => { c.destroyedByUs = true; c.destroy(); }) };
}

const attacks = {
  async idle(ctx) {
    await measure('idle: 300 connections that send nothing', ctx, 6, async (seconds) => {
      const o = openSockets(ctx.metricsPort, 300, (c) => c.resume());
      await hold(seconds * 1000);
      const closed = o.closed();
      o.end();
      return { attacker_connections_closed_by_server: closed };
    });
  },
  async unread(ctx) {
    const request = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000);
    await measure('unread: 260 scrapers pipelining 2000 GET /metrics, never reading', ctx, 15, async (seconds) => {
      // Paused sockets see no close: the metrics process's descriptors tell how many it holds.
      const o = openSockets(ctx.metricsPort, 260, (c) => { c.pause(); c.write(request); });
      await hold(seconds * 1000);
      o.end();
      return {};
    });
  },
  async bodies(ctx) {
    const body = Buffer.alloc(15 * 1000 * 1000, 'x');
    await measure('bodies: 100 POST /metrics of 15 MB', ctx, 0, async (_s, rss) => {
      let peak = 0;
      const statuses = {};
      const timer = setInterval(() => { peak = Math.max(peak, rss()); }, 20);
      await Promise.all(Array.from({ length: 100 }, () => new Promise((resolve) => {
        const c = net.connect(ctx.metricsPort, '127.0.0.1', () => {
          c.write(`POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
          c.write(body);
        });
        let got = '';
        c.on('data', (d) => { got += d; });
        c.on('error', () => {});
        c.on('close', () => { const k = got.slice(9, 12) || 'none'; statuses[k] = (statuses[k] || 0) + 1; resolve(); });
        c.setTimeout(30000, () => c.destroy());
      })));
      clearInterval(timer);
      return { statuses, rss_kb_peak_sampled: peak };
    });
  },
  async h2(ctx) {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const frame = (type, flags, stream, payload) => {
      const b = Buffer.alloc(9 + payload.length);
      b.writeUIntBE(payload.length, 0, 3); b[3] = type; b[4] = flags; b.writeUInt32BE(stream, 5); payload.copy(b, 9);
      return b;
    };
    const settings = frame(4, 0, 0, Buffer.alloc(0));
    // :method GET, :scheme http, :path /metrics (literal, name index 4), all from HPACK's static table.
    const block = Buffer.concat([Buffer.from([0x82, 0x86, 0x04, 8]), Buffer.from('/metrics')]);
    const firstBytes = (sock) => new Promise((resolve) => {
      let got = Buffer.alloc(0);
      sock.on('data', (d) => { got = Buffer.concat([got, d]); });
      sock.on('close', () => resolve(got));
      sock.on('error', () => {});
      sock.setTimeout(3000, () => sock.destroy());
    });
    const prior = net.connect(ctx.metricsPort, '127.0.0.1', () => prior.write(Buffer.concat([preface, settings])));
    const priorGot = await firstBytes(prior);
    const h2c = net.connect(ctx.metricsPort, '127.0.0.1', () => h2c.write('GET /metrics HTTP/1.1\r\nHost: x\r\n' +
      'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n'));
    h2c.setTimeout(1000, () => h2c.destroy());
    const h2cGot = await firstBytes(h2c);
    await measure('h2: rapid reset (HEADERS + RST_STREAM loop, 4 connections)', ctx, 8, async (seconds) => {
      let streams = 0, answeredBytes = 0;
      const deadline = Date.now() + seconds * 1000;
      await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve) => {
        let id = 1;
        const c = net.connect(ctx.metricsPort, '127.0.0.1', () => {
          c.write(Buffer.concat([preface, settings]));
          const pump = () => {
            while (Date.now() < deadline && !c.destroyed) {
              const parts = [];
              for (let i = 0; i < 500; i++, id += 2) {
                parts.push(frame(1, 0x5, id, block), frame(3, 0, id, Buffer.from([0, 0, 0, 8])));
              }
              streams += 500;
              if (!c.write(Buffer.concat(parts))) return c.once('drain', pump);
            }
            c.destroy();
          };
          pump();
        });
        c.on('data', (d) => { answeredBytes += d.length; });
        c.on('error', () => {});
        c.on('close', resolve);
      })));
      return { rapid_reset_streams_sent: streams, rapid_reset_bytes_answered: answeredBytes };
    });
    console.log(JSON.stringify({
      prior_knowledge_answer: priorGot.length === 0 ? 'closed, no bytes' : priorGot.subarray(0, 40).toString('hex'),
      prior_knowledge_is_h2_settings: priorGot.length >= 9 && priorGot[3] === 4,
      h2c_answer: h2cGot.toString('latin1').split('\r\n')[0],
    }));
  },
};

for (const name of opts.only.split(',')) await withServer((ctx) => attacks[name](ctx));
