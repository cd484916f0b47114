// Small HTTP helpers for the integration tests: MCP POSTs with the headers a
// well-behaved client sends, and raw sockets for what fetch cannot do.
import http from 'node:http';
import net from 'node:net';

export const ACCEPT_BOTH = 'application/json, text/event-stream';

// POSTs a JSON-RPC body (object or raw string); returns {status, headers, text, json}.
export async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// One request (a JSON body, if any, is POSTed with the headers post() sends)
// on a connection of its own, closed after the answer; returns
// {status, headers, text, json}.  fetch keeps connections alive in a pool,
// and a test that SIGKILLs a worker may find a connection to it still in the
// pool: the kernel sends its FIN at the kill, but the test can see the new
// worker's worker_ready line first and go on at once, and fetch then writes
// the next request on the dead connection ("other side closed").
export function freshRequest(url, { method = 'POST', body, headers = {}, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      agent: false,
      headers: body === undefined ? { ...headers, connection: 'close' }
        : { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers, connection: 'close' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${method} ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body === undefined || typeof body === 'string' ? body : JSON.stringify(body));
  });
}

export function rpc(id, method, params) {
  const msg = { jsonrpc: '2.0', id, method };
  if (params !== undefined) msg.params = params;
  return msg;
}

// Opens a raw TCP connection; resolves once connected.
export function connect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => resolve(sock));
    sock.once('error', reject);
  });
}

// Resolves with everything the peer sent once it closes (or rejects at the deadline).
export function readUntilClose(sock, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    let data = '';
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    sock.on('error', () => {});
  });
}

// Resolves with the first complete HTTP response head + body read so far.
export function readResponse(sock, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    let data = '';
    const timer = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms; got ${JSON.stringify(data)}`)), timeoutMs);
    const onData = (d) => {
      data += d;
      const head = data.indexOf('\r\n\r\n');
      if (head < 0) return;
      const m = /content-length: *(\d+)/i.exec(data.slice(0, head));
      if (m && data.length < head + 4 + Number(m[1])) return;
      clearTimeout(timer);
      sock.off('data', onData);
      resolve({ status: Number(data.slice(9, 12)), head: data.slice(0, head), body: data.slice(head + 4) });
    };
    sock.on('data', onData);
  });
}
