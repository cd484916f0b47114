// terraform/: tfcheck (HCL parsed with HashiCorp's parser, checked against the
// AWS provider schema), and, where the terraform binary is installed, its
// formatting, the variables' validations, the source-hash image tag and the
// container environment, evaluated by Terraform itself. No provider is
// needed for those: they run on copies of the provider-free files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, run, which } from './lib.mjs';
import { buildContextFiles } from './context.mjs';

const tfDir = path.join(repoRoot, 'terraform');
// tfcheck (an offline checker of terraform/ against the AWS provider's
// schema) runs where it is found: TEST_TFCHECK, or ../shared/tools/tfcheck
// beside the repository, as on CI. Elsewhere that one case is skipped and
// says what would run it; TEST_REQUIRE_TFCHECK=1 (CI's .ci/run) makes a
// missing checker a failure instead.
const tfcheck = [process.env.TEST_TFCHECK, path.resolve(repoRoot, '../shared/tools/tfcheck/tfcheck')]
  .filter(Boolean).find((p) => fs.existsSync(p));
const tfcheckMissing = !tfcheck && process.env.TEST_REQUIRE_TFCHECK !== '1' &&
  'tfcheck is not here: set TEST_TFCHECK to the checker, or keep it at ../shared/tools/tfcheck/tfcheck ' +
  'beside the repository (terraform fmt and validate run instead where a terraform binary is installed)';
const terraform = which('terraform');
const needsTerraform = { skip: !terraform && 'the terraform binary is not installed here' };
const tfEnv = { TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_INPUT: '0' };

let scratch;
before(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-tf-'));
});
after(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

// A folder with copies of the given terraform/ files (and extra files), ready
// for `terraform plan`/`console` (init without backend or providers).
async function tfWorkspace(name, files, extra = {}) {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(tfDir, f), path.join(dir, f));
  for (const [f, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, f), text);
  const init = await run(terraform, ['init', '-backend=false', '-input=false', '-no-color'], { cwd: dir, env: tfEnv });
  assert.equal(init.code, 0, `terraform init in ${dir}:\n${init.stdout}${init.stderr}`);
  return dir;
}

async function tfEval(dir, expr, vars = []) {
  const args = ['console', '-no-color', ...vars.flatMap((v) => ['-var', v])];
  const r = await run(terraform, args, { cwd: dir, env: tfEnv, input: `jsonencode(${expr})\n` });
  assert.equal(r.code, 0, `terraform console ${expr}:\n${r.stdout}${r.stderr}`);
  // console prints the JSON text as an HCL string literal.
  const line = r.stdout.trim().split('\n').pop();
  return JSON.parse(JSON.parse(line));
}

