-- wrk script: POST /mcp tools/call NAME(a = 5, b = 3) with the MCP headers,
-- NAME a tool taking integers a and b and answering their sum.
--
--   BENCH_TOOL          the tool's name (default sum, a test tool; add_numbers
--                       for a build that predates sum)
--   BENCH_TOKENS=FILE   bearer tokens, one a line. One token: the same token on
--                       every request (a verified token, cached by mcpd). Many:
--                       the next one on each request, cycling, so that every
--                       token is seen again only after all the others.
--                       Unset or empty: no Authorization header (auth off).
--   BENCH_PATH          request path (default /mcp)
--   BENCH_BODY          the whole JSON-RPC body instead (e.g. a ping, or a call
--                       of another tool); BENCH_TOOL is then not used
--   BENCH_METHOD=GET    a plain GET of BENCH_PATH without body or MCP headers
--                       (an upstream measured alone, as the egress asks it)
--
-- done() prints one line `BENCH_RESULT {json}` for ops/bench.

local tool = os.getenv("BENCH_TOOL") or ""
if tool == "" then tool = "sum" end
assert(tool:match("^[%w_-]+$"), "BENCH_TOOL is not a tool name: " .. tool)
local body = os.getenv("BENCH_BODY") or ""
if body == "" then
  body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
    .. '{"name":"' .. tool .. '","arguments":{"a":5,"b":3}}}'
end
local path = os.getenv("BENCH_PATH") or "/mcp"

wrk.path = path
if os.getenv("BENCH_METHOD") == "GET" then
  wrk.method = "GET"
else
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
end

local tokens = {}
local file = os.getenv("BENCH_TOKENS")
if file and file ~= "" then
  for line in io.lines(file) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
  assert(#tokens > 0, "no token in " .. file)
end

if #tokens == 1 then
  wrk.headers["Authorization"] = "Bearer " .. tokens[1]
elseif #tokens > 1 then
  -- Each wrk thread starts at its own offset so threads do not send the same
  -- token at the same time.
  local threads = 0
  function setup(thread)
    thread:set("first", threads * 7919)
    threads = threads + 1
  end

  local i
  function request()
    if i == nil then i = (first or 0) % #tokens end
    i = i % #tokens + 1
    wrk.headers["Authorization"] = "Bearer " .. tokens[i]
    return wrk.format(nil, path, nil, nil)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,'
    .. '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,'
    .. '"tokens":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, #tokens))
end
