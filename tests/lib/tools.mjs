// The tools a test build serves: the three reference tools (all a release
// build has) and the test tools of tests/tools/, one file each, named after
// the tool (CMakeLists.txt builds them in with MCPD_TEST_TOOLS).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const testToolsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tools');

export const REFERENCE_TOOLS = ['add_numbers', 'greet_user', 'multiply_numbers'];
export const TEST_TOOLS = fs.readdirSync(testToolsDir)
  .filter((f) => f.endsWith('.c') && !f.endsWith('_test.c')).map((f) => f.slice(0, -2)).sort();
export const ALL_TOOLS = [...REFERENCE_TOOLS, ...TEST_TOOLS].sort();
