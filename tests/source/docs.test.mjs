// The documentation tells the truth: README.md, docs/ and every other
// Markdown page of the repository. Every relative link and #anchor leads to a
// file and a heading that exist, and every fenced code block is checked
// according to its kind; a block of a kind this file cannot check fails.
//
// A comment on the line right above a block says what the block is:
//   <!-- file: PATH -->        the block is the file PATH, byte for byte
//   <!-- output: COMMAND -->   lines COMMAND prints, in order, when it runs against a real mcpd
//   <!-- diagram -->           a picture: every repository path and mcpd flag it names exists
// Otherwise the block's language decides: sh, json, hcl, promql.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/sources.mjs';
import { mcpdBinary, startMcpd } from '../lib/mcpd.mjs';
import { anchors, parseMarkdown, parseShell, slug } from '../lib/markdown.mjs';
import { REFERENCE_PATTERN_TOOLS } from '../lib/tools.mjs';

// ---------------------------------------------------------------- Pages and links

const SKIPPED_DIRS = /^(\..*|node_modules|build.*)$/;

// Files under `dir` (relative to the repository) whose name matches `pattern`.
function walk(dir, pattern, found = []) {
  for (const entry of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory() && !SKIPPED_DIRS.test(entry.name)) walk(rel, pattern, found);
    else if (entry.isFile() && pattern.test(entry.name)) found.push(rel);
  }
  return found.sort();
}

const read = (rel) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');

