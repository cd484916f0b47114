// The upstreams of the egress benchmark (tests/bench/egress.mjs):
//
//   startHolder(certs)   an HTTP/2 upstream over TLS (test CA from
//                        tests/lib/upstream.mjs) in this process that holds
//                        every request to /hold until release(), and
//                        answers /now at once. HTTP/2 because the egress
//                        multiplexes it (about 100 streams a connection):
//                        10,000 requests held over HTTP/1.1 would need
//                        10,000 sockets, more than the egress's own limit of
//                        4,096 descriptors.
//   nginxUpstream(...)   nginx with one worker answering every request with
//                        a fixed body (ceiling-nginx.conf): an upstream whose
//                        own time is as small and steady as it gets.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './procs.mjs';
import { listen } from '../lib/upstream.mjs';
import { waitUntil } from '../lib/wait.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// What the upstreams answer (/now, a released /hold, nginx's every request).
export const UPSTREAM_BODY = '{"upstream":"bench","ok":true}';

export async function startHolder(certs) {
  const holder = { held: [], served: 0, sessions: new Set(), cancelled: 0 };
  const server = http2.createSecureServer({
    key: fs.readFileSync(certs.key),
    cert: fs.readFileSync(certs.cert),
    // Far above what the egress asks of one connection (libcurl's 100 streams).
    settings: { maxConcurrentStreams: 10000 },
  });
  server.on('session', (s) => {
    holder.sessions.add(s);
    s.on('close', () => holder.sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => { /* the egress reset it: counted below */ });
    if (headers[':path'] === '/hold') {
      holder.held.push(stream);
      stream.on('close', () => { if (!stream.headersSent) holder.cancelled++; });
      return;
    }
    holder.served++;
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(UPSTREAM_BODY);
  });
  holder.port = await listen(server);
  // Answers every request held so far; the count answered.
  holder.release = () => {
    let n = 0;
    for (const stream of holder.held.splice(0)) {
      if (stream.closed || stream.destroyed) continue;
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(UPSTREAM_BODY);
      n++;
    }
    return n;
  };
  holder.close = () => {
    for (const s of holder.sessions) s.destroy();
    server.close();
  };
  return holder;
}

// nginx answering UPSTREAM_BODY to every request, pinned by `pinned` (the
// argv helper of the caller). Resolves once it answers.
export async function nginxUpstream(nginx, dir, pinned) {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(dir, 'upstream-nginx-'));
  const conf = fs.readFileSync(path.join(here, 'ceiling-nginx.conf'), 'utf8')
    .replaceAll('@PREFIX@', prefix).replaceAll('@PORT@', String(port)).replaceAll('@BODY@', UPSTREAM_BODY)
    .replaceAll('@WORKERS@', '1');
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const argv = [nginx, '-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log'),
    '-g', 'daemon off;'];
  const proc = spawn(...pinned(argv), { stdio: 'ignore' });
  let exited = false;
  proc.once('exit', () => { exited = true; });
  await waitUntil(async () => {
    if (exited) throw new Error(`the upstream nginx exited: ${fs.readFileSync(path.join(prefix, 'error.log'), 'utf8')}`);
    const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
    return r?.status === 200 && (await r.text()) === UPSTREAM_BODY;
  }, { timeout: 10000, every: 20, what: 'the upstream nginx to answer' });
  return { proc, port, url: `http://127.0.0.1:${port}/` };
}
