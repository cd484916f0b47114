// The tools a test build serves: the reference tools of worker/tools/ (all a
// release build has, and a fork may have none of them or others), the
// example tools of worker/tools/examples/ (built in with MCPD_EXAMPLE_TOOLS:
// they call the outside world, and are not reference tools) and the test
// tools of tests/tools/ (built in with MCPD_TEST_TOOLS).  Each is one file
// named after the tool; a file ending in _test.c is a tool's test, not a
// tool.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The tools defined in `dir` (relative to the repository), sorted.
export function toolsIn(dir) {
  let files;
  try {
    files = fs.readdirSync(path.join(repoRoot, dir));
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  return files.filter((f) => f.endsWith('.c') && !f.endsWith('_test.c')).map((f) => f.slice(0, -2)).sort();
}

export const REFERENCE_TOOLS = toolsIn('worker/tools');
// The tools of the reference pattern mcpd follows, by name: ops/smoke-test
// and the documentation's examples call them whether or not this tree still
// has them (a fork may have replaced them).
export const REFERENCE_PATTERN_TOOLS = ['add_numbers', 'greet_user', 'multiply_numbers'];
export const EXAMPLE_TOOLS = toolsIn('worker/tools/examples');
export const TEST_TOOLS = toolsIn('tests/tools');
export const ALL_TOOLS = [...REFERENCE_TOOLS, ...EXAMPLE_TOOLS, ...TEST_TOOLS].sort();
