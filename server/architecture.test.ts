// The layering the folders promise, checked over the static import graph. Type-only imports count
// as much as value imports: they vanish at runtime, but a reader following them still goes round
// in circles, and the point is code that can be read from the bottom up.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type * as TypeScript from 'typescript';

// Required, not imported: as an ES module import, Node first scans all 9 MB of it for export names,
// which takes longer than everything else in this file together.
const ts: typeof TypeScript = createRequire(import.meta.url)('typescript');

const LAYERS = ['shared', 'server', 'web', 'e2e'];

const FORBIDDEN_ARROWS = [
  { from: 'shared/', to: ['server/', 'web/', 'e2e/'], why: 'shared/ must run in Node and in browsers alike' },
  { from: 'web/', to: ['server/'], why: 'the web app is built for browsers and reaches the server over HTTP only' },
  { from: 'server/', to: ['e2e/'], why: 'the server must not depend on browser tests' },
];

/** node:test runs every *.test.ts, so a shared test may use its harness and still need nothing else from Node. */
const TEST_HARNESS = new Set(['node:test', 'node:assert', 'node:assert/strict']);

interface Import {
  specifier: string;
  /** The file a relative specifier names, as a repo path; absent for packages and for names of no file. */
  target?: string;
}

/** Every .ts file under the layers, by repo path with '/' separators, with what it imports. */
type ImportGraph = Map<string, Import[]>;

function readImportGraph(root: string): ImportGraph {
  const repoPath = (path: string) => relative(root, path).split(sep).join('/');
  const graph: ImportGraph = new Map();
  for (const file of LAYERS.flatMap((layer) => tsFiles(join(root, layer)))) {
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true).importedFiles.map(({ fileName: specifier }): Import => {
      if (!specifier.startsWith('.')) return { specifier };
      const path = resolve(dirname(file), specifier);
      return existsSync(path) && statSync(path).isFile() ? { specifier, target: repoPath(path) } : { specifier };
    });
    graph.set(repoPath(file), imports);
  }
  return graph;
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * One line per cycle, as the path round it. Every import that lies on some cycle appears in at
 * least one line, closed by the shortest way back, so each line shows an arrow worth cutting.
 */
function cycleProblems(graph: ImportGraph): string[] {
  const edges = new Map<string, string[]>();
  for (const [file, imports] of graph) {
    edges.set(file, [...new Set(imports.flatMap(({ target }) => (target && graph.has(target) ? [target] : [])))]);
  }
  const cycles = new Set<string>();
  for (const [file, targets] of edges) {
    for (const target of targets) {
      const ring = shortestPath(edges, target, file);
      if (!ring) continue;
      // Starting each ring at its alphabetically first file makes the same cycle found from another arrow read the same.
      const start = ring.indexOf([...ring].sort()[0]);
      const rotated = [...ring.slice(start), ...ring.slice(0, start)];
      cycles.add(`import cycle: ${[...rotated, rotated[0]].join(' → ')}`);
    }
  }
  return [...cycles].sort();
}

function shortestPath(edges: Map<string, string[]>, from: string, to: string): string[] | undefined {
  const cameFrom = new Map([[from, from]]);
  const queue = [from];
  for (const file of queue) {
    if (file === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(cameFrom.get(path[0])!);
      return path;
    }
    for (const next of edges.get(file) ?? []) {
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, file);
      queue.push(next);
    }
  }
  return undefined;
}

function layerProblems(graph: ImportGraph): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    for (const { specifier, target } of imports) {
      const says = `${file} imports ${specifier}`;
      if (specifier.startsWith('.') && !target) problems.push(`${says}, which is no file`);
      for (const arrow of FORBIDDEN_ARROWS) {
        if (target && file.startsWith(arrow.from) && arrow.to.some((layer) => target.startsWith(layer))) problems.push(`${says}: ${arrow.why}`);
      }
      if (!file.startsWith('shared/') || !(isBuiltin(specifier) || specifier === 'ws' || specifier.startsWith('ws/'))) continue;
      if (!file.endsWith('.test.ts')) problems.push(`${says}: shared/ must run in browsers too`);
      else if (!TEST_HARNESS.has(specifier)) problems.push(`${says}: a test that needs Node APIs belongs outside shared/`);
    }
  }
  return problems.sort();
}

