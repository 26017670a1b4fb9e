import { readdirSync, realpathSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * The project's import graph as the TypeScript compiler sees it, type-only imports included: a cycle
 * made only of `import type` still ties two modules' designs together, so it counts.
 */

const SOURCE = /\.(ts|tsx|mts|cts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'results', '.stryker-tmp']);

/** Every TypeScript source file under `dir` (declaration files and dependency folders left out). */
export function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...sourceFiles(path));
    } else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(realpathSync(path));
  }
  return out;
}

/** Module specifiers a file names: imports and re-exports (type-only too), `import()`, `require()` and `import('x').T` types. */
export function specifiersOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) out.push(node.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) literal(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamic = callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require');
      if (dynamic) literal(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

// Bundler resolution follows extensionless relative paths, package `exports` and `main` alike, so one
// setting resolves the Node workspaces and the Vite app.
const RESOLUTION: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  noEmit: true,
};

const resolve = (spec: string, file: string) => ts.resolveModuleName(spec, file, RESOLUTION, ts.sys).resolvedModule?.resolvedFileName;

/** Assets a bundler loads (styles, images): not modules, so not in the graph. */
const ASSET = /\.(css|svg|png|jpe?g|webp|woff2?)$/;

/**
 * The project's own imports (relative or `@dream/...`) that do not resolve: each would be an edge
 * missing from the graph, and a cycle through it would go unseen.
 */
export function unresolvedImports(root: string, dirs: string[]): string[] {
  const realRoot = realpathSync(root);
  const out: string[] = [];
  for (const file of dirs.flatMap((d) => sourceFiles(join(root, d)))) {
    for (const spec of specifiersOf(file)) {
      const own = spec.startsWith('.') || spec.startsWith('@dream/');
      if (own && !ASSET.test(spec) && !resolve(spec, file)) out.push(`${relative(realRoot, file)}: ${spec}`);
    }
  }
  return out;
}

/** file → the files among `files` it imports (workspace packages resolved through their symlinks). */
export function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = new Set<string>();
    for (const spec of specifiersOf(file)) {
      const resolved = resolve(spec, file);
      if (!resolved) continue;
      const real = realpathSync(resolved);
      if (known.has(real)) targets.add(real);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Strongly connected components of more than one module, or one that imports itself (Tarjan). */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return cycles;
}

/** The cycles among the files under `dirs`, each as paths relative to `root`. */
export function importCycles(root: string, dirs: string[]): string[][] {
  const files = dirs.flatMap((d) => sourceFiles(join(root, d)));
  const realRoot = realpathSync(root);
  return cyclesOf(importGraph(files)).map((c) => c.map((f) => relative(realRoot, f)));
}
