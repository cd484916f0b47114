// Waiting in tests and benchmarks: every wait has a deadline and, when it
// passes, says what it was waiting for; nothing sleeps for a fixed time.
//
//   await waitUntil(() => server.workerPids().length === 2, { timeout: 5000, what: 'both worker slots' });
//   const line = await waitUntil(() => logs.find(isReady), { what: 'a ready line', wake: subscribers });
//
// condition: a function, plain or async, called until it returns a truthy
// value, which waitUntil resolves with.  It may throw to give up before the
// deadline (the process it waits on has exited, say); the error passes on.
// timeout: in ms (10000 unless given).
// what: a string, or a function giving one, read at the deadline (so that
// it can report the state reached).
// wake: a Set of callbacks that the code changing the state calls after
// each change (the log follower, the load generator, the fake issuer); the
// condition is then checked on every change instead of every `every` ms.
export function waitUntil(condition, { timeout = 10000, what = condition.toString(), every = 10, wake } = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    let checking = false;
    let again = false;
    let poll;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(poll);
      wake?.delete(check);
      if (err) reject(err);
      else resolve(value);
    };
    // One evaluation at a time; a wake-up during one asks for another.
    const check = async () => {
      if (settled) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const value = await condition();
          if (value) return finish(null, value);
        } while (again && !settled);
      } catch (err) {
        return finish(err);
      } finally {
        checking = false;
      }
      if (!wake && !settled) poll = setTimeout(check, every); // poll interval, bounded by the deadline
    };
    const deadline = setTimeout(() => {
      let said = what;
      if (typeof what === 'function') {
        try {
          said = what();
        } catch (err) {
          said = `(what could not say: ${err.message})`;
        }
      }
      finish(new Error(`timed out after ${timeout} ms waiting for ${said}`));
    }, timeout);
    wake?.add(check);
    check();
  });
}
