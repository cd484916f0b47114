// The built container image, run for real: its root filesystem (podman
// image mount, copied) runs mcpd under chroot as the image's user, with the
// image's environment and entrypoint, in its own mount and pid namespaces
// (mcpd is PID 1 there, /proc mounted, as in a container). No Docker engine
// is needed, and `podman run` is not used: it cannot set rlimits on every
// machine.
//
//   TEST_IMAGE=localhost/mcpd:amd64 node --test tests/image/image.test.mjs
//
// ops/image --test runs it in a private network namespace (mcpd listens on
// 8000, the image's port). Without TEST_IMAGE it builds the image first with
// ops/image for this machine's architecture. An image of another
// architecture (arm64 on x86, under qemu-user) runs with --sandbox
// best-effort: qemu-user cannot load a seccomp filter.
//
// In a booted arm64 system (ops/image-guest, which has no podman) the image
// comes as files: TEST_IMAGE_ROOT (its root filesystem) and
// TEST_IMAGE_INSPECT (podman's inspect of it, one object), and it runs with
// --sandbox strict, enforced by the arm64 kernel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { McpdProcess, childrenOf } from '../lib/mcpd.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { post, rpc, freshRequest } from '../lib/http.mjs';
import { startIssuer } from '../lib/oidc.mjs';
import { mint, CLIENT_ID } from '../lib/tokens.mjs';
import { REFERENCE_TOOLS, EXAMPLE_TOOLS } from '../lib/tools.mjs';
import { repoRoot, run, which } from '../deploy/lib.mjs';

const MAX_IMAGE_BYTES = 25e6;
const IMAGE_PORT = 8000;
const METRICS_PORT = 9100;
const HOST_ARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const GIVEN_ROOT = process.env.TEST_IMAGE_ROOT;
// An image built with the example tools (ops/image --example-tools) serves
// them too, and runs the egress process they reach the outside through.
const WITH_EXAMPLES = process.env.TEST_IMAGE_EXAMPLE_TOOLS === '1';
const IMAGE_TOOLS = WITH_EXAMPLES ? [...REFERENCE_TOOLS, ...EXAMPLE_TOOLS].sort() : REFERENCE_TOOLS;
// Full-system emulation (the arm64 guest) runs several times slower.
const SLOW = GIVEN_ROOT ? 5 : 1;

let image;
let config; // the image's Config: User, Env, Entrypoint, ExposedPorts
let imageInfo;
let scratch;
let root; // a copy of the image's root filesystem
let emulated; // the image's architecture is not this machine's: qemu-user runs it

const need = (cmd) => {
  const p = which(cmd);
  assert.ok(p, `${cmd} is not installed: ops/deps image installs it`);
  return p;
};