test('tfcheck passes on terraform/ (syntax, resource types, arguments, blocks, references against hashicorp/aws 6.66.0)', { skip: tfcheckMissing }, async (t) => {
  assert.ok(tfcheck, 'TEST_REQUIRE_TFCHECK=1 but tfcheck is not at TEST_TFCHECK or ../shared/tools/tfcheck/tfcheck');
  const r = await run(tfcheck, [tfDir], { timeoutMs: 300000 });
  t.diagnostic(r.stdout.trim().split('\n').slice(-15).join('\n'));
  assert.equal(r.code, 0, `tfcheck failed:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^\d+ passed, 0 failed$/m);
  assert.doesNotMatch(r.stdout, /^FAIL /m);
});

test('terraform fmt finds nothing to change', needsTerraform, async () => {
  const r = await run(terraform, ['fmt', '-check', '-diff', '-recursive', '-no-color', tfDir], { env: tfEnv });
  assert.equal(r.code, 0, `terraform fmt -check:\n${r.stdout}${r.stderr}`);
});

test('terraform validate passes where terraform and the AWS provider are available', needsTerraform, async (t) => {
  const dir = path.join(scratch, 'validate');
  fs.cpSync(tfDir, dir, { recursive: true });
  const init = await run(terraform, ['init', '-backend=false', '-input=false', '-no-color'], { cwd: dir, env: tfEnv, timeoutMs: 300000 });
  if (init.code !== 0) {
    t.skip(`terraform init could not get the AWS provider here (a registry or a provider mirror would run this): ${init.stderr.trim().split('\n').pop()}`);
    return;
  }
  const r = await run(terraform, ['validate', '-no-color'], { cwd: dir, env: tfEnv });
  assert.equal(r.code, 0, `terraform validate:\n${r.stdout}${r.stderr}`);
});

test('outputs keep the reference pattern names', () => {
  const text = fs.readFileSync(path.join(tfDir, 'outputs.tf'), 'utf8');
  const names = new Set([...text.matchAll(/^output "([^"]+)"/gm)].map((m) => m[1]));
  for (const n of ['agent_runtime_id', 'agent_runtime_arn', 'cognito_user_pool_id', 'cognito_user_pool_client_id',
    'cognito_discovery_url', 'test_username', 'get_token_command', 'aws_region', 'codebuild_project_name',
    'ecr_repository_url', 'ecr_repository_arn', 'agent_execution_role_arn', 'codebuild_project_arn', 'source_bucket_name',
    'source_bucket_arn', 'source_object_key', 'source_code_md5', 'cognito_user_pool_arn', 'test_password']) {
    assert.ok(names.has(n), `output ${n} is missing`);
  }
  assert.match(text, /output "test_user_password" \{[^}]*sensitive\s*=\s*true/, 'the password output must be sensitive');
});

test('the password is generated, never written in the configuration', () => {
  for (const f of fs.readdirSync(tfDir).filter((f) => f.endsWith('.tf') || f.endsWith('.example'))) {
    const text = fs.readFileSync(path.join(tfDir, f), 'utf8');
    assert.doesNotMatch(text, /MyPassword|password\s*=\s*"/i, `${f} holds a literal password`);
  }
});

// Each case: variable assignments, and whether plan must accept them.
const VALIDATION_CASES = [
  [['network_mode=PUBLIC'], true],
  [['network_mode=VPC'], true],
  [['network_mode=PRIVATE'], false, 'var.network_mode'],
  [['agent_runtime_name=mcpd_runtime_2'], true],
  [['agent_runtime_name=mcpd-runtime'], false, 'var.agent_runtime_name'],
  [['vpc_subnet_ids=["subnet-0123456789abcdef0"]'], true],
  [['vpc_subnet_ids=["sub-1"]'], false, 'var.vpc_subnet_ids'],
  [['mcp_request_headers=[]'], true],
  [['mcp_request_headers=["X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant","traceparent"]'], true],
  [['mcp_request_headers=["Accept"]'], false, 'var.mcp_request_headers'],
  [['mcp_request_headers=["Authorization"]'], false, 'var.mcp_request_headers'],
  [['mcp_request_headers=["X-Amzn-Trace-Id"]'], false, 'var.mcp_request_headers'],
  [['mcp_request_headers=["Mcp-Name","mcp-name"]'], false, 'var.mcp_request_headers'],
  [['mcp_request_headers=["Bad Header"]'], false, 'var.mcp_request_headers'],
  [['log_level=debug'], true],
  [['log_level=verbose'], false, 'var.log_level'],
  [['mcpd_workers=2'], true],
  [['mcpd_workers=0'], false, 'var.mcpd_workers'],
  [['mcpd_workers=1.5'], false, 'var.mcpd_workers'],
  [['extra_environment_variables={MCPD_MAX_BODY="256KiB",OTHER="x"}'], true],
  [['extra_environment_variables={MCPD_AUTH="none"}'], false, 'var.extra_environment_variables'],
  [['extra_environment_variables={MCPD_TYPO="1"}'], false, 'var.extra_environment_variables'],
  [['extra_environment_variables={MCPD_PUBLIC_PING="off",MCPD_MAX_PENDING_OUTPUT="128MiB"}'], true],
  [['extra_environment_variables={MCPD_METRICS_LISTEN="127.0.0.1:9100"}'], true],
  [['extra_environment_variables={MCPD_METRICS_EMF="10"}'], false, 'var.extra_environment_variables'],
  [['metrics_emf_interval=0'], true],
  [['metrics_emf_interval=10'], true],
  [['metrics_emf_interval=-1'], false, 'var.metrics_emf_interval'],
  [['metrics_emf_interval=1.5'], false, 'var.metrics_emf_interval'],
  [['metrics_emf_interval=3601'], false, 'var.metrics_emf_interval'],
  [['metrics_namespace=team/mcpd:prod'], true],
  [['metrics_namespace=:mcpd'], false, 'var.metrics_namespace'],
  [['metrics_namespace=a b'], false, 'var.metrics_namespace'],
  [['environment_variables={LOG_LEVEL="DEBUG"}'], true],
  [['environment_variables={LOG_LEVEL="warning"}'], true],
  [['environment_variables={LOG_LEVEL="TRACE"}'], false, 'var.environment_variables'],
  [['environment_variables={MCPD_AUTH="none"}'], false, 'var.environment_variables'],
  [['log_retention_days=14'], true],
  [['log_retention_days=10'], false, 'var.log_retention_days'],
  [['idle_runtime_session_timeout=30'], false, 'var.idle_runtime_session_timeout'],
  [['required_scopes=["mcpd/tools"]'], true],
  [['required_scopes=["two words"]'], false, 'var.required_scopes'],
  [['resource_url=https://example.com/mcp'], true],
  [['resource_url=http://example.com/mcp'], false, 'var.resource_url'],
  [['aws_region=us-west-2'], true],
  [['aws_region=Oregon'], false, 'var.aws_region'],
  [['egress_allow='], true],
  [['egress_allow=docs.example.com, fetch=127.0.0.1:8080,s3_get_object=-s3.us-west-2.amazonaws.com'], true],
  [['egress_allow=*.example.com:*,[::1]:443,api.example.com.'], true],
  [['egress_allow=a.example.com,,b.example.com'], false, 'var.egress_allow'],
  [['egress_allow=https://example.com/'], false, 'var.egress_allow'],
  [['egress_allow=Fetch=example.com'], false, 'var.egress_allow'],
  [['egress_allow=example.com:http'], false, 'var.egress_allow'],
  [[`egress_allow=${Array(257).fill('a.example.com').join(',')}`], false, 'var.egress_allow'],
  [['extra_iam_statements=[{actions=["s3:GetObject"],resources=["arn:aws:s3:::my-bucket/*"]}]'], true],
  [['extra_iam_statements=[{sid="ReadDocs",effect="Deny",actions=["s3:Get*"],resources=["*"],conditions=[{test="StringEquals",variable="aws:SourceVpc",values=["vpc-1"]}]}]'], true],
  [['extra_iam_statements=[{effect="Maybe",actions=["s3:GetObject"],resources=["*"]}]'], false, 'var.extra_iam_statements'],
  [['extra_iam_statements=[{sid="two words",actions=["s3:GetObject"],resources=["*"]}]'], false, 'var.extra_iam_statements'],
  [['extra_iam_statements=[{actions=[],resources=["*"]}]'], false, 'var.extra_iam_statements'],
  [['extra_iam_statements=[{actions=["GetObject"],resources=["*"]}]'], false, 'var.extra_iam_statements'],
  [['extra_iam_statements=[{actions=["s3:GetObject"],resources=["my-bucket/*"]}]'], false, 'var.extra_iam_statements'],
  [['example_tools=true'], true],
  [['client_rate_limit='], true],
  [['client_rate_limit=10:20'], true],
  [['client_rate_limit=0.5:5'], true],
  [['client_rate_limit=1000000:1000000'], true],
  [['client_rate_limit=10'], false, 'var.client_rate_limit'],
  [['client_rate_limit=0:5'], false, 'var.client_rate_limit'],
  [['client_rate_limit=1.2345:5'], false, 'var.client_rate_limit'],
  [['client_rate_limit=5:0'], false, 'var.client_rate_limit'],
  [['client_rate_limit=2000000:5'], false, 'var.client_rate_limit'],
  [['client_concurrency=4'], true],
  [['client_concurrency=-1'], false, 'var.client_concurrency'],
  [['client_concurrency=1.5'], false, 'var.client_concurrency'],
  [['client_limit_key=sub'], true],
  [['client_limit_key=email'], false, 'var.client_limit_key'],
  [['extra_environment_variables={MCPD_CLIENT_CONCURRENCY="4"}'], false, 'var.extra_environment_variables'],
];

test('variable validations accept what AWS and mcpd accept and reject the rest, with the reason', needsTerraform, async () => {
  const dir = await tfWorkspace('validation', ['variables.tf']);
  for (const [vars, ok, mention] of VALIDATION_CASES) {
    const r = await run(terraform, ['plan', '-input=false', '-lock=false', '-no-color', ...vars.flatMap((v) => ['-var', v])],
      { cwd: dir, env: tfEnv });
    const out = r.stdout + r.stderr;
    if (ok) assert.equal(r.code, 0, `${vars} should be accepted:\n${out}`);
    else {
      assert.equal(r.code, 1, `${vars} should be rejected:\n${out}`);
      assert.match(out, /Invalid value for variable/, `${vars}: ${out}`);
      assert.ok(out.includes(mention), `${vars}: the error should name ${mention}:\n${out}`);
    }
  }
});

test('terraform.tfvars.example sets only declared variables, to accepted values', needsTerraform, async () => {
  const dir = await tfWorkspace('tfvars', ['variables.tf']);
  const r = await run(terraform, ['plan', '-input=false', '-lock=false', '-no-color',
    `-var-file=${path.join(tfDir, 'terraform.tfvars.example')}`], { cwd: dir, env: tfEnv });
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  assert.doesNotMatch(out, /undeclared variable/i, out);
});

// A stand-in repository: the real .dockerignore and Dockerfile, one file in
// every path the image is built from, and files the image does not use.
function fakeRepo(dir) {
  const files = {
    'Dockerfile': fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'),
    '.dockerignore': fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8'),
    'CMakeLists.txt': 'project(x)\n',
    'LICENSE': 'MIT\n',
    'common/log.c': 'int log;\n',
    'supervisor/main.c': 'int main;\n',
    'worker/http.c': 'int http;\n',
    'ops/deps': '#!/bin/sh\n',
    'ops/build': '#!/bin/sh\n',
    'ops/dev-issuer/cli.c': 'int dev;\n',
    'ops/smoke-test': '#!/usr/bin/env node\n',
    'README.md': '# x\n',
    'docs/architecture.md': '# x\n',
    'tests/unit/x_test.c': 'int t;\n',
  };
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  fs.mkdirSync(path.join(dir, 'terraform'), { recursive: true });
  for (const f of ['source.tf', 'variables.tf']) fs.copyFileSync(path.join(tfDir, f), path.join(dir, 'terraform', f));
}

test('the image tag is a hash of exactly what the image is built from', needsTerraform, async () => {
  const repo = path.join(scratch, 'repo');
  fakeRepo(repo);
  const dir = await tfWorkspace('repo/terraform', []);
  const tag = () => tfEval(dir, 'local.image_tag');
  const edit = (f, text) => fs.writeFileSync(path.join(repo, f), text);

  const t0 = await tag();
  assert.match(t0, /^src-[0-9a-f]{24}$/);
  assert.equal(await tag(), t0, 'the same sources give the same tag');

  for (const f of ['README.md', 'docs/architecture.md', 'tests/unit/x_test.c', 'ops/smoke-test', 'terraform/variables.tf']) {
    const before = fs.readFileSync(path.join(repo, f), 'utf8');
    edit(f, `${before}# changed\n`);
    assert.equal(await tag(), t0, `a change to ${f} (not in the image) must not change the tag`);
    edit(f, before);
  }
  for (const f of ['common/log.c', 'Dockerfile', 'ops/deps', 'ops/dev-issuer/cli.c', 'CMakeLists.txt']) {
    const before = fs.readFileSync(path.join(repo, f), 'utf8');
    edit(f, `${before}\n`);
    assert.notEqual(await tag(), t0, `a change to ${f} must change the tag`);
    edit(f, before);
    assert.equal(await tag(), t0, `restoring ${f} must restore the tag`);
  }
  assert.equal(await tfEval(dir, 'local.image_tag', ['example_tools=true']), `${t0}-examples`,
    'the example tools are a build argument: they mark the tag, so turning them on builds a new image');
  edit('worker/new.c', 'int n;\n');
  assert.notEqual(await tag(), t0, 'a new source file must change the tag');
  fs.rmSync(path.join(repo, 'worker/new.c'));
  fs.renameSync(path.join(repo, 'worker/http.c'), path.join(repo, 'worker/http2.c'));
  assert.notEqual(await tag(), t0, 'a renamed source file must change the tag');
});