// What is wrong with the relative links of page `rel` (whose text is `text`).
export function linkProblems(rel, text, readPage = read) {
  const problems = [];
  const prose = parseMarkdown(text).prose.replace(/`[^`\n]*`/g, (s) => ' '.repeat(s.length));
  const targets = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)];
  for (const m of targets) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;	// https:, mailto:: not ours to check
    const lineNo = prose.slice(0, m.index).split('\n').length;
    const [file, anchor] = target.split('#');
    const resolved = file ? path.posix.normalize(path.posix.join(path.posix.dirname(rel), decodeURIComponent(file))) : rel;
    const where = `${rel}:${lineNo}: ${target}`;
    if (file && (resolved.startsWith('..') || !fs.existsSync(path.join(repoRoot, resolved)))) {
      problems.push(`${where}: no file ${resolved}`);
    } else if (anchor !== undefined) {
      if (!resolved.endsWith('.md')) problems.push(`${where}: an anchor into a file that is not Markdown`);
      else if (!anchors(resolved === rel ? text : readPage(resolved)).has(anchor)) problems.push(`${where}: ${resolved} has no heading #${anchor}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- Shell

const REDIRECT = /^\d*(<<<|<<|<|>>|>)(&\d+)?/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;
const WRAPPERS = new Set(['timeout', 'env', 'sudo', 'exec', 'nohup', 'time']);
// Programs of other projects that the pages run; their own flags are theirs.
const KNOWN_PROGRAMS = new Set(['curl', 'npx', 'npm', 'node', 'cmake', 'ctest', 'cp', 'jq', 'bash', 'echo', 'aws', 'terraform', 'date', 'docker', 'podman']);

// The words a command runs with: no redirections, no braces of a function body.
function cleanWords(words) {
  const out = [];
  for (let k = 0; k < words.length; k++) {
    if (words[k] === '{' || words[k] === '}') continue;
    const r = words[k].match(REDIRECT);
    if (r) {
      if (r[0] === words[k]) k++;	// the target is the next word
      continue;
    }
    out.push(words[k]);
  }
  return out;
}

// Repository paths among a command's words must exist (build trees, the
// development issuer and npm's packages are made by running things).
function pathProblems(words) {
  const problems = [];
  for (const w of words) {
    const m = w.match(/^(?:\.\/)?([A-Za-z0-9_.-]+)\/([^\s$<>*[\]]*)$/);
    if (!m || SKIPPED_DIRS.test(m[1]) || w.includes('node_modules')) continue;
    if (!fs.existsSync(path.join(repoRoot, m[1])) || !fs.statSync(path.join(repoRoot, m[1])).isDirectory()) continue;
    if (!fs.existsSync(path.join(repoRoot, w))) problems.push(`names ${w}, which does not exist`);
  }
  return problems;
}

function flagProblems(program, args, accepted) {
  const problems = [];
  for (const a of args) {
    if (a === '--') break;
    const flag = a.replace(/^\[/, '').replace(/\]$/, '').split('=')[0];
    if (/^--[a-z]/.test(flag) && !accepted.has(flag)) problems.push(`passes ${flag} to ${program}, which does not accept it`);
  }
  return problems;
}

// The value after one of `names` in args, or undefined.
const valueAfter = (args, ...names) => {
  const k = args.findIndex((a) => names.includes(a));
  return k >= 0 ? args[k + 1] : undefined;
};

// Headers given with -H/--header, except credentials and anything with a variable in it.
function headersOf(args) {
  const headers = {};
  args.forEach((a, k) => {
    if (a !== '-H' && a !== '--header') return;
    const m = (args[k + 1] || '').match(/^([^:]+):\s*(.*)$/);
    if (m && !/^authorization$/i.test(m[1]) && !m[2].includes('$')) headers[m[1]] = m[2];
  });
  return headers;
}

// Whether a tool a page calls is missing: null when its file is there;
// 'removed' for a reference tool whose file is gone (a fork that replaced
// the reference tools, as ops/fork-check makes one: pages about them are
// then the fork's to rewrite, and calls to them are not sent); else 'unknown'.
function toolMissing(ctx, name) {
  if (ctx.toolExists(name)) return null;
  return REFERENCE_PATTERN_TOOLS.includes(name) ? 'removed' : 'unknown';
}

// What is wrong with what one command runs: the program, its flags, the
// paths, outputs, metrics and tools it names.
function programProblems(ctx, program, args) {
  const problems = pathProblems([program, ...(program === 'cp' ? args.slice(0, -1) : args)]);
  const ops = program.match(/^(?:\.\/)?ops\/([^/]+)$/);
  if (ops) {
    const usage = ctx.opsUsage(ops[1]);
    problems.push(...(usage ? flagProblems(program, args, usage.flags) : [`runs ${program}, which is not an executable in ops/`]));
  } else if (path.basename(program) === 'mcpd') {
    problems.push(...flagProblems(program, args, ctx.mcpdFlags));
  } else if (path.basename(program) === 'mcpd-dev-issuer') {
    problems.push(...flagProblems(program, args, ctx.issuerFlags));
  } else if (!KNOWN_PROGRAMS.has(path.basename(program))) {
    return [`runs ${program}, which this test does not know how to check`];
  }
  const output = args.includes('output') && args.slice(args.indexOf('output') + 1).find((a) => !a.startsWith('-'));
  if (program === 'terraform' && output && !ctx.tfOutputs.has(output)) problems.push(`terraform/ has no output ${output}`);
  const chdir = args.find((a) => a.startsWith('-chdir='));
  if (program === 'terraform' && chdir) problems.push(...pathProblems([`${chdir.slice('-chdir='.length)}/`]));
  const metric = valueAfter(args, '--metric-name');
  if (program === 'aws' && metric !== undefined && !ctx.emfMetrics.has(metric)) problems.push(`mcpd writes no EMF metric ${metric}`);
  const tool = valueAfter(args, '--tool-name');
  if (tool && toolMissing(ctx, tool) === 'unknown') problems.push(`calls ${tool}, which no file in worker/tools/ (examples/ included) or tests/tools/ defines`);
  return problems;
}

// What is wrong with a request body a command sends; `shown` is the answer
// the page shows for it, if any, which a real mcpd must give.
async function requestProblems(ctx, { text, headers }, shown) {
  if (text === undefined || !/^\s*[{[]/.test(text)) return [];
  let message;
  try {
    message = JSON.parse(text);
  } catch (err) {
    return [`sends a body that is not JSON (${err.message})`];
  }
  const tool = message?.method === 'tools/call' ? toolMissing(ctx, message.params?.name) : null;
  if (tool === 'unknown') return [`calls ${message.params?.name}, which no file in worker/tools/ (examples/ included) or tests/tools/ defines`];
  if (!shown || tool) return [];
  const answer = await ctx.ask(text, headers);
  return answer === shown ? [] : [`mcpd answers\n  ${answer}\nnot, as shown,\n  ${shown}`];
}

// What is wrong with one shell block. Requests whose answer the block shows
// (a "# {...}" line right below them) are sent to a real mcpd.
async function shellProblems(ctx, body) {
  const { commands, comments } = parseShell(body);
  if (!commands.length) return ['holds no command'];
  const problems = [];
  const vars = new Map();
  const functions = new Map();	// name -> the headers its curl sends
  let defining = null;
  for (const cmd of commands) {
    const at = (p) => `line ${cmd.line}: ${p}`;
    let words = cleanWords(cmd.words);
    for (; words.length && ASSIGNMENT.test(words[0]); words = words.slice(1)) vars.set(...words[0].match(ASSIGNMENT).slice(1));
    if (words.length && words[0].endsWith('()')) {
      defining = words[0].slice(0, -2);
      functions.set(defining, {});
      continue;
    }
    while (words.length > 1 && WRAPPERS.has(words[0])) {
      words = words.slice(1);
      while (words.length > 1 && (words[0].startsWith('-') || /^\d+$/.test(words[0]) || ASSIGNMENT.test(words[0]))) words = words.slice(1);
    }
    if (!words.length) continue;
    let [program, ...args] = words;
    const variable = program.match(/^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/);
    if (variable && !vars.has(variable[1])) {
      problems.push(at(`runs ${program}, which this block does not set`));
      continue;
    }
    if (variable) program = vars.get(variable[1]);
    let request = { text: undefined };
    if (functions.has(program)) {
      request = { text: args[0], headers: functions.get(program) };
    } else {
      problems.push(...programProblems(ctx, program, args).map(at));
    }
    if (program === 'curl') {
      if (defining && !Object.keys(functions.get(defining)).length) functions.set(defining, headersOf(args));
      request = { text: valueAfter(args, '-d', '--data', '--data-raw', '--data-binary'), headers: headersOf(args) };
    }
    const shown = comments.find((c) => c.whole && c.line === cmd.lastLine + 1 && c.text.startsWith('{'));
    problems.push(...(await requestProblems(ctx, request, shown?.text)).map(at));
  }
  return problems;
}

// ---------------------------------------------------------------- Other kinds

function logLineProblems(ctx, line) {
  const problems = [];
  if (!['debug', 'info', 'warn', 'error'].includes(line.level)) problems.push(`level ${line.level} is not a log level`);
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(line.time) || Number.isNaN(Date.parse(line.time))) problems.push(`time ${line.time} is not a UTC timestamp`);
  if (!ctx.serverLiterals.has(line.event)) problems.push(`mcpd logs no event ${line.event}`);
  for (const key of Object.keys(line)) if (!ctx.serverLiterals.has(key)) problems.push(`mcpd logs no field ${key}`);
  return problems;
}

function jsonProblems(ctx, body) {
  let values;
  try {
    values = [JSON.parse(body)];
  } catch {
    try {
      values = body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));	// one document a line
    } catch (err) {
      return [`is not JSON: ${err.message}`];
    }
  }
  return values.flatMap((v) => (v && typeof v === 'object' && 'event' in v ? logLineProblems(ctx, v) : []));
}

