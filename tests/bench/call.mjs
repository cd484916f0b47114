// The benchmark's request: tools/call of a tool taking integers a and b and
// answering their sum (ops/bench --tool; the test tool sum by default), with
// a = 5 and b = 3, and the check of its answer.
import net from 'node:net';
import { sleep } from './procs.mjs';

// The body wrk POSTs (wrk/mcp-call.lua builds the same from BENCH_TOOL).
export const callBody = (tool) =>
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":{"a":5,"b":3}}}`;
// mcpd's answer to it (the ceiling serves it verbatim), whatever the tool's name.
export const ANSWER = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"8"}],"structuredContent":{"result":8},"isError":false}}';

// One POST of `body` on a fresh connection, with the MCP headers wrk sends;
// resolves {status, body, bytes} (bytes: the whole response as it came off the wire).
export function postOnce(port, token, body, { version = '2025-06-18', timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const head = ['POST /mcp HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Content-Type: application/json',
      'Accept: application/json, text/event-stream', `MCP-Protocol-Version: ${version}`];
    if (token) head.push(`Authorization: Bearer ${token}`);
    head.push(`Content-Length: ${Buffer.byteLength(body)}`, '', '');
    const sock = net.connect({ host: '127.0.0.1', port });
    // The chunks are joined once the whole response is in, so that a large
    // response costs this client time in proportion to its size.
    const chunks = [];
    let got = 0, end = -1, total = -1, headers = '';
    const done = (err, value) => {
      sock.destroy();
      clearTimeout(timer);
      err ? reject(err) : resolve(value);
    };
    const timer = setTimeout(() => done(new Error('timeout')), timeoutMs);
    sock.on('connect', () => sock.write(head.join('\r\n') + body));
    sock.on('error', (e) => done(e));
    sock.on('data', (d) => {
      chunks.push(d);
      got += d.length;
      if (total < 0) {
        const buf = Buffer.concat(chunks, got);
        chunks.splice(0, chunks.length, buf);
        end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        headers = buf.subarray(0, end).toString('latin1');
        const cl = headers.match(/^content-length:\s*(\d+)/im);
        if (!cl) return done(new Error(`no content-length in ${headers}`));
        total = end + 4 + Number(cl[1]);
      }
      if (got < total) return;
      const buf = Buffer.concat(chunks, got);
      done(null, { status: Number(headers.split(' ')[1]), body: buf.subarray(end + 4, total).toString('utf8'), bytes: total });
    });
    sock.on('end', () => done(new Error('connection closed before a full response')));
  });
}

// One POST of the benchmark request, as wrk sends it.
export const callOnce = (port, token, tool) => postOnce(port, token, callBody(tool));

// Is this the right answer to the benchmark's tools/call (5 + 3)?
export function rightAnswer(r) {
  try {
    const m = JSON.parse(r.body);
    return r.status === 200 && m.id === 1 && m.result?.structuredContent?.result === 8 && m.result?.content?.[0]?.text === '8';
  } catch {
    return false;
  }
}

// Polls tools/call until it answers 200 with the right result; returns ms since t0.
export async function firstServedCall(port, token, tool, t0, proc, deadlineMs = 20000) {
  let last = 'no answer';
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`server exited (${proc.exitCode ?? proc.signalCode}) before serving: ${last}`);
    try {
      const r = await callOnce(port, token, tool);
      if (r.status === 200) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (!rightAnswer(r)) throw new Error(`wrong answer to tools/call: ${r.body}`);
        return ms;
      }
      last = `HTTP ${r.status} ${r.body.slice(0, 200)}`;
    } catch (e) {
      if (/wrong answer/.test(e.message)) throw e;
      last = e.code || e.message;
    }
    if (Number(process.hrtime.bigint() - t0) / 1e6 > deadlineMs) throw new Error(`no 200 on tools/call within ${deadlineMs} ms: ${last}`);
    await sleep(last === 'ECONNREFUSED' ? 0.2 : 1);
  }
}
