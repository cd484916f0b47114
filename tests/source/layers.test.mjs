// The layers of the source tree, read from its #include lines:
//   common/      includes nothing of mcpd's other folders;
//   worker/, fetcher/, metrics/, egress/  (the roles) common/ and themselves;
//   supervisor/  common/, itself, and each role's entry header only.
// The folder libraries (CMakeLists.txt) hold the same rules at link time;
// this test names the offending line.  Every quoted include is checked: one
// without a folder must be a header the build generates, named below with
// the folder whose build writes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceFiles } from '../lib/sources.mjs';

// What each folder may include, besides itself. A role's entry header is
// the only door into it.
const ALLOWED = {
  common: [],
  worker: ['common/'],
  fetcher: ['common/'],
  metrics: ['common/'],
  egress: ['common/'],
  supervisor: ['common/', 'worker/worker.h', 'fetcher/fetcher.h', 'metrics/metrics_process.h', 'egress/egress.h'],
};

// Headers the build writes (into build/generated/, included without a
// folder), each with the folder it belongs to: worker/tool_registry.cmake
// lists the tools for the worker's registry.
const GENERATED = {
  'tool_files.h': 'worker/',
};

// The include as the layers see it: a generated header stands for a file
// of the folder that owns it; any other include without a folder is an
// error of its own.
function resolved(target) {
  if (target.includes('/')) return target;
  return GENERATED[target] !== undefined ? GENERATED[target] + target : null;
}

// Includes that run against the layers: "file:line: includes X".
export function backEdges(files) {
  const edges = [];
  for (const { rel, text } of files) {
    const folder = rel.split('/')[0];
    text.split('\n').forEach((line, i) => {
      const m = line.match(/^\s*#\s*include\s+"([^"]+)"/);
      if (!m) return;
      const target = resolved(m[1]);
      if (target === null) {
        edges.push(`${rel}:${i + 1}: includes ${m[1]}, which has no folder and is not a generated header`);
        return;
      }
      // A folder's own files are always fine.
      if (target.startsWith(`${folder}/`)) return;
      const ok = ALLOWED[folder].some((a) => (a.endsWith('/') ? target.startsWith(a) : target === a));
      if (!ok) edges.push(`${rel}:${i + 1}: includes ${m[1]}`);
    });
  }
  return edges;
}

test('no include runs against the layers', () => {
  const files = sourceFiles();
  assert.ok(files.length > 50, `found only ${files.length} source files: is the walk broken?`);
  assert.deepEqual(backEdges(files), []);
});

test('the check finds each kind of back-edge', () => {
  const fake = [
    { rel: 'common/a.c', text: '#include "common/b.h"\n#include "worker/worker.h"\n#include "tool_files.h"\n' +
      '#include "b.h"\n' },
    { rel: 'worker/b.c', text: '#include "tool_files.h"\n#include "config.h"\n' },
    { rel: 'worker/a.c', text: '#include "supervisor/proctab.h"\n#include "fetcher/jwk.h"\n#include "common/log.h"\n' },
    { rel: 'fetcher/a.c', text: ' # include "worker/seccomp.h"\n#include "tool_files.h"\n' },
    { rel: 'metrics/a.c', text: '#include "common/framing.h"\n#include "worker/http.h"\n#include "metrics/scrape.h"\n' },
    { rel: 'egress/a.c', text: '#include "common/fail.h"\n#include "egress/sigv4.h"\n#include "fetcher/jwk.h"\n' },
    { rel: 'supervisor/a.c', text: '#include "worker/worker.h"\n#include "worker/auth.h"\n#include "fetcher/fetcher.h"\n' +
      '#include "metrics/metrics_process.h"\n#include "metrics/scrape.h"\n' },
  ];
  assert.deepEqual(backEdges(fake), [
    'common/a.c:2: includes worker/worker.h',
    'common/a.c:3: includes tool_files.h',
    'common/a.c:4: includes b.h, which has no folder and is not a generated header',
    'worker/b.c:2: includes config.h, which has no folder and is not a generated header',
    'worker/a.c:1: includes supervisor/proctab.h',
    'worker/a.c:2: includes fetcher/jwk.h',
    'fetcher/a.c:1: includes worker/seccomp.h',
    'fetcher/a.c:2: includes tool_files.h',
    'metrics/a.c:2: includes worker/http.h',
    'egress/a.c:3: includes fetcher/jwk.h',
    'supervisor/a.c:2: includes worker/auth.h',
    'supervisor/a.c:5: includes metrics/scrape.h',
  ]);
});
