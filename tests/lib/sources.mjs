// mcpd's C sources, for the tests that read the tree itself (tests/source/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The folders the server is built from, one per layer.
export const FOLDERS = ['common', 'worker', 'fetcher', 'metrics', 'egress', 'supervisor'];

// Every file under `folders` whose name matches `pattern` (subfolders
// included), as { rel, text } with rel relative to the repository.  A
// tool's own test (worker/tools/<tool>_test.c) is a test, not a source.
export function sourceFiles(pattern = /\.[ch]$/, folders = FOLDERS) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (pattern.test(entry.name) && !entry.name.endsWith('_test.c')) found.push({ rel, text: fs.readFileSync(path.join(repoRoot, rel), 'utf8') });
    }
  };
  for (const folder of folders) walk(folder);
  return found.sort((a, b) => a.rel.localeCompare(b.rel));
}