test('terraform hashes the same files that .dockerignore lets into the build context', needsTerraform, async () => {
  const dir = await tfWorkspace('real', ['source.tf', 'variables.tf']);
  const hashed = await tfEval(dir, 'local.image_files', [`source_dir=${repoRoot}`]);
  const expected = [...buildContextFiles(repoRoot), 'Dockerfile', '.dockerignore'].sort();
  assert.deepEqual([...hashed].sort(), expected);
});

// The mcpd_environment and request_header_allowlist expressions of main.tf,
// evaluated with stand-ins for the Cognito resources they read.
async function runtimeConfigWorkspace() {
  const main = fs.readFileSync(path.join(tfDir, 'main.tf'), 'utf8');
  const locals = /^locals \{\n([\s\S]*?)\n\}\n/m.exec(main);
  assert.ok(locals, 'main.tf must start with a locals block holding the runtime configuration');
  const body = locals[1].replaceAll('aws_cognito_user_pool_client.mcpd.id', 'local.test_client_id');
  return tfWorkspace('runtime-config', ['variables.tf'], {
    'harness.tf': `locals {\n${body}\n  cognito_discovery_url = "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Test/.well-known/openid-configuration"\n  test_client_id = "client123"\n}\n`,
  });
}

test('the container is configured to verify the same Cognito tokens, or to run --auth none, never both or neither', needsTerraform, async () => {
  const dir = await runtimeConfigWorkspace();
  const help = await run(process.env.TEST_MCPD_BIN || path.join(repoRoot, 'build/mcpd'), ['--help']);
  assert.equal(help.code, 0, help.stderr);
  const known = new Set([...help.stdout.matchAll(/\b(MCPD_[A-Z_]+)\b/g)].map((m) => m[1]));

  const verify = await tfEval(dir, 'local.mcpd_environment');
  assert.equal(verify.MCPD_DISCOVERY_URL, 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Test/.well-known/openid-configuration');
  assert.equal(verify.MCPD_ALLOWED_CLIENTS, 'client123');
  assert.equal(verify.MCPD_AUTH, undefined);
  assert.deepEqual(await tfEval(dir, 'local.request_header_allowlist'),
    ['Authorization', 'Mcp-Protocol-Version', 'Mcp-Method', 'Mcp-Name']);

  const none = await tfEval(dir, 'local.mcpd_environment', ['container_verifies_tokens=false', 'mcpd_workers=2',
    'required_scopes=["a/b"]', 'extra_environment_variables={MCPD_MAX_BODY="64KiB"}']);
  assert.deepEqual(none, {
    MCPD_AUTH: 'none', MCPD_LOG_LEVEL: 'info', MCPD_WORKERS: '2', MCPD_MAX_BODY: '64KiB',
    MCPD_METRICS_EMF: '60', MCPD_METRICS_NAMESPACE: 'mcpd',
  }, 'EMF metrics are on by default');
  const quiet = await tfEval(dir, 'local.mcpd_environment', ['metrics_emf_interval=0']);
  assert.equal(quiet.MCPD_METRICS_EMF, undefined, 'metrics_emf_interval = 0 turns EMF off');
  assert.equal(quiet.MCPD_METRICS_NAMESPACE, undefined);
  assert.deepEqual(await tfEval(dir, 'local.request_header_allowlist', ['container_verifies_tokens=false']),
    ['Mcp-Protocol-Version', 'Mcp-Method', 'Mcp-Name'], 'Authorization is forwarded only when mcpd reads it');

  const scoped = await tfEval(dir, 'local.mcpd_environment', ['required_scopes=["mcpd/tools","mcpd/admin"]',
    'resource_url=https://example.com/mcp', 'log_level=debug']);
  assert.equal(scoped.MCPD_REQUIRED_SCOPES, 'mcpd/tools,mcpd/admin');
  assert.equal(scoped.MCPD_RESOURCE_URL, 'https://example.com/mcp');
  assert.equal(scoped.MCPD_LOG_LEVEL, 'debug');

  // The reference's users write environment_variables = { LOG_LEVEL = "DEBUG" }.
  const python = await tfEval(dir, 'local.mcpd_environment', ['environment_variables={LOG_LEVEL="DEBUG",OTHER="x"}']);
  assert.equal(python.MCPD_LOG_LEVEL, 'debug');
  assert.equal(python.OTHER, 'x');
  const warning = await tfEval(dir, 'local.mcpd_environment', ['environment_variables={LOG_LEVEL="Warning"}']);
  assert.equal(warning.MCPD_LOG_LEVEL, 'warn');
  const both = await tfEval(dir, 'local.mcpd_environment', ['environment_variables={LOG_LEVEL="DEBUG"}', 'log_level=error']);
  assert.equal(both.MCPD_LOG_LEVEL, 'error', 'log_level, when set, wins over LOG_LEVEL');

  assert.equal(verify.MCPD_EGRESS_ALLOW, undefined, 'no egress_allow: no MCPD_EGRESS_ALLOW');
  const egress = await tfEval(dir, 'local.mcpd_environment', ['egress_allow=docs.example.com,s3_get_object=127.0.0.1:9000']);
  assert.equal(egress.MCPD_EGRESS_ALLOW, 'docs.example.com,s3_get_object=127.0.0.1:9000');

  for (const k of ['MCPD_CLIENT_RATE_LIMIT', 'MCPD_CLIENT_CONCURRENCY', 'MCPD_CLIENT_LIMIT_KEY']) {
    assert.equal(verify[k], undefined, `no per-client limits asked for: no ${k}`);
  }
  const limited = await tfEval(dir, 'local.mcpd_environment', ['client_rate_limit=10:20', 'client_concurrency=4',
    'client_limit_key=sub']);
  assert.equal(limited.MCPD_CLIENT_RATE_LIMIT, '10:20');
  assert.equal(limited.MCPD_CLIENT_CONCURRENCY, '4');
  assert.equal(limited.MCPD_CLIENT_LIMIT_KEY, 'sub');

  for (const env of [verify, none, scoped, python, quiet, egress, limited]) {
    for (const k of Object.keys(env)) if (k.startsWith('MCPD_')) assert.ok(known.has(k), `mcpd does not know ${k}`);
  }
});