function withFixture(files: Record<string, string>, check: (graph: ImportGraph) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'shoal-architecture-'));
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    check(readImportGraph(root));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const repo = readImportGraph(fileURLToPath(new URL('..', import.meta.url)));

test('no file in shared/, server/, web/ or e2e/ reaches itself through its imports', () => {
  assert.deepEqual(cycleProblems(repo), []);
});

test('each layer imports only what the layering allows it', () => {
  assert.deepEqual(layerProblems(repo), []);
});

test('a layered tree passes, whatever kind of import it uses', () => {
  withFixture(
    {
      'shared/errors.ts': 'export class ShoalError extends Error {}',
      'shared/protocol.ts': "import { ShoalError } from './errors.ts';\nexport const fail = () => new ShoalError();",
      'shared/protocol.test.ts': "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { fail } from './protocol.ts';",
      'server/gateway/start.ts': "import type { ShoalError } from '../../shared/errors.ts';\nimport { WebSocketServer } from 'ws';\nimport './polyfill.ts';",
      'server/gateway/polyfill.ts': "export * from '../../shared/protocol.ts';",
      'web/src/main.ts': "import { LitElement } from 'lit';\nconst page = () => import('./page.ts');",
      'web/src/page.ts': "export { fail } from '../../shared/protocol.ts';",
      'e2e/cluster.spec.ts': "import { start } from '../server/gateway/start.ts';\nimport { main } from '../web/src/main.ts';",
    },
    (graph) => {
      assert.deepEqual(cycleProblems(graph), []);
      assert.deepEqual(layerProblems(graph), []);
    },
  );
});

test('each cycle is reported once, as the path round it, whichever kind of import closes it', () => {
  withFixture(
    {
      'server/a.ts': "import type { B } from './b.ts';",
      'server/b.ts': "export * from './a.ts';\nimport { c } from './c.ts';",
      'server/c.ts': "const d = () => import('./d.ts');",
      'server/d.ts': "import './c.ts';",
      'server/self.ts': "export { x } from './self.ts';",
      'server/leaf.ts': "import { a } from './a.ts';",
      'server/strings.ts': "const text = \"import { leaf } from './strings.ts'\"; // import './strings.ts'",
    },
    (graph) =>
      assert.deepEqual(cycleProblems(graph), [
        'import cycle: server/a.ts → server/b.ts → server/a.ts',
        'import cycle: server/c.ts → server/d.ts → server/c.ts',
        'import cycle: server/self.ts → server/self.ts',
      ]),
  );
});

test('arrows across layers that the layering forbids are reported with the reason', () => {
  withFixture(
    {
      'shared/store.ts': "import { readFile } from 'node:fs/promises';\nimport type { WebSocket } from 'ws';\nimport { join } from 'path';\nimport { Gateway } from '../server/gateway.ts';",
      'shared/store.test.ts': "import { test } from 'node:test';\nimport { tmpdir } from 'node:os';",
      'server/gateway.ts': "import { page } from '../e2e/page.ts';\nimport { gone } from './gone.ts';",
      'web/src/main.ts': "import type { Gateway } from '../../server/gateway.ts';",
      'e2e/page.ts': 'export const page = 1;',
    },
    (graph) =>
      assert.deepEqual(layerProblems(graph), [
        'server/gateway.ts imports ../e2e/page.ts: the server must not depend on browser tests',
        'server/gateway.ts imports ./gone.ts, which is no file',
        'shared/store.test.ts imports node:os: a test that needs Node APIs belongs outside shared/',
        'shared/store.ts imports ../server/gateway.ts: shared/ must run in Node and in browsers alike',
        'shared/store.ts imports node:fs/promises: shared/ must run in browsers too',
        'shared/store.ts imports path: shared/ must run in browsers too',
        'shared/store.ts imports ws: shared/ must run in browsers too',
        'web/src/main.ts imports ../../server/gateway.ts: the web app is built for browsers and reaches the server over HTTP only',
      ]),
  );
});
