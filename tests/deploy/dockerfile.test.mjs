// The Dockerfile and its build context, checked without a Docker engine:
// its instructions (builder = the CI scripts, non-root runtime FROM scratch), the
// package lists against what the binary and CMake really need, the
// environment it sets against mcpd itself, and a build of exactly the
// context .dockerignore lets through, with the builder's own command.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMcpd, mcpdBinary } from '../lib/mcpd.mjs';
import { post, rpc } from '../lib/http.mjs';
import { repoRoot, run, which, bashArray } from './lib.mjs';
import { buildContextFiles } from './context.mjs';

// Instructions of a Dockerfile: [{ cmd, args, line }], continuation lines
// joined, comments dropped, grouped into stages after the global ARGs.
function parseDockerfile(text) {
  const instructions = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (!line || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    if (!pending) startLine = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    instructions.push({ cmd: m[1].toUpperCase(), args: m[2], line: startLine });
  });
  const globalArgs = [];
  const stages = [];
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ from: m[1], name: m[2], instructions: [] });
    } else if (stages.length) stages.at(-1).instructions.push(ins);
    else globalArgs.push(ins);
  }
  return { globalArgs, stages };
}

const dockerfile = parseDockerfile(fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
const runs = (stage) => stage.instructions.filter((i) => i.cmd === 'RUN').map((i) => i.args).join(' && ');
const envOf = (stage) => {
  const env = {};
  for (const i of stage.instructions.filter((x) => x.cmd === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
};

let scratch;
after(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test('two stages: a Debian 12 builder that runs the CI scripts, a runtime FROM scratch filled from it', () => {
  const [builder, runtime] = dockerfile.stages;
  assert.equal(dockerfile.stages.length, 2);
  const arg = dockerfile.globalArgs.find((i) => i.cmd === 'ARG' && i.args.startsWith('DEBIAN_IMAGE='));
  assert.ok(arg, 'a global ARG DEBIAN_IMAGE chooses the base image (CodeBuild passes a mirror)');
  assert.match(arg.args, /^DEBIAN_IMAGE=debian:12(-slim)?$/);
  assert.equal(builder.from, '${DEBIAN_IMAGE}');
  assert.equal(builder.name, 'builder');
  assert.equal(runtime.from, 'scratch', 'no base image: no shell, no package manager');

  // The builder runs exactly the commands a developer and CI run, and
  // stages the runtime root with ops/image-root (which runs the binary in it).
  assert.match(runs(builder), /(^|&& )ops\/deps build( |$)/);
  assert.match(runs(builder), /(^|&& )ops\/deps runtime( |$)/, 'ca-certificates for the CA bundle');
  assert.match(runs(builder), /(^|&& )ops\/build release( |$)/);
  assert.match(runs(builder), /(^|&& )ops\/image-root \/rootfs build\/mcpd$/);
  // A scratch stage cannot RUN anything; it only copies.
  assert.deepEqual(runtime.instructions.filter((i) => i.cmd === 'RUN'), []);
  const copies = runtime.instructions.filter((i) => i.cmd === 'COPY').map((i) => i.args);
  assert.deepEqual(copies, ['--from=builder /rootfs/ /', 'LICENSE /usr/share/doc/mcpd/LICENSE']);
});

test('the runtime stage runs mcpd as a numeric non-root user on port 8000, the user ops/image-root writes', () => {
  const runtime = dockerfile.stages.at(-1);
  const users = runtime.instructions.filter((i) => i.cmd === 'USER');
  assert.equal(users.length, 1);
  const [uid, gid] = users[0].args.split(':');
  assert.match(uid, /^[1-9]\d*$/, 'USER must be numeric and not 0');
  assert.match(gid, /^[1-9]\d*$/, 'the group must be numeric and not 0');
  const rootScript = fs.readFileSync(path.join(repoRoot, 'ops/image-root'), 'utf8');
  assert.match(rootScript, new RegExp(`^uid=${uid} gid=${gid}$`, 'm'), 'ops/image-root writes the passwd/group entries of the USER');
  const expose = runtime.instructions.filter((i) => i.cmd === 'EXPOSE').map((i) => i.args);
  assert.deepEqual(expose, ['8000']);
  const entry = runtime.instructions.filter((i) => i.cmd === 'ENTRYPOINT');
  assert.equal(entry.length, 1);
  assert.deepEqual(JSON.parse(entry[0].args), ['/usr/local/bin/mcpd'], 'exec form, so mcpd is PID 1 and gets SIGTERM');
  assert.ok(!runtime.instructions.some((i) => i.cmd === 'CMD'), 'arguments to the image are mcpd flags');
});

test('the image environment is accepted by mcpd, and leaves the authentication choice to the deployment', async () => {
  const env = envOf(dockerfile.stages.at(-1));
  assert.deepEqual(env, { MCPD_HOST: '0.0.0.0', MCPD_PORT: '8000' });
  for (const k of ['MCPD_AUTH', 'MCPD_DISCOVERY_URL']) assert.ok(!(k in env), `the image must not choose ${k}`);
  // Start mcpd as the runtime does with container_verifies_tokens = false:
  // the image environment plus MCPD_AUTH=none. (The helper's --host and
  // --port flags win over the variables, so it listens on loopback.)
  const server = await startMcpd({ workers: 1, auth: false, env: { ...env, MCPD_AUTH: 'none' } });
  try {
    // Served: tools/list, which answers whatever tools the build has.
    const res = await post(server.url, rpc(1, 'tools/list'));
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.json.result.tools), res.text);
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0);
  }
});

// The Debian package that holds a file ("" when none does).
async function owningPackage(file) {
  for (const p of [file, fs.realpathSync(file)]) {
    const r = await run('dpkg', ['-S', p]);
    if (r.code === 0) return r.stdout.split(':')[0].trim();
  }
  return '';
}

test('ops/deps runtime installs the package of every library the mcpd binary links', { skip: !which('dpkg') && 'not a Debian system' }, async (t) => {
  const runtimePkgs = bashArray('ops/deps', 'runtime_pkgs');
  assert.ok(runtimePkgs.includes('ca-certificates'), 'the key fetcher needs CA certificates for HTTPS');
  const ldd = await run('ldd', [mcpdBinary]);
  assert.equal(ldd.code, 0, ldd.stderr);
  const readelf = await run('readelf', ['-d', mcpdBinary]);
  assert.equal(readelf.code, 0, readelf.stderr);
  const needed = [...readelf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  assert.ok(needed.length > 0);
  // Present in every Debian image; sanitizer runtimes exist only in test builds.
  const base = new Set(['libc6', 'libgcc-s1']);
  const checked = [];
  for (const lib of needed) {
    if (/^lib(asan|ubsan)\.so/.test(lib)) continue;
    const m = new RegExp(`^\\s*${lib.replace(/[.+]/g, '\\$&')} => (\\S+)`, 'm').exec(ldd.stdout);
    assert.ok(m, `ldd does not resolve ${lib}`);
    const pkg = (await owningPackage(m[1])).replace(/:.*$/, '');
    assert.ok(pkg, `no package owns ${m[1]}`);
    assert.ok(base.has(pkg) || runtimePkgs.includes(pkg),
      `mcpd links ${lib} from package ${pkg}, which ops/deps runtime does not install`);
    checked.push(`${lib} <- ${pkg}`);
  }
  t.diagnostic(checked.join(', '));
});

test('ops/deps build installs the -dev package of every pkg-config module CMake requires', { skip: (!which('dpkg') || !which('pkg-config')) && 'not a Debian system' }, async (t) => {
  const buildPkgs = bashArray('ops/deps', 'build_pkgs');
  const modules = new Set();
  for (const f of ['CMakeLists.txt', 'ops/dev-issuer/CMakeLists.txt']) {
    const text = fs.readFileSync(path.join(repoRoot, f), 'utf8');
    for (const m of text.matchAll(/pkg_check_modules\(\s*\w+\s+REQUIRED\s+(?:IMPORTED_TARGET\s+)?([\w.+-]+)/g)) modules.add(m[1]);
  }
  assert.ok(modules.size >= 4, [...modules].join(' '));
  const checked = [];
  for (const mod of modules) {
    const dir = await run('pkg-config', ['--variable=pcfiledir', mod]);
    assert.equal(dir.code, 0, `pkg-config does not know ${mod}: ${dir.stderr}`);
    const pc = path.join(dir.stdout.trim(), `${mod}.pc`);
    const pkg = (await owningPackage(pc)).replace(/:.*$/, '');
    assert.ok(buildPkgs.includes(pkg), `CMake needs ${mod} from ${pkg}, which ops/deps build does not install`);
    checked.push(`${mod} <- ${pkg}`);
  }
  t.diagnostic(checked.join(', '));
});

test('the build context that .dockerignore lets through builds mcpd with the builder\'s command, without the tests', { timeout: 540000 }, async () => {
  const files = buildContextFiles(repoRoot);
  for (const f of ['CMakeLists.txt', 'ops/deps', 'ops/build', 'ops/image-root', 'supervisor/main.c', 'fetcher/fetcher.c', 'LICENSE']) assert.ok(files.includes(f), `${f} missing from the context`);
  for (const f of files) {
    assert.ok(!/^(build[^/]*|tests|terraform|\.git|node_modules)\//.test(f), `${f} must not be in the build context`);
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-context-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(scratch, f)), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, f), path.join(scratch, f));
    fs.chmodSync(path.join(scratch, f), fs.statSync(path.join(repoRoot, f)).mode);
  }
  const build = await run(path.join(scratch, 'ops/build'), ['release'], { cwd: scratch, timeoutMs: 500000 });
  assert.equal(build.code, 0, `ops/build release in the build context:\n${build.stdout.slice(-3000)}\n${build.stderr.slice(-3000)}`);
  const version = await run(path.join(scratch, 'build/mcpd'), ['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout + version.stderr, /\d+\.\d+\.\d+/);
  const cache = fs.readFileSync(path.join(scratch, 'build/CMakeCache.txt'), 'utf8');
  assert.match(cache, /^MCPD_TESTS:BOOL=OFF$/m, 'the release build must not need the test dependencies');
});

test('ops/image-root stages mcpd, every library ldd resolves, the CA bundle and the resolver files, and mcpd runs inside', {
  skip: (process.getuid() !== 0 && 'chroot needs root') || (/libasan/.test(fs.readFileSync(mcpdBinary, 'latin1')) && 'the image holds the release build, not a sanitizer build'),
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-image-root-'));
  try {
    const dest = path.join(dir, 'root');
    const r = await run(path.join(repoRoot, 'ops/image-root'), [dest, mcpdBinary]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mcpd --version: mcpd \d+\.\d+\.\d+/);
    const ldd = await run('ldd', [mcpdBinary]);
    const libs = [...ldd.stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]);
    assert.ok(libs.some((l) => /\/ld-linux/.test(l)) && libs.some((l) => /\/libc\.so/.test(l)), ldd.stdout);
    for (const f of [...libs, '/usr/local/bin/mcpd', '/etc/ssl/certs/ca-certificates.crt', '/etc/nsswitch.conf',
      '/etc/hosts', '/etc/passwd', '/etc/group']) {
      assert.ok(fs.statSync(path.join(dest, f)).isFile(), `${f} missing from the staged root`);
    }
    assert.match(fs.readFileSync(path.join(dest, 'etc/nsswitch.conf'), 'utf8'), /^hosts: files dns$/m);
    assert.ok(!fs.existsSync(path.join(dest, 'bin')), 'no /bin: no shell');
    // A second run must not mix into an existing root.
    const again = await run(path.join(repoRoot, 'ops/image-root'), [dest, mcpdBinary]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^ops\/image-root: .* is not empty; give a new folder\n$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ops/image refuses an architecture it cannot build, in one line that names the choices', async () => {
  const r = await run(path.join(repoRoot, 'ops/image'), ['--arch', 'sparc']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "ops/image: unknown architecture 'sparc'; pass --arch amd64 or --arch arm64\n");
  assert.equal(r.stdout, '');
});