// The image given as files (in the arm64 guest): its inspect and its root.
function givenImage() {
  imageInfo = JSON.parse(fs.readFileSync(process.env.TEST_IMAGE_INSPECT, 'utf8'));
  image = imageInfo.RepoTags?.[0] ?? imageInfo.Id;
  config = imageInfo.Config;
  emulated = imageInfo.Architecture !== HOST_ARCH;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-image-'));
  root = path.join(scratch, 'root');
  fs.cpSync(GIVEN_ROOT, root, { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(root, 'proc'), { recursive: true });
}

before(async () => {
  if (GIVEN_ROOT) return givenImage();
  image = process.env.TEST_IMAGE;
  if (!image) {
    const built = await run(path.join(repoRoot, 'ops/image'), ['--arch', HOST_ARCH], { timeoutMs: 1200000 });
    assert.equal(built.code, 0, `ops/image failed:\n${built.stdout.slice(-3000)}\n${built.stderr.slice(-3000)}`);
    image = `localhost/mcpd:${HOST_ARCH}`;
  }
  const inspect = await run(need('podman'), ['image', 'inspect', image]);
  assert.equal(inspect.code, 0, `no image ${image}: ${inspect.stderr}`);
  [imageInfo] = JSON.parse(inspect.stdout);
  config = imageInfo.Config;
  emulated = imageInfo.Architecture !== HOST_ARCH;

  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-image-'));
  root = path.join(scratch, 'root');
  const mount = await run('podman', ['image', 'mount', image]);
  assert.equal(mount.code, 0, mount.stderr);
  try {
    const copy = await run('cp', ['-a', `${mount.stdout.trim()}/.`, `${root}/`], { timeoutMs: 60000 });
    assert.equal(copy.code, 0, copy.stderr);
  } finally {
    await run('podman', ['image', 'unmount', image]);
  }
  // Container runtimes mount /proc; mcpd's workers reopen the key set
  // read-only through /proc/self/fd.
  fs.mkdirSync(path.join(root, 'proc'));
});

after(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const imageEnv = (extra = {}) => ({
  ...Object.fromEntries(config.Env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  ...extra,
});

// The command that runs the image's entrypoint with args, as the image's
// user, with only the image's environment (plus extra).
function imageCommand(args) {
  return [need('unshare'), ['--mount', '--pid', '--fork', '--kill-child', `--mount-proc=${root}/proc`,
    need('chroot'), `--userspec=${config.User}`, root, ...config.Entrypoint, ...args]];
}

async function runImage(args, env = {}) {
  const [cmd, argv] = imageCommand(args);
  return run(cmd, argv, { env: { ...imageEnvOnly(), ...imageEnv(env) }, timeoutMs: 60000 });
}

// run() merges process.env; blank out everything the image does not set.
function imageEnvOnly() {
  return Object.fromEntries(Object.keys(process.env).map((k) => [k, undefined]));
}

// Starts mcpd from the image; resolves once `workers` workers serve.
async function startImage({ env = {}, args = [], workers = 2 } = {}) {
  const [cmd, argv] = imageCommand(['--workers', String(workers), ...args]);
  const proc = spawn(cmd, argv, { env: imageEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new McpdProcess(proc);
  // unshare --fork waits for mcpd (PID 1 of the new namespace): signal mcpd.
  await waitUntil(() => childrenOf(proc.pid).length === 1 || proc.exitCode !== null, { timeout: 10000 * SLOW, what: 'mcpd under unshare' });
  assert.equal(proc.exitCode, null, `unshare exited: ${server.stderr}`);
  server.signalPid = childrenOf(proc.pid)[0].pid;
  stopAtSeccompKill(server);
  server.listening = await server.waitForLog((l) => l.event === 'listening', 20000 * SLOW);
  await server.waitForLog(() => server.logs.filter((l) => l.event === 'worker_ready').length >= workers, 20000 * SLOW);
  server.origin = `http://127.0.0.1:${server.listening.port}`;
  server.url = `${server.origin}/mcp`;
  return server;
}

const isSeccompKill = (l) => /_exited$/.test(l.event) && l.signal_name === 'SYS';

// A child killed by its seccomp filter (a syscall its policy lacks on this
// architecture) ends mcpd at once: requests would otherwise wait for workers
// that die before they accept. SIGKILL to mcpd, PID 1 of its namespace,
// ends every process in it (unshare's --kill-child would not reach mcpd:
// the kernel clears the parent-death signal when chroot drops to 10001);
// stop() then fails with the supervisor's exit line for that child.
function stopAtSeccompKill(server) {
  const check = () => {
    const killed = server.logs.find(isSeccompKill);
    if (!killed) return;
    server.waiters.delete(check);
    process.stderr.write(`seccomp killed the ${killed.child}: ${JSON.stringify(killed)}; stopping mcpd\n`);
    server.kill('SIGKILL');
  };
  server.waiters.add(check);
}

// Under qemu-user no seccomp filter can be loaded: strict mode would refuse.
const sandboxArgs = () => (emulated ? ['--sandbox', 'best-effort'] : ['--sandbox', 'strict']);

async function stopClean(server) {
  const { code } = await server.stop('SIGTERM', 20000 * SLOW);
  assert.equal(code, 0, server.stderr);
}

// Sockets listening in this network namespace, as "address:port" (IPv4).
function listeningSockets() {
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A')
    .map(([, local]) => {
      const [hex, port] = local.split(':');
      const ip = hex.match(/../g).reverse().map((b) => parseInt(b, 16)).join('.');
      return `${ip}:${parseInt(port, 16)}`;
    });
}

function uidsOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    uid: /^Uid:\s+(.*)$/m.exec(status)[1].split(/\s+/).map(Number),
    gid: /^Gid:\s+(.*)$/m.exec(status)[1].split(/\s+/).map(Number),
  };
}

const PROTOCOL = { 'mcp-protocol-version': '2025-11-25' };
// Each MCP request on a connection of its own: after SIGHUP, fetch's pool
// may still hold a connection the retired worker is closing.
const send = (url, body, headers) => freshRequest(url, { body, headers: { ...PROTOCOL, ...headers }, timeoutMs: 30000 * SLOW });
const callTool = (url, name, args, headers) => send(url, rpc(7, 'tools/call', { name, arguments: args }), headers);

// A valid value for a JSON Schema as mcpd lists it (type, minimum, maximum,
// maxLength, enum, items, maxItems): the first of an enum, else the smallest
// simple value the bounds allow (1, "a", false, one item).
function validValue(schema, where) {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const within = (x) => Math.min(Math.max(x, schema.minimum ?? -Infinity), schema.maximum ?? Infinity);
  switch (schema.type) {
    case 'integer': return Math.ceil(within(1));
    case 'number': return within(1);
    case 'boolean': return false;
    case 'string': return 'a'.repeat(Math.max(schema.minLength ?? 0, Math.min(schema.maxLength ?? 1, 1)));
    case 'array': return Array.from({ length: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 1, 1)) },
      () => validValue(schema.items ?? {}, `${where}[]`));
    case 'object': return argumentsFor(schema, where);
    default: assert.fail(`${where}: no value for a schema of type ${JSON.stringify(schema.type)}`);
  }
}

// Arguments for a tool: a valid value for each required property.
function argumentsFor(schema, where) {
  const args = {};
  for (const name of schema.required ?? []) args[name] = validValue(schema.properties?.[name] ?? {}, `${where}.${name}`);
  return args;
}

// What the image serves is its build's tools: the files of worker/tools/
// (a release build has no test tool), each of which answers tools/call with
// a proper result when called with arguments its inputSchema admits.
async function assertToolsServe(url, headers = {}) {
  const list = await send(url, rpc(9, 'tools/list'), headers);
  assert.equal(list.status, 200, list.text);
  const tools = list.json.result.tools;
  assert.deepEqual(tools.map((t) => t.name).sort(), IMAGE_TOOLS, 'tools/list lists the tool files the image was built with');
  for (const tool of tools) {
    const args = argumentsFor(tool.inputSchema, tool.name);
    const what = `${tool.name}(${JSON.stringify(args)})`;
    const res = await callTool(url, tool.name, args, headers);
    assert.equal(res.status, 200, `${what}: ${res.text}`);
    assert.equal(res.json?.error, undefined, `${what}: a JSON-RPC error: ${res.text}`);
    const { result } = res.json;
    assert.equal(typeof result.isError, 'boolean', `${what}: ${res.text}`);
    assert.ok(Array.isArray(result.content) && result.content.length > 0, `${what}: ${res.text}`);
    for (const c of result.content) assert.ok(c.type === 'text' && typeof c.text === 'string', `${what}: ${res.text}`);
    if (result.isError) {
      // A tool may refuse values it cannot use, but never as badly formed.
      assert.doesNotMatch(result.content[0].text, /argument '|missing required argument|unexpected argument/, what);
    } else if (tool.outputSchema) {
      for (const key of tool.outputSchema.required ?? []) assert.ok(key in result.structuredContent, `${what}: no ${key} in ${res.text}`);
    }
  }
}

test('the image: USER 10001, port 8000, entrypoint mcpd, no auth choice, under 25 MB', (t) => {
  assert.equal(config.User, '10001:10001');
  assert.deepEqual(config.Entrypoint, ['/usr/local/bin/mcpd']);
  assert.ok(!config.Cmd || config.Cmd.length === 0, `arguments to the image are mcpd flags, not ${config.Cmd}`);
  assert.deepEqual(Object.keys(config.ExposedPorts), [`${IMAGE_PORT}/tcp`]);
  const env = imageEnv();
  assert.equal(env.MCPD_HOST, '0.0.0.0');
  assert.equal(env.MCPD_PORT, String(IMAGE_PORT));
  for (const k of ['MCPD_AUTH', 'MCPD_DISCOVERY_URL']) assert.ok(!(k in env), `the image must not choose ${k}`);
  t.diagnostic(`${image} (${imageInfo.Os}/${imageInfo.Architecture}): ${(imageInfo.Size / 1e6).toFixed(1)} MB uncompressed`);
  assert.ok(imageInfo.Size <= MAX_IMAGE_BYTES, `the image is ${imageInfo.Size} bytes; the budget is ${MAX_IMAGE_BYTES}`);
});

test('the root filesystem holds mcpd, its libraries, the CA bundle and the resolver files: no shell, no package manager', () => {
  const files = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else files.push(r);
    }
  };
  walk('');
  const allowed = [
    /^\/usr\/local\/bin\/mcpd$/,
    /^\/(usr\/)?lib(64)?\/([a-z0-9_]+-linux-gnu\/)?(lib[\w.+-]+|ld-linux[\w.-]*)\.so(\.[\d.]+)*$/,
    /^\/etc\/(passwd|group|nsswitch\.conf|hosts)$/,
    /^\/etc\/ssl\/certs\/ca-certificates\.crt$/,
    /^\/usr\/share\/doc\/mcpd\/LICENSE$/,
  ];
  const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
  assert.deepEqual(unexpected, [], 'files that are not mcpd, a shared library or its configuration');
  for (const f of ['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/apt-get', '/usr/bin/dpkg']) {
    assert.ok(!fs.existsSync(path.join(root, f)), `${f} is in the image`);
  }
  const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
  assert.match(passwd, /^mcpd:x:10001:10001:/m);
  assert.match(fs.readFileSync(path.join(root, 'etc/group'), 'utf8'), /^mcpd:x:10001:/m);
});

