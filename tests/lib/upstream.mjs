// Real local upstreams for the egress tests: a test CA with a server
// certificate for 127.0.0.1 and localhost (and a self-signed rogue one),
// and an HTTPS server that echoes each request as JSON, with a few special
// paths: /slow never answers, /huge sends 4 MiB, /redirect?to=URL answers 302.
//
//   const certs = makeCerts();            // certs.dir: remove it after
//   const up = await startUpstream(certs); // up.port, up.requests, up.open
//   ... up.close();
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

export function makeCerts() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'egress-test-'));
  const f = (name) => path.join(dir, name);
  const ssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=egress test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
    '-keyout', f('server.key'), '-out', f('server.csr'));
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', f('rogue.key'), '-out', f('rogue.pem'));
  return { dir, ca: f('ca.pem'), key: f('server.key'), cert: f('server.pem'), rogueKey: f('rogue.key'),
    rogueCert: f('rogue.pem') };
}

export function listen(server, host = '127.0.0.1') {
  return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
}

// The echoing HTTPS upstream.  requests: the paths asked, in order; open:
// its TLS connections now; closedRequests: requests whose client went away
// before an answer (a cancelled call shows here).
export async function startUpstream(certs) {
  const up = { connections: 0, requests: [], open: new Set(), closedRequests: 0 };
  const server = https.createServer({ key: readFileSync(certs.key), cert: readFileSync(certs.cert) });
  server.on('secureConnection', (s) => {
    up.connections++;
    up.open.add(s);
    s.on('close', () => up.open.delete(s));
  });
  server.on('request', (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      up.requests.push(req.url);
      const url = new URL(req.url, 'https://x');
      if (url.pathname === '/slow') {
        res.on('close', () => { if (!res.writableEnded) up.closedRequests++; });
        return; // never answers
      }
      if (url.pathname === '/huge') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const block = Buffer.alloc(64 * 1024, 'x');
        for (let i = 0; i < 64; i++) res.write(block);
        return res.end();
      }
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to') });
        return res.end();
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-echo': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers,
        body: Buffer.concat(chunks).toString() }));
    });
  });
  up.server = server;
  up.port = await listen(server);
  up.close = () => {
    for (const s of up.open) s.destroy();
    server.close();
  };
  return up;
}
