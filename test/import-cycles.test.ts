import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importCycles, unresolvedImports } from './lib/import-cycles';

const ROOT = resolve(__dirname, '..');
const workspaces: string[] = require(join(ROOT, 'package.json')).workspaces;
const DIRS = [...workspaces.map((w) => `${w}/src`), 'bench', 'scripts'];

describe('import cycles', () => {
  it('none in any workspace src/, bench/ or scripts/ (type-only imports count)', () => {
    expect(importCycles(ROOT, DIRS)).toEqual([]);
  });

  it('sees every import of our own code (an import it cannot resolve would hide a cycle)', () => {
    expect(unresolvedImports(ROOT, DIRS)).toEqual([]);
  });

  describe('the checker', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cycles-'));
      mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const write = (files: Record<string, string>) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'src', name), text);
    };

    it('finds a cycle closed by a type-only import', () => {
      write({
        'a.ts': "import { b } from './sub/b';\nexport const a = b + 1;\n",
        'sub/b.ts': "import type { C } from '../c';\nexport const b: C = 1;\n",
        'c.ts': "import type { A } from './a';\nexport type C = number;\nexport type D = A;\n",
      });
      expect(importCycles(dir, ['src'])).toEqual([['src/a.ts', 'src/c.ts', 'src/sub/b.ts']]);
    });

    it('finds cycles through re-exports, import() types and require()', () => {
      write({
        'a.ts': "export * from './b';\n",
        'b.ts': "export type X = import('./a').Y;\nexport type Y = 1;\n",
        'c.ts': "const d = require('./d');\nexport const c = d;\n",
        'd.ts': "export const d = () => import('./c');\n",
      });
      expect(importCycles(dir, ['src'])).toEqual(expect.arrayContaining([['src/a.ts', 'src/b.ts'], ['src/c.ts', 'src/d.ts']]));
    });

    it('reports an import of our own code it cannot resolve', () => {
      write({ 'a.ts': "import { b } from './missing';\nimport './a.css';\nexport const a = b;\n" });
      expect(unresolvedImports(dir, ['src'])).toEqual(['src/a.ts: ./missing']);
    });

    it('accepts a graph without cycles', () => {
      write({ 'a.ts': "import type { B } from './b';\nexport const a: B = 1;\n", 'b.ts': 'export type B = number;\n' });
      expect(importCycles(dir, ['src'])).toEqual([]);
    });
  });
});
