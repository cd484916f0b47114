// Helpers the benchmark runners share: a free loopback port, a pause, and
// waiting for a child to exit within a deadline.
export { freePort } from '../lib/ports.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves true once `proc` has exited, false when `ms` passed first.
export function waitExit(proc, ms) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    proc.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}