function hclProblems(ctx, body) {
  const problems = [];
  let depth = 0;
  let assignments = 0;
  for (const raw of body.split('\n')) {
    const line = raw.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/(#|\/\/).*$/, '');
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=/);
    if (depth === 0 && m) {
      assignments++;
      if (!ctx.tfVariables.has(m[1])) problems.push(`sets ${m[1]}, which terraform/variables.tf does not declare`);
    }
    depth += (line.match(/[{[]/g) || []).length - (line.match(/[}\]]/g) || []).length;
  }
  return assignments ? problems : ['sets no variable'];
}

// A name of the exposition: a family, or a histogram family's series.
const isMetric = (ctx, name) => ctx.metricFamilies.has(name) || ctx.metricFamilies.has(name.replace(/_(bucket|sum|count)$/, ''));

function promqlProblems(ctx, body) {
  const problems = [];
  const text = body.replace(/#.*$/gm, '');
  const names = text.match(/\bmcpd_[a-z0-9_]+/g) || [];
  for (const n of names) if (!isMetric(ctx, n)) problems.push(`mcpd exposes no metric ${n}`);
  text.split('\n').forEach((l, k) => {
    const open = (l.match(/[([{]/g) || []).length;
    const close = (l.match(/[)\]}]/g) || []).length;
    if (open !== close) problems.push(`line ${k + 1}: brackets do not balance`);
  });
  return names.length ? problems : ['names no mcpd metric'];
}

// The first line of `shown` that `printed` does not hold in that order, or null.
export function unprintedLine(shown, printed) {
  const lines = printed.split('\n').map((l) => l.trimEnd());
  let at = 0;
  for (const want of shown.replace(/\n$/, '').split('\n').map((l) => l.trimEnd())) {
    while (at < lines.length && lines[at] !== want) at++;
    if (at === lines.length) return want;
    at++;
  }
  return null;
}

async function outputProblems(ctx, command, body) {
  const printed = await ctx.output(command);
  if (printed === undefined) return [`shows the output of ${command}, which this test cannot run`];
  const missing = printed === null ? null : unprintedLine(body, printed);
  return missing === null ? [] : [`shows "${missing}", which ${command} does not print there:\n${printed}`];
}

function diagramProblems(ctx, body) {
  const words = body.split(/[\s|+>─│├└()]+/).filter(Boolean);
  return [...pathProblems(words), ...flagProblems('mcpd', words.filter((w) => w.startsWith('--')), ctx.mcpdFlags)];
}

// What is wrong with one block.
export async function blockProblems(ctx, block) {
  const { lang, body, marker } = block;
  if (marker?.kind === 'file') {
    const file = path.join(repoRoot, marker.arg);
    if (!fs.existsSync(file)) return [`is a copy of ${marker.arg}, which does not exist`];
    return fs.readFileSync(file, 'utf8') === body ? [] : [`differs from ${marker.arg}`];
  }
  if (lang === 'text' && marker?.kind === 'output') return outputProblems(ctx, marker.arg, body);
  if (lang === 'text' && marker?.kind === 'diagram') return diagramProblems(ctx, body);
  switch (lang) {
    case 'sh': case 'bash': case 'shell': return shellProblems(ctx, body);
    case 'json': return jsonProblems(ctx, body);
    case 'hcl': case 'terraform': return hclProblems(ctx, body);
    case 'promql': return promqlProblems(ctx, body);
    case '': return ['has no language, so nothing checks it'];
    default: return [`is ${lang}, which this test does not know how to check (see the top of tests/source/docs.test.mjs)`];
  }
}

// ---------------------------------------------------------------- The repository

// The string literals of the server's own sources (every top-level folder
// but tests, docs, ops and terraform), by file.
function serverLiterals() {
  const byFile = new Map();
  for (const dir of fs.readdirSync(repoRoot, { withFileTypes: true })) {
    if (!dir.isDirectory() || SKIPPED_DIRS.test(dir.name) || ['tests', 'docs', 'ops', 'terraform'].includes(dir.name)) continue;
    for (const rel of walk(dir.name, /\.[ch]$/)) {
      const text = read(rel);
      const literals = [...text.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((m) => m[1]);
      // A JSON member name written inside a longer literal: "{\"time\":\"".
      const members = literals.flatMap((l) => [...l.matchAll(/\\"([A-Za-z_]+)\\":/g)].map((m) => m[1]));
      byFile.set(text, new Set([...literals, ...members]));
    }
  }
  return byFile;
}

const flagsIn = (text) => new Set(text.match(/--[a-z][a-z0-9-]*/g) || []);

// A script's usage text: its opening comment, and its usage() function or USAGE string.
function opsUsage(name) {
  const file = path.join(repoRoot, 'ops', name);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile() || !(fs.statSync(file).mode & 0o111)) return null;
  const text = fs.readFileSync(file, 'utf8');
  const head = text.split('\n').slice(1).filter((l, k, all) => all.slice(0, k + 1).every((x) => x.startsWith('#'))).join('\n');
  const usage = (text.match(/^usage\(\)\s*\{\n([\s\S]*?)\n\}/m) || text.match(/const USAGE = `([\s\S]*?)`/) || [])[1] || '';
  const flags = flagsIn(`${head}\n${usage}`);
  if (/mcpd flags/.test(head)) for (const f of realContext().mcpdFlags) flags.add(f);
  return { flags };
}

let live = null;
let cached = null;

// What the checks compare against, read from the repository and the built programs.
function realContext() {
  if (cached) return cached;
  const literals = serverLiterals();
  const all = new Set([...literals.values()].flatMap((s) => [...s]));
  const tf = (re) => new Set(walk('terraform', /\.tf$/).flatMap((f) => [...read(f).matchAll(re)].map((m) => m[1])));
  const help = (bin) => execFileSync(bin, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  cached = {
    mcpdFlags: flagsIn(help(mcpdBinary)),
    issuerFlags: flagsIn(help(path.join(path.dirname(mcpdBinary), 'mcpd-dev-issuer'))),
    opsUsage,
    tfVariables: tf(/^variable\s+"([^"]+)"/gm),
    tfOutputs: tf(/^output\s+"([^"]+)"/gm),
    serverLiterals: all,
    metricFamilies: new Set([...all].filter((s) => /^mcpd_[a-z0-9_]+$/.test(s))),
    emfMetrics: new Set([...literals].filter(([text]) => text.includes('CloudWatchMetrics')).flatMap(([, s]) => [...s])),
    async ask(body, headers) {
      live ??= startMcpd({ workers: 1 });
      const res = await fetch((await live).url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
        body,
      });
      return (await res.text()).trim();
    },
    toolExists: (name) => ['worker/tools', 'worker/tools/examples', 'tests/tools'].some((dir) => fs.existsSync(path.join(repoRoot, dir, `${name}.c`))),
    async output(command) {
      if (command !== 'ops/smoke-test') return undefined;
      // ops/smoke-test calls the reference tools: without them (see toolMissing) it has nothing to show.
      if (REFERENCE_PATTERN_TOOLS.some((t) => toolMissing(this, t))) return null;
      live ??= startMcpd({ workers: 1 });
      const url = (await live).url;
      return new Promise((resolve, reject) => {
        execFile(process.execPath, [path.join(repoRoot, 'ops/smoke-test'), '--url', url], { timeout: 60000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`ops/smoke-test failed: ${err.message}\n${stdout}${stderr}`));
          else resolve(stdout);
        });
      });
    },
  };
  return cached;
}

