// The shell scripts of ops/ and terraform/scripts/: ShellCheck, usage on
// wrong arguments, and the two scripts Terraform runs, against a fake `aws`
// command that records its calls and answers like the AWS CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, run, which, writeStub } from './lib.mjs';

let scratch;
before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-scripts-'));
});
after(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

// Every shell script under ops/ and terraform/scripts/, found by shebang.
function shellScripts() {
  const found = [];
  for (const dir of ['ops', 'terraform/scripts', '.ci']) {
    for (const entry of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const rel = `${dir}/${entry.name}`;
      const head = fs.readFileSync(path.join(repoRoot, rel), 'utf8').split('\n')[0];
      if (/^#!.*\b(ba)?sh\b/.test(head)) found.push(rel);
    }
  }
  return found.sort();
}

test('ShellCheck finds nothing in the ops/ and terraform/ scripts', async (t) => {
  const shellcheck = which('shellcheck');
  assert.ok(shellcheck, 'shellcheck is not installed: ops/deps test installs it (Debian package shellcheck)');
  const scripts = shellScripts();
  for (const s of ['ops/deploy.sh', 'ops/destroy.sh', 'ops/get-token', 'ops/deps', 'ops/build', 'ops/image', 'ops/image-root', 'ops/image-guest',
    'terraform/scripts/build-image.sh', 'terraform/scripts/runtime-log-group.sh']) {
    assert.ok(scripts.includes(s), `${s} not found among ${scripts.join(' ')}`);
  }
  const r = await run(shellcheck, ['--severity=style', ...scripts], { timeoutMs: 120000 });
  t.diagnostic(`checked ${scripts.join(' ')}`);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('ShellCheck finds nothing in the commands of terraform/buildspec.yml (run by bash in CodeBuild)', async () => {
  const shellcheck = which('shellcheck');
  assert.ok(shellcheck, 'shellcheck is not installed: ops/deps test installs it (Debian package shellcheck)');
  const spec = fs.readFileSync(path.join(repoRoot, 'terraform/buildspec.yml'), 'utf8');
  assert.match(spec, /^env:\n  shell: bash$/m, 'the commands are written for bash');
  const commands = [...spec.matchAll(/^ {6}- (.+)$/gm)].map((m) => m[1]);
  assert.ok(commands.some((c) => c.startsWith('docker build')) && commands.some((c) => c.startsWith('docker push')), commands.join('\n'));
  const r = await run(shellcheck, ['--shell=bash', '-'], { input: `${commands.join('\n')}\n` });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('every deployment script prints its usage and exits 2 on wrong arguments', async () => {
  const cases = [
    ['ops/deploy.sh', ['--yes']],
    ['ops/deploy.sh', ['plan']],
    ['ops/destroy.sh', ['--force']],
    ['ops/destroy.sh', ['--auto-approve', 'extra']],
    ['ops/get-token', []],
    ['ops/get-token', ['--client-id']],
    ['ops/get-token', ['--client-id', 'abc']],
    ['ops/get-token', ['--from-terraform', '--username', 'x']],
    ['ops/get-token', ['--password', 'secret']],
    ['ops/smoke-test', []],
    ['ops/smoke-test', ['--url', 'http://127.0.0.1:1/mcp', '--arn', 'arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/x-1234567890']],
    ['ops/smoke-test', ['--arn', 'arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/x-1234567890']],
    ['ops/smoke-test', ['--arn', 'not-an-arn', '--region', 'us-west-2']],
    ['ops/smoke-test', ['--url', 'ftp://x']],
    ['ops/smoke-test', ['--url', 'http://127.0.0.1:1/mcp', '--token', 'secret']],
    ['ops/deps', []],
    ['ops/build', ['fast']],
    ['ops/build', ['release', '--examples']],
    ['ops/build', ['release', '--example-tools', 'extra']],
    ['ops/build', ['release', '--example-tools=on']],
    ['ops/image', ['--bogus']],
    ['ops/image', ['--arch']],
    ['ops/image', ['--example-tools=ON']],
    ['ops/image-root', []],
    ['ops/image-guest', []],
    ['ops/image-guest', ['localhost/mcpd:arm64', '--short']],
    ['ops/image-root', ['/nonexistent/dest']],
    ['terraform/scripts/build-image.sh', []],
    ['terraform/scripts/build-image.sh', ['--region', 'us-west-2', '--project', 'p', '--repository', 'r']],
    ['terraform/scripts/runtime-log-group.sh', []],
    ['terraform/scripts/runtime-log-group.sh', ['retain', '--region', 'us-west-2', '--log-group', '/elsewhere', '--days', '7']],
    ['terraform/scripts/runtime-log-group.sh', ['rotate', '--region', 'us-west-2', '--log-group', '/aws/bedrock-agentcore/runtimes/x-DEFAULT']],
  ];
  for (const [script, args] of cases) {
    // No AWS or terraform can be reached from here: usage must come first.
    const r = await run(path.join(repoRoot, script), args, { env: { PATH: `${scratch}/empty:${process.env.PATH}` } });
    assert.equal(r.code, 2, `${script} ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /usage: /, `${script} ${args.join(' ')} should print its usage:\n${r.stderr}`);
    assert.equal(r.stdout, '', `${script} ${args.join(' ')} printed on stdout`);
  }
});

// A fake AWS CLI: appends each call's arguments (one JSON array per line) to
// $AWS_STUB_LOG and answers from the scenario in $AWS_STUB_SCENARIO, keeping
// a counter per command in $AWS_STUB_DIR.
const AWS_STUB = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.AWS_STUB_LOG, JSON.stringify(args) + '\\n');
const key = args.slice(0, 2).join(' ');
const countFile = process.env.AWS_STUB_DIR + '/' + key.replace(/ /g, '_');
const n = fs.existsSync(countFile) ? Number(fs.readFileSync(countFile, 'utf8')) + 1 : 1;
fs.writeFileSync(countFile, String(n));
const scenario = JSON.parse(process.env.AWS_STUB_SCENARIO);
const answers = scenario[key] || [];
const a = answers[Math.min(n, answers.length) - 1];
if (a === undefined) { process.stderr.write('stub: unexpected call ' + key + '\\n'); process.exit(254); }
if (a.out) process.stdout.write(a.out + '\\n');
if (a.err) process.stderr.write(a.err + '\\n');
process.exit(a.code || 0);
`;

async function withFakeAws(name, scenario, script, args) {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  writeStub(dir, 'aws', AWS_STUB);
  const log = path.join(dir, 'calls.log');
  const r = await run(path.join(repoRoot, script), args, {
    env: { PATH: `${dir}:${process.env.PATH}`, AWS_STUB_LOG: log, AWS_STUB_DIR: dir,
      AWS_STUB_SCENARIO: JSON.stringify(scenario), BUILD_POLL_SECONDS: '0' },
  });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  return { ...r, calls };
}

const BUILD_ARGS = ['--region', 'us-west-2', '--project', 'mcpd-image', '--repository', 'mcpd',
  '--tag', 'src-0123456789abcdef01234567', '--source', 'bucket-1/source/mcpd-src-0123.zip', '--timeout', '5'];
const NOT_FOUND = { code: 254, err: 'An error occurred (ImageNotFoundException)' };

test('build-image.sh builds nothing when ECR already has the tag', async () => {
  const r = await withFakeAws('exists', { 'ecr describe-images': [{ out: 'sha256:abc' }] },
    'terraform/scripts/build-image.sh', BUILD_ARGS);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.calls.map((c) => c.slice(0, 2).join(' ')), ['ecr describe-images']);
  assert.ok(r.calls[0].includes('imageTag=src-0123456789abcdef01234567'));
});

test('build-image.sh starts a build with the tag and source, waits for it and checks the pushed image', async () => {
  const r = await withFakeAws('builds', {
    'ecr describe-images': [NOT_FOUND, { out: 'sha256:abc' }],
    'codebuild start-build': [{ out: 'mcpd-image:1234' }],
    'codebuild batch-get-builds': [{ out: 'IN_PROGRESS' }, { out: 'IN_PROGRESS' }, { out: 'SUCCEEDED' }],
  }, 'terraform/scripts/build-image.sh', BUILD_ARGS);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(r.calls.map((c) => c.slice(0, 2).join(' ')), ['ecr describe-images', 'codebuild start-build',
    'codebuild batch-get-builds', 'codebuild batch-get-builds', 'codebuild batch-get-builds', 'ecr describe-images']);
  const start = r.calls[1];
  assert.equal(start[start.indexOf('--project-name') + 1], 'mcpd-image');
  assert.equal(start[start.indexOf('--environment-variables-override') + 1], 'name=IMAGE_TAG,value=src-0123456789abcdef01234567,type=PLAINTEXT');
  assert.equal(start[start.indexOf('--source-location-override') + 1], 'bucket-1/source/mcpd-src-0123.zip');
  assert.ok(r.calls[2].includes('mcpd-image:1234'));
  assert.match(r.stdout, /pushed mcpd:src-0123456789abcdef01234567/);
});

test('build-image.sh fails the apply when the build fails', async () => {
  const r = await withFakeAws('fails', {
    'ecr describe-images': [NOT_FOUND],
    'codebuild start-build': [{ out: 'mcpd-image:99' }],
    'codebuild batch-get-builds': [{ out: 'IN_PROGRESS' }, { out: 'FAILED' }, { out: 'BUILD\tError while executing command: docker build' }],
  }, 'terraform/scripts/build-image.sh', BUILD_ARGS);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /build mcpd-image:99 ended FAILED/);
  assert.match(r.stderr, /docker build/);
});

test('build-image.sh fails when the build succeeds but the image is not in ECR', async () => {
  const r = await withFakeAws('missing', {
    'ecr describe-images': [NOT_FOUND, NOT_FOUND],
    'codebuild start-build': [{ out: 'mcpd-image:7' }],
    'codebuild batch-get-builds': [{ out: 'SUCCEEDED' }],
  }, 'terraform/scripts/build-image.sh', BUILD_ARGS);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /succeeded but mcpd:src-0123456789abcdef01234567 is not in ECR/);
});

test('runtime-log-group.sh creates the runtime log group when AgentCore has not yet, and sets its retention', async () => {
  const group = '/aws/bedrock-agentcore/runtimes/mcpd_runtime-AbCdEf1234-DEFAULT';
  const r = await withFakeAws('retain', {
    'logs describe-log-groups': [{ out: '' }],
    'logs create-log-group': [{}],
    'logs put-retention-policy': [{}],
  }, 'terraform/scripts/runtime-log-group.sh', ['retain', '--region', 'us-west-2', '--log-group', group, '--days', '30']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.calls.map((c) => c.slice(0, 2).join(' ')), ['logs describe-log-groups', 'logs create-log-group', 'logs put-retention-policy']);
  const put = r.calls[2];
  assert.equal(put[put.indexOf('--log-group-name') + 1], group);
  assert.equal(put[put.indexOf('--retention-in-days') + 1], '30');
});

test('runtime-log-group.sh only sets the retention when the group exists, and deletes it on request', async () => {
  const group = '/aws/bedrock-agentcore/runtimes/mcpd_runtime-AbCdEf1234-DEFAULT';
  const retain = await withFakeAws('retain-existing', {
    'logs describe-log-groups': [{ out: group }],
    'logs put-retention-policy': [{}],
  }, 'terraform/scripts/runtime-log-group.sh', ['retain', '--region', 'us-west-2', '--log-group', group, '--days', '7']);
  assert.equal(retain.code, 0, retain.stderr);
  assert.deepEqual(retain.calls.map((c) => c[1]), ['describe-log-groups', 'put-retention-policy']);

  const del = await withFakeAws('delete', {
    'logs describe-log-groups': [{ out: group }],
    'logs delete-log-group': [{}],
  }, 'terraform/scripts/runtime-log-group.sh', ['delete', '--region', 'us-west-2', '--log-group', group]);
  assert.equal(del.code, 0, del.stderr);
  assert.deepEqual(del.calls.map((c) => c[1]), ['describe-log-groups', 'delete-log-group']);
});
