// What the benchmark runner reads from /proc: a server's process tree, its
// CPU time and memory, how busy each CPU is, and mcpd's workers.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// The server's process tree: root and every descendant.
export function treePids(root) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const c of children.get(p) || []) walk(c); };
  walk(root);
  return out;
}

// user and system CPU ticks of a set of processes (all their threads).
export function cpuTicksSplit(pids) {
  const t = { user: 0, sys: 0 };
  for (const p of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      t.user += Number(f[11]);
      t.sys += Number(f[12]);
    } catch { /* gone */ }
  }
  return t;
}

// CPU time of this process, and of its children that have been waited for (wrk, once it has exited).
export function selfTicks() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

// Busy share of a set of CPUs from /proc/stat (everything but idle and iowait; steal counts as busy).
export function cpuList(list) {
  const out = [];
  for (const part of list.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

export function cpuBusy(cpus) {
  const lines = fs.readFileSync('/proc/stat', 'utf8').split('\n');
  let busy = 0, total = 0;
  for (const c of cpus) {
    const l = lines.find((x) => x.startsWith(`cpu${c} `));
    if (!l) continue;
    const v = l.trim().split(/\s+/).slice(1, 9).map(Number);
    const t = v.reduce((a, x) => a + x, 0);
    total += t;
    busy += t - v[3] - v[4];
  }
  return { busy, total };
}

export const busyPct = (a, b) => (b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : NaN);

export function statusKb(pid, field) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function socketInodes(pid) {
  const out = new Set();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const t = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (t.startsWith('socket:')) out.add(t);
      } catch { /* closed */ }
    }
  } catch { /* gone */ }
  return out;
}

// mcpd's workers: the supervisor's children that hold its listening socket (the fetcher does not).
export function mcpdWorkers(root) {
  const listeners = socketInodes(root);
  return treePids(root).filter((p) => p !== root && [...socketInodes(p)].some((s) => listeners.has(s)));
}

export function memory(root, kind) {
  const pids = treePids(root);
  const mem = {
    hwm: pids.reduce((a, p) => a + statusKb(p, 'VmHWM'), 0),
    rss: pids.reduce((a, p) => a + statusKb(p, 'VmRSS'), 0),
    procs: pids.length,
  };
  if (kind === 'mcpd') {
    const workers = mcpdWorkers(root);
    mem.workerRss = Math.max(0, ...workers.map((p) => statusKb(p, 'VmRSS')));
    mem.workerHwm = Math.max(0, ...workers.map((p) => statusKb(p, 'VmHWM')));
    mem.workers = workers.length;
  }
  return mem;
}

// Milliseconds a process has run on a CPU, all its threads together (from
// schedstat: nanoseconds, where /proc/<pid>/stat counts 10 ms ticks).
export function runMs(pid) {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* the thread is gone */ }
  }
  return ns / 1e6;
}
