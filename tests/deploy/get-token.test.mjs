// ops/get-token against a local stand-in for Cognito's InitiateAuth endpoint
// that accepts only the request shape Cognito accepts (target header, content
// type, AuthFlow, ClientId, AuthParameters, SECRET_HASH when the client has a
// secret) and answers as Cognito does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, run, listen, readBody, writeStub } from './lib.mjs';

const getToken = path.join(repoRoot, 'ops/get-token');
const CLIENT_ID = '1example23456789abcdefghij';
const USERS = { testuser: 'Mcpd-3f1c2b7e-"quoted" \\back\\ ünï €' };
const SECRET = 'client-secret-for-hmac';

// Per request: what the stand-in saw, and the client secret it expects (if any).
const seen = [];
let expectSecret = null;
let cognito;

function fail(res, status, type, message) {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify({ __type: type, message }));
}

before(async () => {
  cognito = await listen(async (req, res) => {
    const raw = await readBody(req);
    const entry = { method: req.method, url: req.url, headers: req.headers, raw };
    seen.push(entry);
    if (req.method !== 'POST' || req.url !== '/') return fail(res, 404, 'UnknownOperationException', 'bad path');
    if (req.headers['x-amz-target'] !== 'AWSCognitoIdentityProviderService.InitiateAuth') {
      return fail(res, 400, 'UnknownOperationException', `bad target ${req.headers['x-amz-target']}`);
    }
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      return fail(res, 400, 'SerializationException', `bad content type ${req.headers['content-type']}`);
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(res, 400, 'SerializationException', 'body is not JSON');
    }
    entry.body = body;
    const p = body.AuthParameters || {};
    if (body.AuthFlow !== 'USER_PASSWORD_AUTH') return fail(res, 400, 'InvalidParameterException', 'bad AuthFlow');
    if (body.ClientId !== CLIENT_ID) return fail(res, 400, 'ResourceNotFoundException', 'User pool client does not exist.');
    if (typeof p.USERNAME !== 'string' || typeof p.PASSWORD !== 'string') return fail(res, 400, 'InvalidParameterException', 'missing USERNAME or PASSWORD');
    const extra = Object.keys(body).filter((k) => !['AuthFlow', 'ClientId', 'AuthParameters'].includes(k));
    if (extra.length) return fail(res, 400, 'SerializationException', `unexpected fields ${extra}`);
    if (expectSecret) {
      const want = crypto.createHmac('sha256', expectSecret).update(p.USERNAME + CLIENT_ID).digest('base64');
      if (p.SECRET_HASH !== want) return fail(res, 400, 'NotAuthorizedException', `Unable to verify secret hash for client ${CLIENT_ID}`);
    } else if ('SECRET_HASH' in p) return fail(res, 400, 'InvalidParameterException', 'SECRET_HASH for a client without secret');
    if (p.USERNAME === 'challenged') {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      return res.end(JSON.stringify({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'abc', ChallengeParameters: {} }));
    }
    if (USERS[p.USERNAME] !== p.PASSWORD) return fail(res, 400, 'NotAuthorizedException', 'Incorrect username or password.');
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({
      AuthenticationResult: {
        AccessToken: `eyJhbGciOiJSUzI1NiJ9.eyJjbGllbnRfaWQiOiIx${seen.length}.c2ln-_`,
        ExpiresIn: 3600,
        IdToken: 'eyJpZCI6MX0.eyJ0b2tlbl91c2UiOiJpZCJ9.c2ln',
        RefreshToken: 'refresh-token',
        TokenType: 'Bearer',
      },
      ChallengeParameters: {},
    }));
  });
});
after(async () => {
  await cognito.close();
});

const env = (extra = {}) => ({ COGNITO_ENDPOINT: `${cognito.origin}/`, COGNITO_PASSWORD: undefined, COGNITO_CLIENT_SECRET: undefined, ...extra });
const args = (user = 'testuser') => ['--client-id', CLIENT_ID, '--username', user, '--region', 'us-west-2'];

