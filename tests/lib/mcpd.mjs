// Starts the real mcpd binary for a test and follows its JSON log.
//
//   const server = await startMcpd({ workers: 2, args: ['--max-body', '4096'] });
//   ... fetch(server.url) ...
//   await server.waitForLog((l) => l.event === 'worker_exited');
//   const { code, signal } = await server.stop();
//
// Every wait has a deadline and fails with what it was waiting for; nothing
// sleeps for a fixed time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// TEST_MCPD_BIN, not MCPD_*: mcpd refuses MCPD_* variables it does not know.
export const mcpdBinary = process.env.TEST_MCPD_BIN || path.resolve(here, '../../build/mcpd');

// wrapper: a program (or [program, ...its arguments]) that runs mcpd, whose
// path and arguments follow: e.g. no-seccomp, or ['prlimit', '--nofile=40'].
export async function startMcpd({ workers = 2, args = [], env = {}, auth = true, readyTimeoutMs = 10000, wrapper } = {}) {
  const argv = ['--host', '127.0.0.1', '--port', '0', '--workers', String(workers), ...args];
  // Without an explicit choice the server runs unauthenticated (mcpd demands one).
  if (auth && !args.includes('--auth') && !args.includes('--discovery-url')) argv.push('--auth', 'none');
  const childEnv = { ...process.env, ...env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('MCPD_') && !(k in env)) delete childEnv[k];
  const [program, ...before] = wrapper ? [wrapper].flat() : [mcpdBinary];
  const proc = spawn(program, wrapper ? [...before, mcpdBinary, ...argv] : argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new McpdProcess(proc);
  const listening = await server.waitForLog((l) => l.event === 'listening', readyTimeoutMs);
  server.port = listening.port;
  server.origin = `http://127.0.0.1:${server.port}`;
  server.url = `${server.origin}/mcp`;
  await server.waitForLog(() => server.logs.filter((l) => l.event === 'worker_ready').length >= workers, readyTimeoutMs);
  return server;
}

// Exported for tests that start mcpd through a wrapper (tests/image): set
// signalPid to the pid of mcpd itself and signals go there, not to the wrapper.
export class McpdProcess {
  constructor(proc) {
    this.proc = proc;
    this.signalPid = null;
    this.logs = [];
    this.lines = [];	// stdout as written, one entry a line (logs[i] is lines[i] parsed)
    this.stderr = '';
    this.waiters = new Set();
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.exited.then(() => this.notify());
    createInterface({ input: proc.stdout }).on('line', (line) => {
      this.lines.push(line);
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        this.logs.push({ unparsed: line });
      }
      this.notify();
    });
    proc.stderr.on('data', (d) => { this.stderr += d; });
  }

  notify() {
    for (const w of this.waiters) w();
  }

  get pid() {
    return this.proc.pid;
  }

  // Pids of the workers serving now (started and not yet exited).
  workerPids() {
    const alive = new Map();
    for (const l of this.logs) {
      if (l.event === 'worker_ready') alive.set(l.child_pid, l.slot);
      if (l.event === 'worker_exited') alive.delete(l.child_pid);
    }
    return [...alive.keys()];
  }

  // Pids of the children of `role` ('worker', 'fetcher', 'metrics', 'egress')
  // started and not yet exited, whether or not they serve yet.
  livePids(role) {
    const alive = new Set();
    for (const l of this.logs) {
      if (l.event === `${role}_started`) alive.add(l.child_pid);
      if (l.event === `${role}_exited`) alive.delete(l.child_pid);
    }
    return [...alive];
  }

  hasExited() {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  // Resolves with the first log line that satisfies pred (checked on every
  // new line); fails at once if mcpd exits first.
  waitForLog(pred, timeoutMs = 10000, what = pred.toString()) {
    return waitUntil(() => {
      const found = this.logs.find((l) => pred(l));
      if (found !== undefined) return found;
      if (this.hasExited()) throw new Error(`mcpd exited while waiting for ${what}\nstderr: ${this.stderr}`);
      return undefined;
    }, { timeout: timeoutMs, what: () => `${what}\nstderr: ${this.stderr}`, wake: this.waiters });
  }

  // Problems a test did not ask for: sanitizer reports on stderr, and workers
  // that died other than by the SIGKILLs tests send or a clean drain.
  unexpectedTrouble() {
    const trouble = [];
    if (/AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/.test(this.stderr)) {
      trouble.push(`sanitizer report on stderr:\n${this.stderr}`);
    }
    for (const l of this.logs) {
      // A child that had to be killed at shutdown did not drain.
      if (l.event === 'shutdown_timeout' || l.event === 'worker_drain_timeout') {
        trouble.push(`shutdown was not clean: ${JSON.stringify(l)}`);
      }
      if (!['worker_exited', 'fetcher_exited', 'metrics_exited', 'egress_exited'].includes(l.event)) continue;
      if (l.signal === 9 || l.exit_code === 0) continue;
      trouble.push(`worker ${l.child_pid} exited unexpectedly: ${JSON.stringify(l)}`);
    }
    return trouble;
  }

  kill(signal) {
    if (this.signalPid === null) this.proc.kill(signal);
    else process.kill(this.signalPid, signal);
  }

  // Sends a signal and resolves with the exit code/signal (deadline-bound).
  // Rejects if a sanitizer reported or a worker crashed while the server ran.
  async stop(signal = 'SIGTERM', timeoutMs = 20000) {
    const result = await this.stopQuietly(signal, timeoutMs);
    const trouble = this.unexpectedTrouble();
    if (trouble.length) throw new Error(trouble.join('\n'));
    return result;
  }

  async stopQuietly(signal, timeoutMs) {
    if (this.hasExited()) return this.exited;
    this.kill(signal);
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`mcpd did not exit within ${timeoutMs} ms of ${signal}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

// The direct children of a process, with their state letter ('Z' = zombie).
export function childrenOf(pid) {
  const kids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) kids.push({ pid: Number(entry), state: fields[0] });
    } catch {
      // the process went away while we looked
    }
  }
  return kids;
}
