// Every .c file says on its first line which process runs it, and where it
// matters whether before or after that process enters its sandbox:
//   /* Runs in: workers, after the sandbox. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceFiles } from '../lib/sources.mjs';

const HEAD = /^\/\* Runs in: (.+?)\.(?: See [a-z_]+\.h\.)? \*\/$/;
// The processes mcpd has; a head names at least one of them.
const PROCESS = /\b(supervisor|workers?|fetcher|metrics process|egress process|every (process|child))\b/;

// What is wrong with a file's first line, or null when it is right.
export function headProblem(text) {
  const first = text.split('\n')[0];
  const m = first.match(HEAD);
  if (!m) return `first line is not "/* Runs in: <process>[, when]. */": ${JSON.stringify(first.slice(0, 80))}`;
  if (!PROCESS.test(m[1])) return `"${m[1]}" names no process (supervisor, workers, fetcher, metrics process, egress process, every process)`;
  if (first.length > 100) return `first line is ${first.length} characters (at most 100)`;
  return null;
}

test('every .c file opens with the process that runs it', () => {
  // The test tools too: the documented example is one of them, checked as printed.
  const files = [...sourceFiles(/\.c$/), ...sourceFiles(/\.c$/, ['tests/tools'])];
  assert.ok(files.length > 40, `found only ${files.length} .c files: is the walk broken?`);
  const problems = files.map((f) => [f.rel, headProblem(f.text)]).filter(([, p]) => p).map(([rel, p]) => `${rel}: ${p}`);
  assert.deepEqual(problems, []);
});

test('the check refuses a missing, vague or misplaced head', () => {
  assert.equal(headProblem('/* Runs in: workers, after the sandbox. */\n#include "x.h"\n'), null);
  assert.equal(headProblem('/* Runs in: the supervisor. See report.h. */\n'), null);
  assert.match(headProblem('#define _GNU_SOURCE\n/* Runs in: workers. */\n'), /first line/);
  assert.match(headProblem('/*\n * Runs in: workers.\n */\n'), /first line/);
  assert.match(headProblem('/* Runs in: somewhere. */\n'), /names no process/);
  assert.match(headProblem('/* runs in workers */\n'), /first line/);
});