test('prints the access token for a password on standard input, with the request Cognito expects', async () => {
  expectSecret = null;
  const before = seen.length;
  const r = await run(getToken, [...args(), '--password-stdin'], { env: env(), input: `${USERS.testuser}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^eyJhbGciOiJSUzI1NiJ9\.[\w-]+\.[\w-]+\n$/);
  assert.equal(seen.length, before + 1);
  const req = seen.at(-1);
  assert.equal(req.headers['x-amz-target'], 'AWSCognitoIdentityProviderService.InitiateAuth');
  assert.equal(req.headers['content-type'], 'application/x-amz-json-1.1');
  assert.deepEqual(req.body, {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: CLIENT_ID,
    AuthParameters: { USERNAME: 'testuser', PASSWORD: USERS.testuser },
  });
});

test('takes the password from COGNITO_PASSWORD too, and --json prints the whole answer', async () => {
  const r = await run(getToken, [...args(), '--json'], { env: env({ COGNITO_PASSWORD: USERS.testuser }) });
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.AuthenticationResult.TokenType, 'Bearer');
  assert.equal(answer.AuthenticationResult.RefreshToken, 'refresh-token');
});

test('adds SECRET_HASH only for a client with a secret', async () => {
  expectSecret = SECRET;
  try {
    const r = await run(getToken, args(), { env: env({ COGNITO_PASSWORD: USERS.testuser, COGNITO_CLIENT_SECRET: SECRET }) });
    assert.equal(r.code, 0, r.stderr);
    const want = crypto.createHmac('sha256', SECRET).update(`testuser${CLIENT_ID}`).digest('base64');
    assert.equal(seen.at(-1).body.AuthParameters.SECRET_HASH, want);
    const without = await run(getToken, args(), { env: env({ COGNITO_PASSWORD: USERS.testuser }) });
    assert.equal(without.code, 1, 'the stand-in refuses a missing SECRET_HASH, so get-token must fail');
    assert.match(without.stderr, /Unable to verify secret hash/);
  } finally {
    expectSecret = null;
  }
});

test('reports Cognito\'s error and prints no token for a wrong password', async () => {
  const r = await run(getToken, [...args(), '--password-stdin'], { env: env(), input: 'wrong\n' });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /HTTP 400: NotAuthorizedException: Incorrect username or password\./);
  assert.ok(!r.stderr.includes('wrong'), 'the password must not be echoed');
});

test('refuses a challenge it cannot answer', async () => {
  const r = await run(getToken, [...args('challenged'), '--password-stdin'], { env: env(), input: 'x\n' });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /challenge NEW_PASSWORD_REQUIRED/);
});

test('fails clearly when there is no password to read and no terminal to ask on', async () => {
  const r = await run(getToken, args(), { env: env() });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no password/);
});

test('builds the regional endpoint from the region when COGNITO_ENDPOINT is not set', async () => {
  // A stand-in curl records where it was sent and fails as curl does when a
  // host cannot be reached: no request leaves this machine.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-gettoken-'));
  try {
    writeStub(dir, 'curl', `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > "${dir}/body"\nexit 6\n`);
    const r = await run(getToken, ['--client-id', CLIENT_ID, '--username', 'u', '--region', 'eu-central-1', '--password-stdin'],
      { env: { COGNITO_ENDPOINT: undefined, PATH: `${dir}:${process.env.PATH}` }, input: 'pw\n' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach https:\/\/cognito-idp\.eu-central-1\.amazonaws\.com\//);
    const curlArgs = fs.readFileSync(path.join(dir, 'args'), 'utf8').split('\n');
    assert.ok(curlArgs.includes('https://cognito-idp.eu-central-1.amazonaws.com/'), curlArgs.join(' '));
    assert.ok(!curlArgs.some((a) => a.includes('pw')), 'the password must not be in curl\'s arguments');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'body'), 'utf8')).AuthParameters.PASSWORD, 'pw');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--from-terraform reads region, client, user and password from the stack outputs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-gettoken-'));
  try {
    const outputs = { aws_region: 'us-west-2', cognito_user_pool_client_id: CLIENT_ID, test_username: 'testuser', test_user_password: USERS.testuser };
    writeStub(dir, 'terraform', `#!/usr/bin/env node
const outputs = ${JSON.stringify(outputs)};
const a = process.argv.slice(2);
if (a[0] !== '-chdir=/stack' || a[1] !== 'output' || a[2] !== '-raw' || !(a[3] in outputs)) process.exit(1);
process.stdout.write(outputs[a[3]]);
`);
    const r = await run(getToken, ['--from-terraform', '/stack'], { env: env({ PATH: `${dir}:${process.env.PATH}` }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^eyJ/);
    assert.deepEqual(seen.at(-1).body.AuthParameters, { USERNAME: 'testuser', PASSWORD: USERS.testuser });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
