// The Docker build context as .dockerignore defines it, computed without
// Docker. Only the pattern forms the file uses are supported (a lone "*",
// and literal paths, negated or not, with an optional trailing "/"), and
// anything else is refused, so the simulation cannot silently differ from
// Docker's own matching.
import fs from 'node:fs';
import path from 'node:path';

export function dockerignoreRules(root) {
  const rules = [];
  for (const raw of fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/\/+$/, '');
    if (pattern !== '*' && !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(pattern)) {
      throw new Error(`.dockerignore pattern ${JSON.stringify(line)} is not one tests/deploy/context.mjs can simulate`);
    }
    rules.push({ negate, pattern });
  }
  return rules;
}

// Docker's rule: the last pattern that matches a path (or one of its parent
// folders) decides whether it is excluded.
function excluded(rel, rules) {
  let out = false;
  for (const { negate, pattern } of rules) {
    // "*" matches every top-level name, hence (through its folder) everything.
    const match = pattern === '*' || rel === pattern || rel.startsWith(`${pattern}/`);
    if (match) out = !negate;
  }
  return out;
}

// Relative paths of the regular files in the build context of root.
export function buildContextFiles(root) {
  const rules = dockerignoreRules(root);
  const files = [];
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(r);
      else if (entry.isFile() && !excluded(r, rules)) files.push(r);
    }
  };
  walk('');
  return files.sort();
}
