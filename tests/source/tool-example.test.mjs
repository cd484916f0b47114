// The example in worker/tool.h is the file tests/tools/subtract_numbers.c
// as printed (less its two comment lines, which a comment cannot hold), so
// the documented example is a tool that compiles, is served in test builds,
// passes its own test beside it and every source check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/sources.mjs';

const read = (rel) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');

// The code of the example in a header comment: from the #include line to
// the closing ");", with the comment's " *     " margin taken off and each
// 8-space indent turned back into the tab it stands for.
export function exampleInComment(header) {
  const lines = header.split('\n');
  const first = lines.findIndex((l) => l === ' *     #include "worker/tool.h"');
  const last = lines.findIndex((l, i) => i > first && l === ' *     );');
  if (first < 0 || last < 0) return null;
  return lines.slice(first, last + 1)
    .map((l) => (l === ' *' ? '' : l.replace(/^ \* {5}/, '')))
    .map((l) => l.replace(/^( {8})+/, (m) => '\t'.repeat(m.length / 8)))
    .join('\n') + '\n';
}

// The file without its leading comment lines.
export function codeOf(file) {
  const lines = file.split('\n');
  let i = 0;
  while (lines[i].startsWith('/*')) i++;
  return lines.slice(i).join('\n');
}

test('the example in worker/tool.h is tests/tools/subtract_numbers.c', () => {
  const example = exampleInComment(read('worker/tool.h'));
  assert.ok(example, 'worker/tool.h has no example from #include "worker/tool.h" to ");"');
  assert.equal(example, codeOf(read('tests/tools/subtract_numbers.c')));
});

test('the comparison sees a change in the example', () => {
  const header = read('worker/tool.h');
  const changed = header.replace('mcpd_arg_integer(call, "b")', 'mcpd_arg_integer(call, "c")');
  assert.notEqual(changed, header);
  assert.notEqual(exampleInComment(changed), codeOf(read('tests/tools/subtract_numbers.c')));
  assert.equal(exampleInComment('/* nothing */'), null);
});
