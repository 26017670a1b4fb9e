/**
 * supergraph.yaml (rover's format) must name every subgraph's schema file, the files must compose, and the
 * committed supergraph.graphql must be exactly what they compose to: change a subgraph schema without
 * running `npm run supergraph` and this fails.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { checkSupergraph, composeSupergraph, readSupergraphConfig, REPO_ROOT } from '../scripts/supergraph';

const ROOT = resolve(__dirname, '..');

describe('supergraph', () => {
  const config = readSupergraphConfig();

  it('lists every subgraph workspace with the schema file its server loads', () => {
    const workspaces = readdirSync(join(ROOT, 'subgraphs')).filter((d) => existsSync(join(ROOT, 'subgraphs', d, 'package.json')));
    expect(config.subgraphs.map((s) => s.name).sort()).toEqual(workspaces.sort());
    expect(readFileSync(join(ROOT, 'packages/common/src/subgraph-service.ts'), 'utf8')).toMatch(/readTypeDefs = \(dir: string\).*join\(dir, 'schema\.graphql'\)/);
    for (const s of config.subgraphs) {
      expect(relative(REPO_ROOT, s.schemaFile)).toBe(join('subgraphs', s.name, 'src', 'schema.graphql'));
      // the server reads this very file (next to its sources), so the SDL it serves is the one composed here
      const src = readdirSync(join(ROOT, 'subgraphs', s.name, 'src'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(ROOT, 'subgraphs', s.name, 'src', f), 'utf8'))
        .join('\n');
      // (through startSubgraphService's readTypeDefs, which reads schema.graphql in the given folder)
      expect(src).toMatch(/readTypeDefs\(__dirname\)/);
    }
  });

  it('pins the federation version that is installed', () => {
    const installed = (require('@apollo/composition/package.json') as { version: string }).version;
    expect(config.federationVersion).toBe(`=${installed}`);
  });

  it('composes the subgraph schema files without errors', () => {
    const sdl = composeSupergraph(config);
    for (const s of config.subgraphs) expect(sdl).toContain(`@join__graph(name: "${s.name}", url: "${s.routingUrl}")`);
  });

  it('matches the committed supergraph.graphql (run `npm run supergraph` after changing a schema)', () => {
    const { upToDate, expected, actual } = checkSupergraph(undefined, config);
    if (!upToDate) expect(actual).toBe(expected); // shows the diff
    expect(upToDate).toBe(true);
  });
});