after(async () => {
  if (live) await (await live).stop();
});

// Names in the first cell of the tables that list variables and metrics.
function tableProblems(ctx, rel, text) {
  const kinds = {
    variable: [(n) => ctx.tfVariables.has(n), 'terraform/variables.tf declares no variable'],
    'Prometheus metric': [(n) => isMetric(ctx, n), 'mcpd exposes no metric'],
    'EMF metric': [(n) => ctx.emfMetrics.has(n), 'mcpd writes no EMF metric'],
  };
  const problems = [];
  let kind = null;
  parseMarkdown(text).prose.split('\n').forEach((line, k) => {
    const cell = line.startsWith('|') ? line.split('|')[1].trim() : null;
    if (cell === null) kind = null;
    else if (kind === null) kind = kinds[cell] || false;
    else if (kind && !/^:?-+/.test(cell)) {
      for (const [, name] of cell.matchAll(/`([^`]+)`/g)) if (!kind[0](name)) problems.push(`${rel}:${k + 1}: ${kind[1]} ${name}`);
    }
  });
  return problems;
}

const pages = () => walk('', /\.md$/);

// ---------------------------------------------------------------- Tests

test('the README shows the two commands', () => {
  const shell = parseMarkdown(read('README.md')).blocks.filter((b) => b.lang === 'sh').map((b) => b.body);
  assert.ok(shell.some((b) => /^ops\/run\s/m.test(b) && /^ops\/test\s/m.test(b)), 'no sh block shows ops/run and ops/test');
});

test('every relative link and anchor leads somewhere', () => {
  const files = pages();
  assert.ok(files.includes('README.md') && files.includes('docs/architecture.md'), `found only ${files}`);
  assert.deepEqual(files.flatMap((rel) => linkProblems(rel, read(rel))), []);
});

test('every code block is checked, and holds', async () => {
  const ctx = realContext();
  const problems = [];
  let checked = 0;
  for (const rel of pages()) {
    const text = read(rel);
    problems.push(...tableProblems(ctx, rel, text));
    for (const block of parseMarkdown(text).blocks) {
      checked++;
      for (const p of await blockProblems(ctx, block)) problems.push(`${rel}:${block.line}: the ${block.lang || 'plain'} block ${p}`);
    }
  }
  assert.ok(checked > 20, `found only ${checked} blocks: is the parser broken?`);
  assert.deepEqual(problems, []);
});

test('each check can fail', async () => {
  const ctx = realContext();
  const block = (lang, body, marker) => blockProblems(ctx, { lang, body: `${body}\n`, marker });
  const fails = async (problems, pattern) => {
    const found = await problems;
    assert.ok(found.some((p) => pattern.test(p)), `expected a problem matching ${pattern}, got ${JSON.stringify(found)}`);
  };

  // Links and anchors, and the slugs GitHub gives headings.
  assert.equal(slug('The `ops/run` command: why?'), 'the-opsrun-command-why');
  assert.deepEqual(linkProblems('docs/x.md', '# A\n[a](../README.md#add-a-tool) [b](#a) [c](https://example.com/x)\n'), []);
  assert.match(linkProblems('docs/x.md', '[a](nowhere.md)\n')[0], /no file docs\/nowhere\.md/);
  assert.match(linkProblems('docs/x.md', '[a](../README.md#no-such-heading)\n')[0], /has no heading/);
  assert.match(linkProblems('docs/x.md', '# A\n[b](#b)\n')[0], /has no heading #b/);
  assert.deepEqual(linkProblems('docs/x.md', '```\n[a](nowhere.md)\n```\n`[a](nowhere.md)`\n'), []);

  // Blocks of no kind, or of a kind nothing checks.
  await fails(block('', 'anything'), /has no language/);
  await fails(block('python', 'print(1)'), /does not know how to check/);
  await fails(block('c', 'int x;'), /does not know how to check/);
  await fails(block('text', 'a picture'), /does not know how to check/);

  // Copies of files.
  assert.deepEqual(await blockProblems(ctx, { lang: 'c', body: read('tests/tools/subtract_numbers.c'), marker: { kind: 'file', arg: 'tests/tools/subtract_numbers.c' } }), []);
  await fails(block('c', 'int x;', { kind: 'file', arg: 'tests/tools/subtract_numbers.c' }), /differs from/);
  await fails(block('c', 'int x;', { kind: 'file', arg: 'docs/examples/nothing.c' }), /does not exist/);

  // Shell: scripts, flags, programs, paths, outputs, JSON, answers.
  assert.deepEqual(await block('sh', 'ops/run --workers 4 --log-level debug\nops/deploy.sh --auto-approve -- -var log_level=debug'), []);
  await fails(block('sh', 'ops/frobnicate'), /not an executable in ops/);
  await fails(block('sh', 'ops/deploy.sh --yes'), /passes --yes to ops\/deploy\.sh/);
  await fails(block('sh', 'ops/run --frobnicate 1'), /passes --frobnicate to ops\/run/);
  await fails(block('sh', 'X=$(build/mcpd --frobnicate)'), /passes --frobnicate to build\/mcpd/);
  await fails(block('sh', 'build/mcpd-dev-issuer token .dev/issuer --frobnicate'), /passes --frobnicate/);
  await fails(block('sh', 'frob --x'), /runs frob, which this test does not know/);
  await fails(block('sh', 'timeout 5 $N x'), /runs \$N, which this block does not set/);
  await fails(block('sh', 'node tests/source/nothing.test.mjs'), /names tests\/source\/nothing\.test\.mjs/);
  await fails(block('sh', 'terraform -chdir=terraform output -raw no_such_output'), /no output no_such_output/);
  await fails(block('sh', 'aws cloudwatch get-metric-statistics --metric-name Frobs'), /no EMF metric Frobs/);
  await fails(block('sh', "curl -s http://x/mcp -d '{\"jsonrpc\":'"), /not JSON/);
  await fails(block('sh', "f() {\n  curl -d \"$1\"\n}\nf '{\"a\":1,}'"), /not JSON/);
  await fails(block('sh', '# only a comment'), /holds no command/);
  const call = `curl -s http://127.0.0.1:8000/mcp -H 'MCP-Protocol-Version: 2025-11-25' \\
  -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"sum","arguments":{"a":2,"b":2}}}'`;
  await fails(block('sh', `${call}\n# {"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"5"}],"structuredContent":{"result":5},"isError":false}}`), /mcpd answers/);
  assert.deepEqual(await block('sh', `${call}\n# {"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"4"}],"structuredContent":{"result":4},"isError":false}}`), []);
  await fails(block('sh', call.replace('"sum"', '"sun"')), /calls sun, which no file/);
  await fails(block('sh', 'npx -y @modelcontextprotocol/inspector@latest --cli http://x/mcp --tool-name sun'), /calls sun/);
  // In a fork without the reference tools, calls to them are not sent, and the smoke test is not run.
  const fork = { ...ctx, toolExists: (name) => !REFERENCE_PATTERN_TOOLS.includes(name) && ctx.toolExists(name), ask: () => assert.fail('asked') };
  fork.output = ctx.output.bind(fork);
  assert.deepEqual(await blockProblems(fork, { lang: 'sh', body: `${call.replace('"sum"', '"add_numbers"')}\n# {"wrong":1}\n` }), []);
  assert.deepEqual(await blockProblems(fork, { lang: 'text', body: 'anything\n', marker: { kind: 'output', arg: 'ops/smoke-test' } }), []);

  // JSON and log lines.
  await fails(block('json', '{"a": 1,}'), /is not JSON/);
  const logLine = { time: '2026-11-25T23:46:24.613477Z', level: 'info', role: 'worker', pid: 1, event: 'request', status: 200 };
  assert.deepEqual(await block('json', JSON.stringify(logLine)), []);
  await fails(block('json', JSON.stringify({ ...logLine, event: 'frobnicated' })), /no event frobnicated/);
  await fails(block('json', JSON.stringify({ ...logLine, frob: 1 })), /no field frob/);
  await fails(block('json', JSON.stringify({ ...logLine, level: 'loud' })), /not a log level/);

  // Terraform variables, metrics, outputs, diagrams.
  assert.deepEqual(await block('hcl', 'log_level = "debug"\ntags = {\n  Owner = "me"\n}'), []);
  await fails(block('hcl', 'log_levl = "debug"'), /log_levl, which terraform\/variables.tf does not declare/);
  await fails(block('hcl', '# nothing'), /sets no variable/);
  await fails(block('promql', 'rate(mcpd_frobs_total[5m])'), /no metric mcpd_frobs_total/);
  await fails(block('promql', 'rate(mcpd_http_requests_total[5m]'), /do not balance/);
  await fails(block('promql', 'up'), /names no mcpd metric/);
  assert.equal(unprintedLine('a\n\nc\n', 'a\nb\n\nc  \nd\n'), null);
  assert.equal(unprintedLine('a\nc\nb\n', 'a\nb\nc\n'), 'b');
  assert.equal(unprintedLine('🔧 subtract_everything: nothing\n', '🔧 add_numbers: Add two numbers together\n'), '🔧 subtract_everything: nothing');
  await fails(block('text', 'x', { kind: 'output', arg: 'ops/frobnicate' }), /cannot run/);
  await fails(block('text', '+-----+\n| ops/nothing.sh --workers |', { kind: 'diagram' }), /names ops\/nothing\.sh/);
  await fails(block('text', '+-----+\n| worker --frobs |', { kind: 'diagram' }), /passes --frobs to mcpd/);

  // Tables of variables and metrics.
  assert.match(tableProblems(ctx, 'x.md', '| variable | x |\n|---|---|\n| `log_levl` | y |\n')[0], /no variable log_levl/);
  assert.match(tableProblems(ctx, 'x.md', '| Prometheus metric | x |\n|---|---|\n| `mcpd_frobs` | y |\n')[0], /no metric mcpd_frobs/);
  assert.match(tableProblems(ctx, 'x.md', '| EMF metric | x |\n|---|---|\n| `Frobs` | y |\n')[0], /no EMF metric Frobs/);
});