test('mcpd --version runs in the image as its user', async () => {
  const r = await runImage(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mcpd \d+\.\d+\.\d+\n$/);
});

test('the image refuses to start with neither --discovery-url nor --auth none (exit 2, says which to pass)', async () => {
  const r = await runImage([]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /no authentication configured: pass --discovery-url URL .* or --auth none/);
});

test('with MCPD_AUTH=none it serves its tools on 0.0.0.0:8000 as uid 10001', async (t) => {
  const before8000 = listeningSockets().filter((s) => s.endsWith(`:${IMAGE_PORT}`));
  assert.deepEqual(before8000, [], `port ${IMAGE_PORT} is taken here; run this test through ops/image --test (own network namespace)`);
  const server = await startImage({ env: { MCPD_AUTH: 'none' }, args: sandboxArgs() });
  try {
    assert.equal(server.listening.host, '0.0.0.0');
    assert.equal(server.listening.port, IMAGE_PORT);
    assert.ok(listeningSockets().includes(`0.0.0.0:${IMAGE_PORT}`), listeningSockets().join(' '));
    if (emulated) {
      assert.ok(server.logs.some((l) => l.event === 'sandbox_degraded'), 'under qemu-user the seccomp step must fail (and be logged)');
      t.diagnostic('emulated: served with --sandbox best-effort (no seccomp filter under qemu-user)');
    } else {
      assert.ok(!server.logs.some((l) => l.event === 'sandbox_degraded'), 'the sandbox must be complete');
    }
    const pids = [server.signalPid, ...childrenOf(server.signalPid).map((c) => c.pid)];
    assert.equal(pids.length, WITH_EXAMPLES ? 4 : 3, 'the supervisor and its two workers (and the egress)');
    // None of the reference tools declares an outbound destination: no egress process.
    if (!WITH_EXAMPLES) assert.ok(!server.logs.some((l) => l.event === 'egress_started'), 'the image runs no egress');
    for (const pid of pids) {
      const { uid, gid } = uidsOf(pid);
      assert.deepEqual(uid, [10001, 10001, 10001, 10001], `pid ${pid} uids`);
      assert.deepEqual(gid, [10001, 10001, 10001, 10001], `pid ${pid} gids`);
    }
    await assertToolsServe(server.url);
    const ping = await fetch(`${server.origin}/ping`);
    assert.equal(ping.status, 200);
    assert.equal((await ping.json()).status, 'Healthy');
  } finally {
    await stopClean(server);
  }
});

