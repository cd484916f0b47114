// Many tools/call requests held open at once, for the egress benchmark
// (tests/bench/egress.mjs): one HTTP/1.1 connection per call, each sending
// one POST and reading one answer, as a client waiting on a slow tool does.
//
//   const calls = await holdCalls(port, token, body, 1000);
//   calls.answered()   answers so far: [{status, body}]
//   calls.failed()     connections that ended without an answer: [message]
//   calls.close()
import net from 'node:net';

// Connections opened at once: a wave well under the listen backlog, so that
// no SYN is dropped and retried a second later.
const WAVE = 200;

function request(port, token, body) {
  const head = ['POST /mcp HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json',
    'Accept: application/json, text/event-stream', 'MCP-Protocol-Version: 2025-06-18'];
  if (token) head.push(`Authorization: Bearer ${token}`);
  head.push(`Content-Length: ${Buffer.byteLength(body)}`, '', '');
  return head.join('\r\n') + body;
}

// One connection: connect, send, read one whole response (Content-Length).
function oneCall(port, bytes, calls) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    calls.sockets.add(sock);
    let buf = Buffer.alloc(0), total = -1, status = 0, end = -1, done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      if (err) calls.failures.push(err);
    };
    sock.once('connect', () => {
      sock.write(bytes);
      resolve();
    });
    sock.on('error', (e) => {
      finish(e.code || e.message);
      reject(e);
    });
    sock.on('close', () => finish('connection closed before an answer'));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (total < 0) {
        end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = buf.subarray(0, end).toString('latin1');
        const cl = headers.match(/^content-length:\s*(\d+)/im);
        status = Number(headers.split(' ')[1]);
        if (!cl) return finish(`no content-length in ${headers.slice(0, 200)}`);
        total = end + 4 + Number(cl[1]);
      }
      if (buf.length < total || done) return;
      done = true;
      calls.answers.push({ status, body: buf.subarray(end + 4, total).toString('utf8') });
    });
  });
}

export async function holdCalls(port, token, body, n) {
  const calls = { sockets: new Set(), answers: [], failures: [] };
  const bytes = request(port, token, body);
  for (let i = 0; i < n; i += WAVE) {
    const wave = [];
    for (let j = i; j < Math.min(n, i + WAVE); j++) wave.push(oneCall(port, bytes, calls));
    await Promise.all(wave);
  }
  return {
    answered: () => calls.answers,
    failed: () => calls.failures,
    open: () => [...calls.sockets].filter((s) => !s.destroyed).length,
    close: () => { for (const s of calls.sockets) s.destroy(); },
  };
}
