// Helpers shared by the deployment tests (tests/deploy/*.test.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Runs a command to completion (deadline-bound); resolves with its exit code
// and output. `input` is written to its standard input.
export function run(cmd, args = [], { cwd = repoRoot, env = {}, input = '', timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const child = spawn(cmd, args, { cwd, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

// The path of a command on PATH, or null.
export function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

// Starts an HTTP server on 127.0.0.1 with a free port; resolves with
// { server, origin, close() }.
export async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}

export async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

// Writes an executable stub script (a fake `aws` or `terraform`) into dir.
export function writeStub(dir, name, script) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, script, { mode: 0o755 });
  return p;
}

// The array assigned to a bash variable in a script: NAME=(a b c) -> [a, b, c].
export function bashArray(file, name) {
  const text = fs.readFileSync(path.join(repoRoot, file), 'utf8');
  const m = new RegExp(`^${name}=\\(([^)]*)\\)`, 'm').exec(text);
  if (!m) throw new Error(`no ${name}=(...) in ${file}`);
  return m[1].split(/\s+/).filter(Boolean);
}

// The default list of a list(string) variable in terraform/variables.tf.
export function terraformListDefault(name) {
  const text = fs.readFileSync(path.join(repoRoot, 'terraform/variables.tf'), 'utf8');
  const block = new RegExp(`variable "${name}" \\{[\\s\\S]*?\\n  default\\s*=\\s*\\[([^\\]]*)\\]`).exec(text);
  if (!block) throw new Error(`no list default for variable "${name}" in terraform/variables.tf`);
  return [...block[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}