// A throwaway CA and a certificate for "localhost" signed by it.
async function makeTestCa(dir) {
  const openssl = need('openssl');
  const f = (n) => path.join(dir, n);
  fs.writeFileSync(f('leaf.ext'), 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  const steps = [
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=mcpd image test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'],
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
      '-keyout', f('leaf.key'), '-out', f('leaf.csr')],
    ['x509', '-req', '-in', f('leaf.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '1', '-extfile', f('leaf.ext'), '-out', f('leaf.crt')],
  ];
  for (const args of steps) {
    const r = await run(openssl, args);
    assert.equal(r.code, 0, `openssl ${args[0]}: ${r.stderr}`);
  }
  return { ca: fs.readFileSync(f('ca.crt'), 'utf8'), key: fs.readFileSync(f('leaf.key')), cert: fs.readFileSync(f('leaf.crt')) };
}

// An HTTPS issuer on 127.0.0.1 named "localhost" (resolved through the
// image's nsswitch.conf and /etc/hosts), its certificate from a test CA that
// trust() appends to the image's CA bundle (close() restores it).
async function startHttpsIssuer() {
  testCa ??= makeTestCa(fs.mkdtempSync(path.join(scratch, 'tls-')));
  const { ca, key, cert } = await testCa;
  const idp = await startIssuer({ tls: { key, cert }, hostname: 'localhost' });
  const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
  const shipped = fs.readFileSync(bundle, 'utf8');
  return {
    idp,
    env: { MCPD_DISCOVERY_URL: idp.discoveryUrl, MCPD_ALLOWED_CLIENTS: CLIENT_ID },
    trust: () => fs.writeFileSync(bundle, `${shipped}\n${ca}`),
    close: async () => {
      fs.writeFileSync(bundle, shipped);
      await idp.close();
    },
  };
}
let testCa;

test('the key fetcher reaches an HTTPS issuer by name: CA bundle and resolver work in the image', async (t) => {
  const { idp, env, trust, close } = await startHttpsIssuer();
  try {
    // The shipped bundle does not know the test CA: verification must fail,
    // which proves certificates are checked against that bundle.
    let server = await startImage({ env, args: sandboxArgs() });
    try {
      const failed = await server.waitForLog((l) => l.event === 'jwks_fetch_failed', 20000 * SLOW);
      assert.match(failed.msg, /SSL certificate problem|certificate verify failed/i, failed.msg);
      assert.equal(idp.fetches.discovery, 0, 'nothing may be fetched over an unverified connection');
      const res = await post(server.url, rpc(1, 'tools/list'), { ...PROTOCOL, authorization: `Bearer ${mint(idp)}` });
      assert.equal(res.status, 503, 'no key set yet');
    } finally {
      await stopClean(server);
    }

    trust();
    server = await startImage({ env, args: sandboxArgs() });
    try {
      const published = await server.waitForLog((l) => l.event === 'jwks_published', 20000 * SLOW);
      t.diagnostic(`fetched ${idp.discoveryUrl}: ${JSON.stringify(published)}`);
      assert.ok(idp.fetches.discovery >= 1 && idp.fetches.jwks >= 1);
      await assertToolsServe(server.url, { authorization: `Bearer ${mint(idp)}` });
      const anonymous = await post(server.url, rpc(1, 'tools/list'), PROTOCOL);
      assert.equal(anonymous.status, 401);
    } finally {
      await stopClean(server);
    }
  } finally {
    await close();
  }
});

test('the health probe: POST /mcp/ ping without a token answers 200 while tokens are verified', async () => {
  const { env, trust, close } = await startHttpsIssuer();
  trust();
  try {
    const server = await startImage({ env, args: sandboxArgs() });
    try {
      await server.waitForLog((l) => l.event === 'jwks_published', 20000 * SLOW);
      const res = await fetch(`${server.origin}/mcp/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: '{"jsonrpc":"2.0","method":"ping","params":null,"id":4}',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 4, result: {} });
    } finally {
      await stopClean(server);
    }
  } finally {
    await close();
  }
});

// The roles' pids (each child of the supervisor) and their sandbox state.
function sandboxOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { noNewPrivs: /^NoNewPrivs:\s+(\d)/m.exec(status)[1], seccomp: /^Seccomp:\s+(\d)/m.exec(status)[1] };
}

// mcpd logs pids as its pid namespace numbers them (it is PID 1 there):
// each child's pid here, by the last NSpid of its /proc status.
function hostPids(server) {
  const byNamespacePid = new Map();
  for (const { pid } of childrenOf(server.signalPid)) {
    const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1].split(/\s+/);
    byNamespacePid.set(Number(nspid[nspid.length - 1]), pid);
  }
  return byNamespacePid;
}

function assertSandboxed(server, roles) {
  const host = hostPids(server);
  for (const role of roles) {
    const pids = server.livePids(role).map((p) => host.get(p));
    assert.ok(pids.length > 0 && pids.every(Boolean), `no ${role} runs, or not as a child of the supervisor`);
    for (const pid of pids) {
      assert.deepEqual(sandboxOf(pid), { noNewPrivs: '1', seccomp: '2' }, `${role} pid ${pid}: no_new_privs and a seccomp filter`);
    }
  }
}

// A child killed by its seccomp filter exits on SIGSYS; the supervisor logs
// every child's exit. (ops/image-guest also reads the kernel's audit lines.)
function assertNoSeccompKill(server) {
  const killed = server.logs.filter(isSeccompKill);
  assert.deepEqual(killed, [], 'children killed by their seccomp filter (a syscall missing from a policy on this architecture)');
}

// Every process the image starts, under the strict sandbox (enforced by the
// kernel unless emulated), through a whole life: fresh tokens verified and
// each tool called, a key rotation fetched over HTTPS on demand, /metrics
// scraped, a SIGHUP hand-over to new workers, a SIGTERM drain; no child may
// die of a syscall its policy lacks.
test('lifecycle under the sandbox: tools, key rotation, /metrics, SIGHUP, SIGTERM drain, no seccomp kill', async (t) => {
  const { idp, env, trust, close } = await startHttpsIssuer();
  trust();
  try {
    const server = await startImage({
      env: { ...env, MCPD_METRICS_LISTEN: `127.0.0.1:${METRICS_PORT}`, MCPD_JWKS_REFRESH_MIN: '1' },
      args: sandboxArgs(),
    });
    const auth = () => ({ authorization: `Bearer ${mint(idp)}` });
    try {
      await server.waitForLog((l) => l.event === 'jwks_published', 20000 * SLOW);
      await server.waitForLog((l) => l.event === 'metrics_ready', 20000 * SLOW);
      if (!emulated) assertSandboxed(server, ['worker', 'fetcher', 'metrics']);
      await assertToolsServe(server.url, auth());

      const fetches = idp.fetches.jwks;
      const rotated = idp.addKey();
      const token = mint(idp, { kid: rotated.kid });
      await waitUntil(async () => (await callTool(server.url, REFERENCE_TOOLS[0], {}, { authorization: `Bearer ${token}` })).status !== 401,
        { timeout: 20000 * SLOW, what: 'the rotated key to be fetched and accepted', every: 200 });
      assert.ok(idp.fetches.jwks > fetches, 'the unknown kid made the fetcher fetch the key set again');
      await assertToolsServe(server.url, { authorization: `Bearer ${token}` });

      const scrape = await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /^mcpd_http_requests_total\{/m);

      const oldWorkers = server.livePids('worker');
      server.kill('SIGHUP');
      await server.waitForLog((l) => l.event === 'reload_done', 30000 * SLOW, 'SIGHUP to replace every worker');
      // The retired workers drain, then exit (logged by the supervisor).
      await server.waitForLog(() => !server.livePids('worker').some((p) => oldWorkers.includes(p)), 30000 * SLOW,
        'the workers SIGHUP retired to exit');
      assert.equal(server.livePids('worker').length, oldWorkers.length, 'as many workers serve after SIGHUP');
      if (!emulated) assertSandboxed(server, ['worker']);
      await assertToolsServe(server.url, auth());
      assertNoSeccompKill(server);
    } finally {
      await stopClean(server);
    }
    const drained = server.logs.filter((l) => /_exited$/.test(l.event));
    t.diagnostic(`SIGTERM: ${drained.length} children exited, codes ${[...new Set(drained.map((l) => l.exit_code ?? l.signal_name))]}`);
    assert.ok(drained.every((l) => l.exit_code === 0), 'every child drained and exited 0');
    assertNoSeccompKill(server);
  } finally {
    await close();
  }
});

// The egress process of an image with the example tools, under the sandbox:
// fetch reads a page from an HTTPS server named localhost (its test CA
// appended to the image's bundle), allowed by --egress-allow.
test('the egress: fetch reaches an allowed HTTPS page through the sandboxed egress, no seccomp kill',
  { skip: !WITH_EXAMPLES && 'the image has no example tools (ops/image --example-tools)' }, async () => {
    testCa ??= makeTestCa(fs.mkdtempSync(path.join(scratch, 'tls-')));
    const { ca, key, cert } = await testCa;
    const page = 'served to the egress';
    const upstream = https.createServer({ key, cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(page);
    });
    await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
    const shipped = fs.readFileSync(bundle, 'utf8');
    fs.writeFileSync(bundle, `${shipped}\n${ca}`);
    try {
      const { port } = upstream.address();
      const server = await startImage({ env: { MCPD_AUTH: 'none', MCPD_EGRESS_ALLOW: `localhost:${port}` }, args: sandboxArgs() });
      try {
        await server.waitForLog((l) => l.event === 'egress_ready', 20000 * SLOW, 'the egress process');
        if (!emulated) assertSandboxed(server, ['worker', 'egress']);
        const res = await callTool(server.url, 'fetch', { url: `https://localhost:${port}/page.txt` });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.result?.isError, false, res.text);
        assert.match(res.json.result.content[0].text, new RegExp(page), res.text);
        assertNoSeccompKill(server);
      } finally {
        await stopClean(server);
      }
      assertNoSeccompKill(server);
    } finally {
      fs.writeFileSync(bundle, shipped);
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
