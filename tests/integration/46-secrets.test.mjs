// No AWS variable reaches a process that runs tools: the supervisor takes
// every AWS_* variable out of its environment before it forks anything,
// zeroing the bytes that /proc/<pid>/environ reads (common/aws_env.h), and
// keeps them in a sealed memfd that only the egress process is given, and
// which it closes once read. Checked on the supervisor and every child:
// workers, the JWKS fetcher, the metrics process and the egress (the test
// build has a tool that declares a destination, so it runs one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startVerifying } from '../lib/chaos.mjs';
import { freePort } from '../lib/ports.mjs';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE-session-token';
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_SESSION_TOKEN: TOKEN,
  AWS_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
};

function childrenOf(pid) {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return /^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] === String(pid);
    } catch {
      return false; // gone meanwhile
    }
  }).map(Number);
}

function fdTargets(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

test('no AWS variable is readable in /proc/<pid>/environ of mcpd or any child, nor its memfd in a child', async () => {
  const metricsPort = await freePort();
  const { idp, server } = await startVerifying({
    env: AWS_ENV, args: ['--metrics-listen', `127.0.0.1:${metricsPort}`],
  });
  try {
    await server.waitForLog((l) => l.event === 'metrics_ready', 10000, 'the metrics process');
    const egress = await server.waitForLog((l) => l.event === 'egress_ready', 10000, 'the egress process');
    const taken = server.logs.find((l) => l.event === 'aws_env_taken');
    assert.ok(taken, 'no aws_env_taken line');
    // Ours, and any the machine running the test has set (AWS_CA_BUNDLE, say).
    const expected = Object.keys({ ...process.env, ...AWS_ENV }).filter((k) => k.startsWith('AWS_')).length;
    assert.ok(taken.msg.startsWith(`${expected} AWS_* variables`), taken.msg);
    assert.ok(!JSON.stringify(server.logs).includes(SECRET), 'the secret was logged');

    const children = childrenOf(server.pid);
    assert.ok(children.length >= 5, `expected 2 workers, the fetcher, the metrics process and the egress; found ${children.length}`);
    assert.ok(children.includes(egress.child_pid), 'the egress is one of the children checked');
    // ... and the only one given the values: it read the keys from the sealed copy.
    const credentials = await server.waitForLog((l) => l.event === 'aws_credentials' && l.pid === egress.child_pid,
      10000, 'the egress to report its AWS credentials');
    assert.equal(credentials.source, 'environment');
    for (const pid of [server.pid, ...children]) {
      const environ = fs.readFileSync(`/proc/${pid}/environ`);
      const text = environ.toString('latin1');
      assert.ok(!text.includes(SECRET) && !text.includes(TOKEN), `pid ${pid}: a secret is in /proc/${pid}/environ`);
      assert.ok(!/(^|\0)AWS_/.test(text), `pid ${pid}: an AWS_ variable is in /proc/${pid}/environ`);
      assert.ok(text.includes('PATH='), `pid ${pid}: the rest of the environment is gone too`);
    }
    assert.ok(fdTargets(server.pid).some((t) => t.includes('memfd:mcpd-aws-env')), 'the supervisor does not hold the sealed copy');
    for (const pid of children) {
      assert.ok(!fdTargets(pid).some((t) => t.includes('memfd:mcpd-aws-env')), `child ${pid} holds the AWS variables' memfd`);
    }
  } finally {
    await server.stopQuietly('SIGKILL', 5000);
    await idp.close();
  }
});
